// The environment file's schema: one YAML file per environment becomes a typed,
// validated EnvironmentConfig. Every message says what is wrong and how to fix
// it; load.ts adds the file, line and field path. The schema owns every default
// and every rule that spans fields (rules.ts); each field's description is what
// editors show (schemas/environment.schema.json is generated from it). This
// module knows nothing of cdktf.
import { z } from "zod";
import { gcpAuth } from "./admins";
import { alerting } from "./alerting";
import { cluster, nodePool } from "./cluster";
import { delivery } from "./delivery";
import { dnsLabel } from "./primitives";
import { kms, snapshots } from "./recovery";
import { checkCombinations } from "./rules";
import { tenancy } from "./tenancy";
import { bootstrap, vault } from "./vault";

export { APPLY_TOKEN_MAX_TTL_SEC } from "./delivery";
export { cidr, dnsLabel, dnsName, duration, pemCertificate } from "./primitives";

export const environmentSchema = z
  .strictObject({
    // Google service account ids have at most 30 characters: <name>-vault-snapshot is the longest built from it.
    name: dnsLabel("name", 15, "the service account <name>-vault-snapshot must fit Google's 30-character limit; choose a shorter name").describe(
      "The environment's name (the file name), at most 15 characters; stacks are called <name>-platform, <name>-vault, <name>-shared, <name>-tenant-<tenant>.",
    ),
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
        error: "not a GCP project id (6 to 30 lowercase letters, digits or '-', starting with a letter)",
      })
      .describe("The GCP project that holds Vault, its keys and its secrets."),
    region: z
      .string()
      .regex(/^[a-z]+-[a-z]+[0-9]+$/, { error: "not a GCP region; for example europe-west1" })
      .describe("The GCP region of the cluster, the key and the secrets."),
    zones: z
      .array(z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/, { error: "not a GCP zone; for example europe-west1-b" }))
      .min(1)
      .describe("At least 3 zones of the region, each once: the node pool spreads Vault over them."),
    backend: z
      .strictObject({
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, { error: "not a GCS bucket name" })
          .describe("The GCS bucket of the Terraform state."),
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9._/-]+$/)
          .transform((p) => p.replace(/\/+$/, ""))
          .describe("The folder of this environment's state in the bucket."),
      })
      .describe("Terraform state: a GCS bucket and a prefix; each stack appends its own name."),
    labels: z.record(z.string(), z.string()).default({}).describe("Labels added to every Google resource that takes labels (default none)."),
    cluster,
    nodePool: nodePool.prefault({}),
    kms: kms.prefault({}),
    snapshots,
    vault,
    bootstrap,
    gcpAuth: gcpAuth.prefault({}),
    tenancy: tenancy.prefault({}),
    delivery: delivery.prefault({}),
    alerting: alerting.prefault({}),
  })
  .superRefine(checkCombinations);

export type EnvironmentConfig = z.output<typeof environmentSchema>;
