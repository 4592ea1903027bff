import { KmsCryptoKey } from "@cdktf/provider-google/lib/kms-crypto-key";
import { KmsKeyRing } from "@cdktf/provider-google/lib/kms-key-ring";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface UnsealKeyProps {
  readonly project: string;
  /** KMS location; the region keeps the key next to the cluster. */
  readonly location: string;
  readonly keyRingName: string;
  readonly keyName: string;
  /** Days between automatic rotations. */
  readonly rotationPeriodDays: number;
  readonly protectionLevel: "SOFTWARE" | "HSM";
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

const SECONDS_PER_DAY = 86_400;

/**
 * The KMS key ring and the symmetric key Vault's gcpckms seal wraps its root key
 * with. Rotated on a schedule, and protected from `terraform destroy`: losing
 * this key makes the vault unrecoverable.
 */
export class UnsealKey extends Construct {
  readonly keyRing: KmsKeyRing;
  readonly cryptoKey: KmsCryptoKey;

  constructor(scope: Construct, id: string, props: UnsealKeyProps) {
    super(scope, id);
    const rotationPeriodDays = props.rotationPeriodDays;
    if (!Number.isInteger(rotationPeriodDays) || rotationPeriodDays < 1) {
      throw new Error(`rotationPeriodDays must be a whole number of days of at least 1, got ${rotationPeriodDays}`);
    }
    this.keyRing = new KmsKeyRing(this, "key-ring", {
      project: props.project,
      location: props.location,
      name: props.keyRingName,
      dependsOn: props.dependsOn,
      lifecycle: { preventDestroy: true },
    });
    this.cryptoKey = new KmsCryptoKey(this, "key", {
      keyRing: this.keyRing.id,
      name: props.keyName,
      purpose: "ENCRYPT_DECRYPT",
      rotationPeriod: `${rotationPeriodDays * SECONDS_PER_DAY}s`,
      versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: props.protectionLevel },
      labels: props.labels,
      lifecycle: { preventDestroy: true },
    });
  }
}
