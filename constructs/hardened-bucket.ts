import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface BucketRetention {
  /** Nobody (project owners included) can delete or replace an object younger than this. */
  readonly days: number;
  /** Lock the policy: it can then never be shortened or removed. Irreversible. */
  readonly locked: boolean;
}

export interface HardenedBucketProps {
  readonly project: string;
  readonly name: string;
  /** A multi-region, a dual-region (EUR4) or a region. */
  readonly location: string;
  /** With a region as `location`: a second region, making a configurable dual-region. @default none */
  readonly secondRegion?: string;
  /**
   * Write-once objects kept `days` and deleted after (snapshots). GCS refuses
   * versioning on a bucket with a retention policy, so this replaces it.
   * @default none: versioning, old versions expire after `noncurrentRetentionDays`
   */
  readonly retention?: BucketRetention;
  /** Noncurrent object versions are deleted after this many days (versioned buckets). @default 30 */
  readonly noncurrentRetentionDays?: number;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A GCS bucket for Vault data: uniform bucket-level access, public access
 * prevention enforced, soft delete, protection from `terraform destroy`, and
 * either versioning (objects Vault rewrites) or a retention policy (objects
 * written once, like snapshots, that nobody may delete early).
 */
export class HardenedBucket extends Construct {
  readonly bucket: StorageBucket;

  constructor(scope: Construct, id: string, props: HardenedBucketProps) {
    super(scope, id);
    const days = props.noncurrentRetentionDays ?? 30;
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`noncurrentRetentionDays must be a whole number of at least 1, got ${days}`);
    }
    const r = props.retention;
    if (r && (!Number.isInteger(r.days) || r.days < 1)) throw new Error(`retention.days must be a whole number of at least 1, got ${r.days}`);
    const multipart = { condition: { age: 1 }, action: { type: "AbortIncompleteMultipartUpload" } };
    this.bucket = new StorageBucket(this, "bucket", {
      project: props.project,
      name: props.name,
      location: props.location.toUpperCase(),
      customPlacementConfig: props.secondRegion ? { dataLocations: [props.location.toUpperCase(), props.secondRegion.toUpperCase()] } : undefined,
      storageClass: "STANDARD",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: r ? undefined : { enabled: true },
      retentionPolicy: r ? { retentionPeriod: r.days * 86_400, isLocked: r.locked } : undefined,
      lifecycleRule: r
        ? [{ condition: { age: r.days + 1 }, action: { type: "Delete" } }, multipart]
        : [{ condition: { daysSinceNoncurrentTime: days, withState: "ARCHIVED" }, action: { type: "Delete" } }, multipart],
      softDeletePolicy: { retentionDurationSeconds: 7 * 86_400 },
      labels: props.labels,
      lifecycle: { preventDestroy: true },
      dependsOn: props.dependsOn,
    });
  }
}
