import { AUDIT_DIR } from "../contract/audit-devices";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { StatefulSetV1 } from "@cdktf/provider-kubernetes/lib/stateful-set-v1";
import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { SIDECAR_HTTP_PORT, VAULT_API_PORT, VAULT_CLUSTER_PORT } from "../contract/ports";
import { caOnlyVolume, onDedicatedPool, RESTRICTED_CONTAINER, type NodePlacement } from "./dedicated-pool-pod";
import type { DistributionProfile } from "./vault-distribution";
import { VAULT_POD_LABELS, VAULT_SERVICES, VAULT_STATEFULSET } from "./vault-naming";
import { reloadingServerCommand } from "./vault-server-command";

export type { NodePlacement } from "./dedicated-pool-pod";

export interface ContainerResources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

export interface VaultStatefulSetProps {
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly image: string;
  readonly distribution: DistributionProfile;
  /** An odd number with Raft. */
  readonly replicas: number;
  /** The rendered server configuration (HCL). */
  readonly serverConfig: string;
  /** Policy files (name -> HCL) the bootstrap sidecar writes into Vault. */
  readonly policies: Readonly<Record<string, string>>;
  /** What the stacks declare about access to Vault (JSON), for the sidecar's verifier. */
  readonly declaredAccessJson: string;
  /** The kubernetes.io/tls secret with tls.crt, tls.key and ca.crt. */
  readonly tlsSecretName: string;
  readonly placement: NodePlacement;
  readonly storageClassName: string;
  readonly bootstrapImage: string;
  /** Environment of the bootstrap sidecar (plain values; it holds no secret). */
  readonly bootstrapEnv: Readonly<Record<string, string>>;
  /** The sidecar's local HTTP port (health, state, metrics). @default SIDECAR_HTTP_PORT (8210) */
  readonly bootstrapHttpPort?: number;
  /** Raft data disk per pod. */
  readonly dataVolumeSizeGb: number;
  /** Audit log disk per pod. */
  readonly auditVolumeSizeGb: number;
  /** Requests and limits of the Vault container. */
  readonly resources: ContainerResources;
  /** Delay before SIGTERM so load balancers and endpoints drop the pod first. */
  readonly preStopDelaySec: number;
  /** Must cover the preStop delay plus step-down. */
  readonly terminationGracePeriodSec: number;
}

/** Where things are mounted in the Vault and sidecar containers. */
/** The file beside the policies that holds the declared access (config/declared-access.ts). */
export const DECLARED_ACCESS_FILE = "declared-access.json";

/** Seconds the sidecar keeps for itself before the kubelet's SIGKILL, so its last store attempt and exit line fit. */
export const SIDECAR_STOP_MARGIN_SEC = 5;

export const VAULT_PATHS = {
  config: "/vault/config",
  tls: "/vault/tls",
  data: "/vault/data",
  audit: AUDIT_DIR,
  policies: "/vault/policies",
  /** The sidecar mounts only the CA of the TLS secret here (never the server key). */
  ca: "/vault/ca",
  tmp: "/tmp",
} as const;

/** The TLS secret's files Vault reads; a change to any of them reloads the listener. */
export const TLS_FILES = ["tls.crt", "tls.key", "ca.crt"] as const;
/** How often Vault's container compares them (the kubelet refreshes a mounted secret within about a minute). */
export const TLS_RELOAD_CHECK_SEC = 10;

const HEALTH_READY = "/v1/sys/health?standbyok=true";
// Liveness must not kill a pod that waits to be unsealed or initialized.
const HEALTH_LIVE = "/v1/sys/health?standbyok=true&perfstandbyok=true&sealedcode=204&uninitcode=204";

/**
 * The Vault servers: one per node of the dedicated pool (required hostname
 * anti-affinity), spread evenly across zones, Parallel start so Raft peers
 * find each other, OnDelete updates (an operator replaces standbys first and
 * the active pod last, see README), a Retain-policy disk per pod, a preStop
 * delay, and the bootstrap sidecar.
 */
export class VaultStatefulSet extends Construct {
  readonly statefulSet: StatefulSetV1;

