import { ComputeAddress } from "@cdktf/provider-google/lib/compute-address";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  artifactRegistryRepository,
  commonLabels,
  postgresPasswordSecretPrefix,
  storageBucketName,
  unsealKeyNames,
  VAULT_KSA,
  vaultImage,
} from "../config/names";
import { secretIds } from "../contract/secret-ids";
import { SNAPSHOT_KSA } from "../contract/vault-names";
import type { EnvironmentConfig } from "../config/schema";
import { longestCronGapSec } from "../config/cron";
import { VaultAlertPolicies } from "../constructs/vault-alert-policies";
import { vaultAlertRules } from "../constructs/vault-alert-rules";
import { VaultDashboard } from "../constructs/vault-dashboard";
import { DataAccessAudit } from "../constructs/data-access-audit";
import { ExistingGkeCluster } from "../constructs/existing-gke-cluster";
import { GkeCluster, type GkeClusterRef } from "../constructs/gke-cluster";
import { GkeNetwork } from "../constructs/gke-network";
import { GoogleApis } from "../constructs/google-apis";
import { HardenedBucket } from "../constructs/hardened-bucket";
import { NodeServiceAccount } from "../constructs/node-service-account";
import { RunnerGrants } from "../constructs/runner-grants";
import { SnapshotServiceAccount } from "../constructs/snapshot-service-account";
import { UnsealKey } from "../constructs/unseal-key";
import { VaultNodePool } from "../constructs/vault-node-pool";
import { VaultSecretStore } from "../constructs/vault-secret-store";
import { VaultServiceAccount } from "../constructs/vault-service-account";
import { useGcsBackend } from "./backend";

export interface PlatformStackProps {
  readonly env: EnvironmentConfig;
}

/**
 * The Google side: APIs, (optionally) a dedicated private cluster and its
 * network, the dedicated Vault node pool, the auto-unseal key, the Secret
 * Manager secrets (with Data Access audit logs), the snapshot bucket and the
 * Google identities of the Vault pods and the snapshot job, and what the
 * runners may read. The vault stack reads the typed attributes below through
 * cross-stack references.
 */
export class PlatformStack extends TerraformStack {
  readonly cluster: GkeClusterRef;
  readonly unsealKey: UnsealKey;
  readonly secrets: VaultSecretStore;
  readonly snapshotBucket: HardenedBucket;
  readonly storageBucket?: HardenedBucket;
  readonly vaultServiceAccount: VaultServiceAccount;
  readonly snapshotServiceAccount: SnapshotServiceAccount;
  readonly nodePool: VaultNodePool;
  /** The static address of the load balancer (exposure type loadBalancer only). */
  readonly loadBalancerAddress?: ComputeAddress;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const { env } = props;
    const labels = commonLabels(env);
    const project = env.project;
    useGcsBackend(this, env, id);
    new GoogleProvider(this, "google", { project, region: env.region, defaultLabels: labels });

    const apis = new GoogleApis(this, "apis", { project });
    const after = apis.services;
    new DataAccessAudit(this, "data-access-audit", { project, services: ["secretmanager.googleapis.com", "cloudkms.googleapis.com"] });

    this.unsealKey = new UnsealKey(this, "unseal-key", {
      project,
      location: env.region,
      keyRingName: unsealKeyNames(env).keyRing,
      keyName: unsealKeyNames(env).key,
      rotationPeriodDays: env.kms.rotationPeriodDays,
      protectionLevel: env.kms.protectionLevel,
      labels,
      dependsOn: after,
    });

    // The nodes pull the bootstrap (and a mirrored Vault) image from Artifact Registry with their own account.
    const repositories = [env.bootstrap.image, vaultImage(env)].flatMap((image) => artifactRegistryRepository(image) ?? []);
    const pullsFrom = [...new Map(repositories.map((r) => [`${r.project}/${r.location}/${r.repository}`, r])).values()];
    const nodeAccount = new NodeServiceAccount(this, "node-account", {
      project,
      accountId: `${env.name}-vault-nodes`,
      pullsFrom,
      dependsOn: after,
    });
    let subnetworkForAddress: string;
    if (env.cluster.mode === "create") {
      const network = new GkeNetwork(this, "network", {
        project,
        region: env.region,
        namePrefix: env.cluster.name,
        subnetCidr: env.cluster.network.subnetCidr,
        podsCidr: env.cluster.network.podsCidr,
        servicesCidr: env.cluster.network.servicesCidr,
        dependsOn: after,
      });
      this.cluster = new GkeCluster(this, "cluster", {
        project,
        region: env.region,
        name: env.cluster.name,
        zones: env.zones,
        networkId: network.network.id,
        subnetworkId: network.subnetwork.id,
        podsRangeName: network.podsRangeName,
        servicesRangeName: network.servicesRangeName,
        masterIpv4CidrBlock: env.cluster.masterIpv4CidrBlock,
        masterAuthorizedNetworks: env.cluster.masterAuthorizedNetworks,
        nodeServiceAccountEmail: nodeAccount.serviceAccount.email,
        keyRingId: this.unsealKey.keyRing.id,
        releaseChannel: env.cluster.releaseChannel,
        deletionProtection: env.cluster.deletionProtection,
        labels,
        dependsOn: after,
      });
      subnetworkForAddress = network.subnetwork.id;
    } else {
      this.cluster = new ExistingGkeCluster(this, "cluster", { project, name: env.cluster.name, location: env.cluster.location });
      subnetworkForAddress = env.cluster.subnetwork;
    }

