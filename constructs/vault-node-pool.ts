import { ContainerNodePool } from "@cdktf/provider-google/lib/container-node-pool";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

/** The label Vault pods select and the taint only they tolerate. */
export const VAULT_NODE_LABEL = { key: "vault-gke/dedicated", value: "vault" } as const;
export const VAULT_NODE_TAINT = { key: "vault-gke/dedicated", value: "vault", effect: "NO_SCHEDULE" } as const;

export interface VaultNodePoolProps {
  readonly project: string;
  readonly clusterName: string;
  readonly clusterLocation: string;
  /** At least three zones, so Vault survives a zone outage. */
  readonly zones: readonly string[];
  /** The node service account's email (logs and metrics only). */
  readonly serviceAccountEmail: string;
  /** Nodes per zone: one Vault server per node. */
  readonly nodesPerZone: number;
  readonly machineType: string;
  /** Boot disk size of each node. */
  readonly diskSizeGb: number;
  /** Boot disk type of each node. */
  readonly diskType: string;
  /** @default "vault" */
  readonly name?: string;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Nodes that run Vault and nothing else: tainted so tenant pods cannot land on
 * them, labelled so Vault selects them, shielded (secure boot, integrity
 * monitoring), with the GKE metadata server (Workload Identity; the node's own
 * credentials are hidden from pods), auto repair and upgrade, and surge upgrades
 * that add a node before they remove one.
 */
export class VaultNodePool extends Construct {
  readonly nodePool: ContainerNodePool;

  constructor(scope: Construct, id: string, props: VaultNodePoolProps) {
    super(scope, id);
    if (props.zones.length < 3) {
      throw new Error(`zones lists ${props.zones.length} zone(s); list at least 3 so Vault survives a zone outage`);
    }
    const nodesPerZone = props.nodesPerZone;
    if (!Number.isInteger(nodesPerZone) || nodesPerZone < 1) {
      throw new Error(`nodesPerZone must be a whole number of at least 1, got ${nodesPerZone}`);
    }
    this.nodePool = new ContainerNodePool(this, "pool", {
      project: props.project,
      name: props.name ?? "vault",
      cluster: props.clusterName,
      location: props.clusterLocation,
      nodeLocations: [...props.zones],
      nodeCount: nodesPerZone,
      management: { autoRepair: true, autoUpgrade: true },
      upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
      nodeConfig: {
        machineType: props.machineType,
        imageType: "COS_CONTAINERD",
        diskSizeGb: props.diskSizeGb,
        diskType: props.diskType,
        serviceAccount: props.serviceAccountEmail,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        labels: { [VAULT_NODE_LABEL.key]: VAULT_NODE_LABEL.value },
        taint: [{ ...VAULT_NODE_TAINT }],
        metadata: { "disable-legacy-endpoints": "true" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        resourceLabels: props.labels,
      },
      dependsOn: props.dependsOn,
    });
  }
}
