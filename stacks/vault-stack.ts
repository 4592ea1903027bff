import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { Fn, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { longestCronGapSec } from "../config/cron";
import { DEFAULT_TOKEN_AUDIENCE, SNAPSHOT_KSA } from "../contract/vault-names";
import { VAULT_KSA, vaultImage } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import { distributionProfile } from "../constructs/vault-distribution";
import { VaultDisruptionBudget } from "../constructs/vault-disruption-budget";
import { VaultLoadBalancer } from "../constructs/vault-load-balancer";
import { VAULT_API_PORT } from "../contract/ports";
import { VAULT_SERVICES, vaultCertificateNames, vaultPodNames } from "../constructs/vault-naming";
import { VaultNamespace } from "../constructs/vault-namespace";
import { VaultNetworkPolicy } from "../constructs/vault-network-policy";
import { VAULT_NODE_LABEL, VAULT_NODE_TAINT } from "../constructs/vault-node-pool";
import { GMP_COLLECTOR, VaultPodMonitoring } from "../constructs/vault-pod-monitoring";
import { VaultPassthroughIngress } from "../constructs/vault-passthrough-ingress";
import { renderVaultServerConfig } from "../constructs/vault-server-config";
import { VaultServiceRegistration } from "../constructs/vault-service-registration";
import { VaultServices } from "../constructs/vault-services";
import { VaultTokenReviewBinding } from "../constructs/vault-token-review-binding";
import { VaultSnapshotJob } from "../constructs/vault-snapshot-job";
import { VaultStatefulSet } from "../constructs/vault-stateful-set";
import { VaultStorageClass } from "../constructs/vault-storage-class";
import { VaultTls } from "../constructs/vault-tls";
import { VaultTlsRoute } from "../constructs/vault-tls-route";
import { declaredAccess, declaredTenants } from "../config/declared-access";
import { connectionPins, environmentPolicies } from "../policies";
import type { TenantConfig } from "../config/tenant-schema";
import { useGcsBackend } from "./backend";
import { googleProviderFor, kubernetesProviderFor } from "./cluster-providers";
import type { PlatformStack } from "./platform-stack";
import { bootstrapEnvironment, vaultServerConfigProps } from "./vault-server-settings";

export interface VaultStackProps {
  readonly env: EnvironmentConfig;
  readonly platform: PlatformStack;
  /** The environment's tenant files: the provisioner policy pins each database connection they declare to its address. */
  readonly tenants: readonly TenantConfig[];
}

/** Kubernetes' name for the node pool taint effect GKE calls NO_SCHEDULE. */
const K8S_TAINT_EFFECT = { NO_SCHEDULE: "NoSchedule", PREFER_NO_SCHEDULE: "PreferNoSchedule", NO_EXECUTE: "NoExecute" } as const;

/** The Kubernetes side of Vault, on the platform stack's cluster and dedicated pool. */
export class VaultStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: VaultStackProps) {
    super(scope, id);
    const { env, platform } = props;
    const v = env.vault;
    const profile = distributionProfile(v.distribution);
    const labels = { "app.kubernetes.io/managed-by": "vault-gke", "vault-gke/environment": env.name };
    useGcsBackend(this, env, id);
    googleProviderFor(this, env.project, env.region);
    kubernetesProviderFor(this, "kubernetes", {
      host: `https://${platform.cluster.endpoint}`,
      caCertificatePem: Fn.base64decode(platform.cluster.caCertificate),
    });
    new TlsProvider(this, "tls-provider");