    this.nodePool = new VaultNodePool(this, "node-pool", {
      project,
      clusterName: this.cluster.name,
      clusterLocation: this.cluster.location,
      zones: env.zones,
      serviceAccountEmail: nodeAccount.serviceAccount.email,
      nodesPerZone: env.nodePool.nodesPerZone,
      machineType: env.nodePool.machineType,
      diskSizeGb: env.nodePool.diskSizeGb,
      diskType: env.nodePool.diskType,
      labels,
    });

    const ids = secretIds(env.name);
    this.secrets = new VaultSecretStore(this, "secrets", {
      project,
      initResponseSecretId: ids.initResponse,
      rootTokenSecretId: ids.rootToken,
      planTokenSecretId: ids.planToken,
      sidecarTokenSecretId: ids.sidecarToken,
      canarySecretId: ids.canary,
      labels,
      dependsOn: after,
    });

    this.snapshotBucket = new HardenedBucket(this, "snapshot-bucket", {
      project,
      name: `${project}-${env.name}-vault-snapshots`,
      location: env.snapshots.location,
      secondRegion: env.snapshots.secondRegion,
      retention: { days: env.snapshots.retentionDays, locked: env.snapshots.retentionLocked },
      labels,
      dependsOn: after,
    });
    // Only the snapshot job writes snapshots; the Vault pods cannot touch the bucket.
    this.snapshotServiceAccount = new SnapshotServiceAccount(this, "snapshot-account", {
      project,
      accountId: `${env.name}-vault-snapshot`,
      kubernetesNamespace: env.vault.namespace,
      kubernetesServiceAccount: SNAPSHOT_KSA,
      bucket: this.snapshotBucket.bucket.name,
      dependsOn: after,
    });
    const buckets: Record<string, string> = {};
    if (env.vault.storage === "gcs") {
      this.storageBucket = new HardenedBucket(this, "storage-bucket", {
        project,
        name: storageBucketName(env),
        location: env.region,
        labels,
        dependsOn: after,
      });
      buckets.storage = this.storageBucket.bucket.name;
    }

    this.vaultServiceAccount = new VaultServiceAccount(this, "vault-account", {
      project,
      accountId: `${env.name}-vault-server`,
      kubernetesNamespace: env.vault.namespace,
      kubernetesServiceAccount: VAULT_KSA,
      unsealKeyId: env.vault.seal === "gcpckms" ? this.unsealKey.cryptoKey.id : undefined,
      secrets: Object.fromEntries(Object.entries(this.secrets.byName).map(([name, secret]) => [name, secret.id])),
      buckets,
      verifiesLoginsOf: [...env.gcpAuth.adminServiceAccounts, ...env.gcpAuth.breakGlassServiceAccounts],
      dependsOn: after,
    });

    new RunnerGrants(this, "runner-grants", {
      project,
      planTokenSecretId: this.secrets.planToken.id,
      planServiceAccounts: env.delivery.planServiceAccounts,
      applyServiceAccounts: env.delivery.applyServiceAccounts,
      postgresPasswordSecretPrefix: postgresPasswordSecretPrefix(env),
    });

    if (env.vault.exposure.type === "loadBalancer") {
      this.loadBalancerAddress = new ComputeAddress(this, "lb-address", {
        project,
        region: env.region,
        name: `${env.name}-vault-lb`,
        addressType: env.vault.exposure.internal ? "INTERNAL" : "EXTERNAL",
        subnetwork: env.vault.exposure.internal ? subnetworkForAddress : undefined,
        labels,
        dependsOn: after,
      });
    }

    // Alerts and a dashboard over what the vault stack's PodMonitoring collects (docs/operator-guide.md#alerts).
    new VaultAlertPolicies(this, "alerts", {
      project,
      environment: env.name,
      namespace: env.vault.namespace,
      rules: vaultAlertRules(alertParams(env)),
      notificationChannels: env.alerting.notificationChannels,
      labels,
      dependsOn: after,
    });
    new VaultDashboard(this, "dashboard", { project, environment: env.name, cluster: env.cluster.name, namespace: env.vault.namespace, dependsOn: after });

    new TerraformOutput(this, "cluster_name", { value: this.cluster.name });
    new TerraformOutput(this, "vault_service_account", { value: this.vaultServiceAccount.serviceAccount.email });
    new TerraformOutput(this, "unseal_key", { value: this.unsealKey.cryptoKey.id });
    new TerraformOutput(this, "snapshot_bucket", { value: this.snapshotBucket.bucket.name });
    new TerraformOutput(this, "snapshot_service_account", { value: this.snapshotServiceAccount.serviceAccount.email });
    if (this.loadBalancerAddress) new TerraformOutput(this, "load_balancer_address", { value: this.loadBalancerAddress.address });
  }
}

/** What the environment's alerts are computed from (the rule file uses the same). */
export function alertParams(env: EnvironmentConfig) {
  return {
    environment: env.name,
    cluster: env.cluster.name,
    namespace: env.vault.namespace,
    replicas: env.vault.replicas,
    raft: env.vault.storage === "raft",
    snapshotMaxAgeSec: 2 * longestCronGapSec(env.snapshots.schedule),
    vaultMetrics: env.vault.unauthenticatedMetrics,
  };
}
