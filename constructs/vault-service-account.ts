import { KmsCryptoKeyIamMember } from "@cdktf/provider-google/lib/kms-crypto-key-iam-member";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { accountIdPart } from "../config/account-ids";

export interface VaultServiceAccountProps {
  readonly project: string;
  readonly accountId: string;
  /** The Kubernetes namespace and service account of the Vault pods (Workload Identity). */
  readonly kubernetesNamespace: string;
  readonly kubernetesServiceAccount: string;
  /** The auto-unseal key; omit with a Shamir seal. @default none */
  readonly unsealKeyId?: string;
  /** Secret Manager secrets the pods write and read, by a stable name (it becomes the Terraform address). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Buckets the pods read and write objects in (GCS storage only: snapshots are the snapshot job's), by a stable name. */
  readonly buckets: Readonly<Record<string, string>>;
  /**
   * Service accounts whose IAM logins Vault's GCP auth verifies: Vault reads
   * them and their public keys, on those accounts only. @default none
   */
  readonly verifiesLoginsOf?: readonly string[];
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The Google identity of the Vault pods, reached through Workload Identity (no
 * key file exists). Every grant is on one resource: encrypt/decrypt on the
 * unseal key, add and access versions on the Vault secrets, objects in the
 * storage bucket (GCS storage mode). Nothing is granted on the project.
 */
export class VaultServiceAccount extends Construct {
  readonly serviceAccount: ServiceAccount;

  constructor(scope: Construct, id: string, props: VaultServiceAccountProps) {
    super(scope, id);
    const sa = new ServiceAccount(this, "account", {
      project: props.project,
      accountId: props.accountId,
      displayName: "Vault server pods (Workload Identity)",
      dependsOn: props.dependsOn,
    });
    this.serviceAccount = sa;
    new ServiceAccountIamMember(this, "workload-identity", {
      serviceAccountId: sa.name,
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${props.project}.svc.id.goog[${props.kubernetesNamespace}/${props.kubernetesServiceAccount}]`,
    });
    if (props.unsealKeyId) {
      new KmsCryptoKeyIamMember(this, "unseal-key-use", {
        cryptoKeyId: props.unsealKeyId,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: sa.member,
      });
      // The gcpckms seal reads the key's metadata (cloudkms.cryptoKeys.get) at start.
      new KmsCryptoKeyIamMember(this, "unseal-key-view", {
        cryptoKeyId: props.unsealKeyId,
        role: "roles/cloudkms.viewer",
        member: sa.member,
      });
    }
    for (const [name, secretId] of Object.entries(props.secrets)) {
      for (const role of ["roles/secretmanager.secretVersionAdder", "roles/secretmanager.secretAccessor"]) {
        new SecretManagerSecretIamMember(this, `secret-${name}-${role.split(".")[1]}`, {
          project: props.project,
          secretId,
          role,
          member: sa.member,
        });
      }
    }
    for (const [name, bucket] of Object.entries(props.buckets)) {
      new StorageBucketIamMember(this, `bucket-${name}-objects`, { bucket, role: "roles/storage.objectUser", member: sa.member });
    }
    for (const email of props.verifiesLoginsOf ?? []) {
      new ServiceAccountIamMember(this, `verify-login-${accountIdPart(email)}`, {
        serviceAccountId: `projects/${email.split("@")[1].split(".")[0]}/serviceAccounts/${email}`,
        role: "roles/iam.serviceAccountViewer",
        member: sa.member,
      });
    }
  }
}
