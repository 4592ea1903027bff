import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface SnapshotServiceAccountProps {
  readonly project: string;
  readonly accountId: string;
  /** The Kubernetes namespace and service account of the snapshot CronJob (Workload Identity). */
  readonly kubernetesNamespace: string;
  readonly kubernetesServiceAccount: string;
  /** The snapshot bucket's name. */
  readonly bucket: string;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The Google identity of the snapshot job: it may create objects in the
 * snapshot bucket and list their names (to report the last good snapshot),
 * and nothing else: no read, no overwrite, no delete. It is the only identity
 * that writes there; the Vault pods have no access to the bucket at all.
 */
export class SnapshotServiceAccount extends Construct {
  readonly serviceAccount: ServiceAccount;

  constructor(scope: Construct, id: string, props: SnapshotServiceAccountProps) {
    super(scope, id);
    this.serviceAccount = new ServiceAccount(this, "account", {
      project: props.project,
      accountId: props.accountId,
      displayName: "Vault snapshot job (Workload Identity)",
      dependsOn: props.dependsOn,
    });
    new ServiceAccountIamMember(this, "workload-identity", {
      serviceAccountId: this.serviceAccount.name,
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${props.project}.svc.id.goog[${props.kubernetesNamespace}/${props.kubernetesServiceAccount}]`,
    });
    new StorageBucketIamMember(this, "create-objects", { bucket: props.bucket, role: "roles/storage.objectCreator", member: this.serviceAccount.member });
    new StorageBucketIamMember(this, "list-objects", { bucket: props.bucket, role: "roles/storage.legacyBucketReader", member: this.serviceAccount.member });
  }
}