  constructor(scope: Construct, id: string, props: VaultStatefulSetProps) {
    super(scope, id);
    if (!Number.isInteger(props.replicas) || props.replicas < 1) {
      throw new Error(`replicas must be a whole number of at least 1, got ${props.replicas}`);
    }
    const preStop = props.preStopDelaySec;
    const grace = props.terminationGracePeriodSec;
    if (grace < preStop + 10) {
      throw new Error(`terminationGracePeriodSec (${grace}) must cover preStopDelaySec (${preStop}) plus 10 s for step-down; raise it to ${preStop + 10}`);
    }
    const res = props.resources;
    const p = props.distribution.envPrefix;

    const config = new ConfigMapV1(this, "config", {
      metadata: { name: "vault-config", namespace: props.namespace },
      data: { "vault.hcl": props.serverConfig },
    });
    const policyMap = new ConfigMapV1(this, "policies", {
      metadata: { name: "vault-policies", namespace: props.namespace },
      data: {
        ...Object.fromEntries(Object.entries(props.policies).map(([name, hcl]) => [`${name}.hcl`, hcl])),
        [DECLARED_ACCESS_FILE]: props.declaredAccessJson,
      },
    });
    // OnDelete updates do not restart pods; the hash shows a config change in the plan
    // and tells the operator which pods still run the old configuration.
    const configHash = createHash("sha256")
      .update(props.serverConfig)
      .update(JSON.stringify(props.policies))
      .update(props.declaredAccessJson)
      .digest("hex")
      .slice(0, 16);
    const httpPort = props.bootstrapHttpPort ?? SIDECAR_HTTP_PORT;

    const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const podHost = `$(${p}_K8S_POD_NAME).${VAULT_SERVICES.internal}.$(${p}_K8S_NAMESPACE).svc.cluster.local`;
    const mount = (name: string, mountPath: string, readOnly = false) => ({ name, mountPath, readOnly });

    this.statefulSet = new StatefulSetV1(this, "stateful-set", {
      metadata: { name: VAULT_STATEFULSET, namespace: props.namespace, labels: { ...VAULT_POD_LABELS } },
      waitForRollout: false,
      spec: {
        replicas: String(props.replicas),
        serviceName: VAULT_SERVICES.internal,
        podManagementPolicy: "Parallel",
        updateStrategy: [{ type: "OnDelete" }],
        persistentVolumeClaimRetentionPolicy: [{ whenDeleted: "Retain", whenScaled: "Retain" }],
        selector: { matchLabels: { ...VAULT_POD_LABELS } },
        template: {
          metadata: { labels: { ...VAULT_POD_LABELS }, annotations: { "vault-gke/config-sha256": configHash } },
          spec: {
            serviceAccountName: props.serviceAccountName,
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: grace,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: "100",
              runAsGroup: "1000",
              fsGroup: "1000",
              fsGroupChangePolicy: "OnRootMismatch",
              seccompProfile: { type: "RuntimeDefault" },
            },
            ...onDedicatedPool(props.placement),
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: [{ matchLabels: { ...VAULT_POD_LABELS } }], topologyKey: "kubernetes.io/hostname" },
                ],
              },
            },
            topologySpreadConstraint: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: [{ matchLabels: { ...VAULT_POD_LABELS } }],
              },
            ],
            container: [
              {
                name: "vault",
                image: props.image,
                imagePullPolicy: "IfNotPresent",
                // The server, and a watcher that reloads its certificate when the mounted secret changes.
                command: reloadingServerCommand({
                  binary: props.distribution.binary,
                  configFile: `${VAULT_PATHS.config}/vault.hcl`,
                  watchedFiles: TLS_FILES.map((f) => `${VAULT_PATHS.tls}/${f}`),
                  intervalSec: TLS_RELOAD_CHECK_SEC,
                }),
                env: [
                  fieldRef(`${p}_K8S_POD_NAME`, "metadata.name"),
                  fieldRef(`${p}_K8S_NAMESPACE`, "metadata.namespace"),
                  { name: `${p}_API_ADDR`, value: `https://${podHost}:${VAULT_API_PORT}` },
                  { name: `${p}_CLUSTER_ADDR`, value: `https://${podHost}:${VAULT_CLUSTER_PORT}` },
                  { name: `${p}_RAFT_NODE_ID`, value: `$(${p}_K8S_POD_NAME)` },
                  // For the CLI inside the container (kubectl exec): talk TLS to the local server.
                  { name: `${p}_ADDR`, value: `https://127.0.0.1:${VAULT_API_PORT}` },
                  { name: `${p}_CACERT`, value: `${VAULT_PATHS.tls}/ca.crt` },
                  { name: "SKIP_SETCAP", value: "true" },
                  { name: "HOME", value: VAULT_PATHS.tmp },
                ],
                port: [
                  { name: "https", containerPort: VAULT_API_PORT },
                  { name: "https-internal", containerPort: VAULT_CLUSTER_PORT },
                ],
                readinessProbe: {
                  httpGet: { path: HEALTH_READY, port: String(VAULT_API_PORT), scheme: "HTTPS" },
                  periodSeconds: 5,
                  timeoutSeconds: 3,
                  failureThreshold: 2,
                  successThreshold: 1,
                },
                livenessProbe: {
                  httpGet: { path: HEALTH_LIVE, port: String(VAULT_API_PORT), scheme: "HTTPS" },
                  initialDelaySeconds: 60,
                  periodSeconds: 10,
                  timeoutSeconds: 3,
                  failureThreshold: 6,
                },
                lifecycle: { preStop: [{ exec: { command: ["/bin/sh", "-c", `sleep ${preStop}`] } }] },
                resources: {
                  requests: { cpu: res.cpuRequest, memory: res.memoryRequest },
                  limits: { cpu: res.cpuLimit, memory: res.memoryLimit },
                },
                securityContext: RESTRICTED_CONTAINER,
                volumeMount: [
                  mount("config", VAULT_PATHS.config, true),
                  mount("tls", VAULT_PATHS.tls, true),
                  mount("data", VAULT_PATHS.data),
                  mount("audit", VAULT_PATHS.audit),
                  mount("tmp", VAULT_PATHS.tmp),
                ],
              },
              {
                name: "bootstrap",
                image: props.bootstrapImage,
                imagePullPolicy: "IfNotPresent",
                env: [
                  fieldRef("POD_NAME", "metadata.name"),
                  ...Object.entries(props.bootstrapEnv).map(([name, value]) => ({ name, value })),
                  { name: "HTTP_PORT", value: String(httpPort) },
                  // Its last attempt to store keys must end before the kubelet's SIGKILL.
                  { name: "STOP_GRACE_MS", value: String((grace - SIDECAR_STOP_MARGIN_SEC) * 1000) },
                  // The heap stays well under the memory limit: the sidecar must never be OOM-killed.
                  // This replaces the image's NODE_OPTIONS, so it repeats --enable-source-maps.
                  { name: "NODE_OPTIONS", value: "--enable-source-maps --max-old-space-size=160" },
                ],
                port: [{ name: "bootstrap-http", containerPort: httpPort }],
                // The sidecar never exits on a diagnosis (only on SIGTERM), and it never gates the
                // pod's readiness on Vault's state (Vault's own probe does): readiness says its
                // endpoint answers, liveness that its loop still turns.
                readinessProbe: {
                  httpGet: { path: "/readyz", port: String(httpPort), scheme: "HTTP" },
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  httpGet: { path: "/livez", port: String(httpPort), scheme: "HTTP" },
                  initialDelaySeconds: 10,
                  periodSeconds: 15,
                  timeoutSeconds: 2,
                  failureThreshold: 4,
                },
                resources: { requests: { cpu: "10m", memory: "96Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
                securityContext: RESTRICTED_CONTAINER,
                volumeMount: [mount("ca", VAULT_PATHS.ca, true), mount("policies", VAULT_PATHS.policies, true)],
              },
            ],
            volume: [
              { name: "config", configMap: { name: config.metadata.name, defaultMode: "0440" } },
              { name: "policies", configMap: { name: policyMap.metadata.name, defaultMode: "0440" } },
              { name: "tls", secret: { secretName: props.tlsSecretName, defaultMode: "0440" } },
              // The sidecar's view of the TLS secret: the CA only, never the server's private key.
              caOnlyVolume("ca", props.tlsSecretName),
              { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
            ],
          },
        },
        volumeClaimTemplate: [
          this.claim("data", props.storageClassName, props.dataVolumeSizeGb),
          this.claim("audit", props.storageClassName, props.auditVolumeSizeGb),
        ],
      },
    });
  }

  private claim(name: string, storageClassName: string, sizeGb: number) {
    return {
      metadata: { name },
      spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: `${sizeGb}Gi` } } },
    };
  }
}
