import { ComputeAddress } from "@cdktf/provider-google/lib/compute-address";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { artifactRegistryRepository, commonLabels, secretIds, unsealKeyNames, VAULT_KSA, vaultImage } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import { ExistingGkeCluster } from "../constructs/existing-gke-cluster";
import { GkeCluster, type GkeClusterRef } from "../constructs/gke-cluster";
import { GkeNetwork } from "../constructs/gke-network";
import { GoogleApis } from "../constructs/google-apis";
import { HardenedBucket } from "../constructs/hardened-bucket";
import { NodeServiceAccount } from "../constructs/node-service-account";
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
 * Manager secrets, the snapshot bucket and the Vault pods' Google identity.
 * The vault stack reads the typed attributes below through cross-stack references.
 */
export class PlatformStack extends TerraformStack {
  readonly cluster: GkeClusterRef;
  readonly unsealKey: UnsealKey;
  readonly secrets: VaultSecretStore;
  readonly snapshotBucket: HardenedBucket;
  readonly storageBucket?: HardenedBucket;
  readonly vaultServiceAccount: VaultServiceAccount;
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

    const ids = secretIds(env);
    this.secrets = new VaultSecretStore(this, "secrets", {
      project,
      initResponseSecretId: ids.initResponse,
      rootTokenSecretId: ids.rootToken,
      provisionerTokenSecretId: ids.provisionerToken,
      canarySecretId: ids.canary,
      labels,
      dependsOn: after,
    });

    this.snapshotBucket = new HardenedBucket(this, "snapshot-bucket", {
      project,
      name: `${project}-${env.name}-vault-snapshots`,
      location: env.snapshots.location,
      secondRegion: env.snapshots.secondRegion,
      noncurrentRetentionDays: env.snapshots.retentionDays,
      labels,
      dependsOn: after,
    });
    const buckets: Record<string, string> = { snapshots: this.snapshotBucket.bucket.name };
    if (env.vault.storage === "gcs") {
      this.storageBucket = new HardenedBucket(this, "storage-bucket", {
        project,
        name: `${project}-${env.name}-vault-storage`,
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
      secrets: {
        "init-response": this.secrets.initResponse.id,
        "root-token": this.secrets.rootToken.id,
        "provisioner-token": this.secrets.provisionerToken.id,
        canary: this.secrets.canary.id,
      },
      buckets,
      verifiesLoginsOf: env.gcpAuth.adminServiceAccounts,
      dependsOn: after,
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

    new TerraformOutput(this, "cluster_name", { value: this.cluster.name });
    new TerraformOutput(this, "vault_service_account", { value: this.vaultServiceAccount.serviceAccount.email });
    new TerraformOutput(this, "unseal_key", { value: this.unsealKey.cryptoKey.id });
    new TerraformOutput(this, "snapshot_bucket", { value: this.snapshotBucket.bucket.name });
    if (this.loadBalancerAddress) new TerraformOutput(this, "load_balancer_address", { value: this.loadBalancerAddress.address });
  }
}
