import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface HardenedBucketProps {
  readonly project: string;
  readonly name: string;
  /** A multi-region, a dual-region (EUR4) or a region. */
  readonly location: string;
  /** With a region as `location`: a second region, making a configurable dual-region. @default none */
  readonly secondRegion?: string;
  /** Noncurrent object versions are deleted after this many days. @default 30 */
  readonly noncurrentRetentionDays?: number;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A GCS bucket for Vault data: uniform bucket-level access, public access
 * prevention enforced, versioning with a lifecycle that expires old versions,
 * and protection from `terraform destroy`.
 */
export class HardenedBucket extends Construct {
  readonly bucket: StorageBucket;

  constructor(scope: Construct, id: string, props: HardenedBucketProps) {
    super(scope, id);
    const days = props.noncurrentRetentionDays ?? 30;
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`noncurrentRetentionDays must be a whole number of at least 1, got ${days}`);
    }
    this.bucket = new StorageBucket(this, "bucket", {
      project: props.project,
      name: props.name,
      location: props.location.toUpperCase(),
      customPlacementConfig: props.secondRegion
        ? { dataLocations: [props.location.toUpperCase(), props.secondRegion.toUpperCase()] }
        : undefined,
      storageClass: "STANDARD",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      lifecycleRule: [
        { condition: { daysSinceNoncurrentTime: days, withState: "ARCHIVED" }, action: { type: "Delete" } },
        { condition: { age: 1 }, action: { type: "AbortIncompleteMultipartUpload" } },
      ],
      softDeletePolicy: { retentionDurationSeconds: 7 * 86_400 },
      labels: props.labels,
      lifecycle: { preventDestroy: true },
      dependsOn: props.dependsOn,
    });
  }
}
