import { StorageClassV1 } from "@cdktf/provider-kubernetes/lib/storage-class-v1";
import { Construct } from "constructs";

export interface VaultStorageClassProps {
  /** @default "vault-retain" */
  readonly name?: string;
  /** GCE persistent disk type. @default "pd-balanced" */
  readonly diskType?: string;
}

/**
 * Disks for Raft data and audit logs whose reclaim policy is Retain: deleting a
 * claim (or the StatefulSet) never deletes Vault's data. Volumes bind where the
 * pod is scheduled, so the zone spread decides the disk's zone.
 */
export class VaultStorageClass extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: VaultStorageClassProps = {}) {
    super(scope, id);
    const sc = new StorageClassV1(this, "storage-class", {
      metadata: { name: props.name ?? "vault-retain" },
      storageProvisioner: "pd.csi.storage.gke.io",
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      parameters: { type: props.diskType ?? "pd-balanced" },
    });
    this.name = sc.metadata.name;
  }
}