    const ns = new VaultNamespace(this, "namespace", {
      name: v.namespace,
      serviceAccountName: VAULT_KSA,
      googleServiceAccountEmail: platform.vaultServiceAccount.serviceAccount.email,
      labels,
    });
    new VaultServiceRegistration(this, "service-registration", {
      namespace: ns.name,
      serviceAccountName: ns.serviceAccountName,
      podNames: vaultPodNames(v.replicas),
    });
    // Vault checks the snapshot job's tokens (auth/in-cluster) with its own service account.
    new VaultTokenReviewBinding(this, "token-review", { namespace: ns.name, serviceAccountName: ns.serviceAccountName });
    // Clients that reach the load balancer by its address verify it as an IP name.
    const lbAddress = v.exposure.type === "loadBalancer" ? platform.loadBalancerAddress?.address : undefined;
    const tls = new VaultTls(this, "tls", {
      namespace: ns.name,
      mode: v.tls.mode,
      existingSecretName: v.tls.secretName,
      names: vaultCertificateNames(v.namespace, v.replicas, v.hostname, lbAddress ? [lbAddress] : []),
      validityDays: v.tls.validityDays,
      caGenerations: v.tls.ca,
    });
    // The dedicated pool's label and taint, as the platform stack sets them on its nodes.
    const placement = {
      label: VAULT_NODE_LABEL,
      taint: { key: VAULT_NODE_TAINT.key, value: VAULT_NODE_TAINT.value, effect: K8S_TAINT_EFFECT[VAULT_NODE_TAINT.effect] },
    };
    const storageClass = new VaultStorageClass(this, "storage-class", { name: `${env.name}-vault-retain` });
    new VaultStatefulSet(this, "vault", {
      namespace: ns.name,
      serviceAccountName: ns.serviceAccountName,
      image: vaultImage(env),
      distribution: profile,
      replicas: v.replicas,
      serverConfig: renderVaultServerConfig(vaultServerConfigProps(env, platform.storageBucket?.bucket.name)),
      policies: environmentPolicies(
        env.tenancy.clusters.map((c) => c.name),
        connectionPins(declaredTenants(props.tenants)),
      ),
      declaredAccessJson: `${JSON.stringify(declaredAccess(env), null, 2)}\n`,
      tlsSecretName: tls.secretName,
      placement,
      storageClassName: storageClass.name,
      bootstrapImage: env.bootstrap.image,
      bootstrapEnv: bootstrapEnvironment(env),
      dataVolumeSizeGb: v.dataVolumeSizeGb,
      auditVolumeSizeGb: v.auditVolumeSizeGb,
      resources: { cpuRequest: v.cpuRequest, memoryRequest: v.memoryRequest, cpuLimit: v.cpuLimit, memoryLimit: v.memoryLimit },
      preStopDelaySec: v.preStopDelaySec,
      terminationGracePeriodSec: v.terminationGracePeriodSec,
    });
    new VaultDisruptionBudget(this, "disruption-budget", { namespace: ns.name, replicas: v.replicas });
    if (v.storage === "raft") {
      new VaultSnapshotJob(this, "snapshots", {
        namespace: ns.name,
        serviceAccountName: SNAPSHOT_KSA,
        googleServiceAccountEmail: platform.snapshotServiceAccount.serviceAccount.email,
        image: env.bootstrap.image,
        schedule: env.snapshots.schedule,
        maxAgeSec: 2 * longestCronGapSec(env.snapshots.schedule),
        bucket: platform.snapshotBucket.bucket.name,
        environment: env.name,
        vaultAddress: `https://${VAULT_SERVICES.active}.${v.namespace}.svc:${VAULT_API_PORT}`,
        tlsSecretName: tls.secretName,
        tokenAudience: DEFAULT_TOKEN_AUDIENCE,
        placement,
        spoolSizeGb: v.dataVolumeSizeGb,
      });
    }
    new VaultServices(this, "services", { namespace: ns.name, activeLabel: profile.activeLabel });

    const clientNamespaces = [...v.allowedNamespaces];
    let clientRanges: string[] = [];
    const exposure = v.exposure;
    if (exposure.type === "loadBalancer") {
      if (!platform.loadBalancerAddress) throw new Error("the platform stack reserved no load balancer address; this is a bug");
      new VaultLoadBalancer(this, "load-balancer", {
        namespace: ns.name,
        activeLabel: profile.activeLabel,
        address: platform.loadBalancerAddress.address,
        sourceRanges: exposure.sourceRanges,
        internal: exposure.internal,
        globalAccess: exposure.globalAccess,
      });
      clientRanges = [...exposure.sourceRanges];
    } else if (exposure.type === "ingress") {
      new VaultPassthroughIngress(this, "ingress", { namespace: ns.name, hostname: v.hostname, ingressClassName: exposure.ingress.className });
      clientNamespaces.push(exposure.ingress.controllerNamespace);
    } else {
      const gateway = exposure.gateway;
      if (!gateway) throw new Error("exposure gatewayTlsRoute needs a gateway; the config schema should have caught this");
      new VaultTlsRoute(this, "tls-route", {
        namespace: ns.name,
        hostname: v.hostname,
        gatewayName: gateway.name,
        gatewayNamespace: gateway.namespace,
        sectionName: gateway.sectionName,
      });
      clientNamespaces.push(gateway.namespace);
    }
    new VaultNetworkPolicy(this, "network-policy", {
      namespace: ns.name,
      clientRanges,
      clientNamespaces,
      scraper: { ...GMP_COLLECTOR, vaultTelemetry: v.unauthenticatedMetrics },
    });
    new VaultPodMonitoring(this, "pod-monitoring", { namespace: ns.name, vaultTelemetry: v.unauthenticatedMetrics });

    if (tls.caCertPem)
      new TerraformOutput(this, "vault_ca_certificate", { value: tls.caCertPem, description: "PEM CA certificate clients use to verify Vault" });
  }
}
