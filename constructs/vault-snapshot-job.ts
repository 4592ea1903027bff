import { CronJobV1 } from "@cdktf/provider-kubernetes/lib/cron-job-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";
import { AUTH_PATHS, SNAPSHOT_ROLE } from "../contract/vault-names";
import { caOnlyVolume, onDedicatedPool, RESTRICTED_CONTAINER, type NodePlacement } from "./dedicated-pool-pod";

export interface VaultSnapshotJobProps {
  readonly namespace: string;
  /** The Kubernetes service account; its Google twin may only create objects in the bucket. */
  readonly serviceAccountName: string;
  /** The Google service account the Kubernetes one acts as (Workload Identity). */
  readonly googleServiceAccountEmail: string;
  /** The bootstrap image: it ships the snapshot command beside the sidecar. */
  readonly image: string;
  /** Cron, UTC. */
  readonly schedule: string;
  /** The staleness alert's threshold: twice the longest gap between two runs. */
  readonly maxAgeSec: number;
  readonly bucket: string;
  readonly environment: string;
  /** The active Vault's in-cluster address (https://vault-active.<ns>.svc:8200). */
  readonly vaultAddress: string;
  /** The TLS secret whose ca.crt verifies Vault (only that key is mounted). */
  readonly tlsSecretName: string;
  /** Audience of the projected token Vault's auth/in-cluster role expects. */
  readonly tokenAudience: string;
  readonly placement: NodePlacement;
  /** Room for the spooled snapshot: the size of a Vault data disk. */
  readonly spoolSizeGb: number;
  /** @default 3600 */
  readonly deadlineSec?: number;
}

/**
 * The Raft snapshot job: on the dedicated pool, with the pods' secure
 * defaults, never two at once, within a deadline. It logs in to Vault with a
 * projected token of its own service account (auth/in-cluster, role snapshot:
 * read the snapshot, nothing else), spools the snapshot to an emptyDir while
 * hashing it, and writes it once to the snapshot bucket. Each run logs
 * "snapshot stored" or an error line naming the step; every run also says how
 * old the last good snapshot is (an alert fires past twice the schedule).
 */
export class VaultSnapshotJob extends Construct {
  readonly cronJob: CronJobV1;

  constructor(scope: Construct, id: string, props: VaultSnapshotJobProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxAgeSec) || props.maxAgeSec < 60) throw new Error(`maxAgeSec must be at least 60 seconds, got ${props.maxAgeSec}`);
    const deadline = props.deadlineSec ?? 3600;
    const labels = { "app.kubernetes.io/name": "vault-snapshot", "app.kubernetes.io/component": "snapshot", "app.kubernetes.io/managed-by": "vault-gke" };
    const sa = new ServiceAccountV1(this, "service-account", {
      metadata: {
        name: props.serviceAccountName,
        namespace: props.namespace,
        annotations: { "iam.gke.io/gcp-service-account": props.googleServiceAccountEmail },
        labels,
      },
      // No API token in the pod: Vault gets a projected token for its own audience, Google one through Workload Identity.
      automountServiceAccountToken: false,
    });
    const paths = { ca: "/vault/ca", token: "/var/run/secrets/vault-gke", spool: "/spool", tmp: "/tmp" };
    this.cronJob = new CronJobV1(this, "cron-job", {
      metadata: { name: "vault-snapshot", namespace: props.namespace, labels },
      spec: {
        schedule: props.schedule,
        timezone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: deadline,
            ttlSecondsAfterFinished: String(7 * 86_400),
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: sa.metadata.name,
                automountServiceAccountToken: false,
                restartPolicy: "Never",
                enableServiceLinks: false,
                securityContext: { runAsNonRoot: true, runAsUser: "65532", runAsGroup: "65532", fsGroup: "65532", seccompProfile: { type: "RuntimeDefault" } },
                ...onDedicatedPool(props.placement),
                container: [
                  {
                    name: "snapshot",
                    image: props.image,
                    imagePullPolicy: "IfNotPresent",
                    command: ["/nodejs/bin/node", "/app/snapshot.js"],
                    env: [
                      { name: "VAULT_ADDR", value: props.vaultAddress },
                      { name: "VAULT_CACERT", value: `${paths.ca}/ca.crt` },
                      { name: "VAULT_AUTH_PATH", value: AUTH_PATHS.inCluster },
                      { name: "VAULT_ROLE", value: SNAPSHOT_ROLE },
                      { name: "KUBERNETES_TOKEN_FILE", value: `${paths.token}/token` },
                      { name: "SNAPSHOT_BUCKET", value: props.bucket },
                      { name: "ENVIRONMENT", value: props.environment },
                      { name: "SPOOL_DIR", value: paths.spool },
                      { name: "SNAPSHOT_MAX_AGE_SEC", value: String(props.maxAgeSec) },
                      // The snapshot streams through a spool file: a small heap is enough (see BENCHMARKS.md).
                      { name: "NODE_OPTIONS", value: "--enable-source-maps --max-old-space-size=64" },
                    ],
                    resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { cpu: "500m", memory: "192Mi" } },
                    securityContext: RESTRICTED_CONTAINER,
                    volumeMount: [
                      { name: "ca", mountPath: paths.ca, readOnly: true },
                      { name: "vault-token", mountPath: paths.token, readOnly: true },
                      { name: "spool", mountPath: paths.spool },
                      { name: "tmp", mountPath: paths.tmp },
                    ],
                  },
                ],
                volume: [
                  caOnlyVolume("ca", props.tlsSecretName),
                  {
                    name: "vault-token",
                    projected: [
                      { defaultMode: "0440", sources: [{ serviceAccountToken: { audience: props.tokenAudience, expirationSeconds: 600, path: "token" } }] },
                    ],
                  },
                  { name: "spool", emptyDir: { sizeLimit: `${props.spoolSizeGb}Gi` } },
                  { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
                ],
              },
            },
          },
        },
      },
    });
  }
}
