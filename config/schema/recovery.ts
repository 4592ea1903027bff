// What keeps Vault's data recoverable: the KMS key that seals it and the
// snapshots of its Raft storage.
import { z } from "zod";
import { dnsLabel } from "./primitives";

export const kms = z
  .strictObject({
    keyRing: dnsLabel("kms.keyRing").default("vault").describe("The key ring, named <environment>-<keyRing> (default vault)."),
    key: dnsLabel("kms.key").default("vault-unseal").describe("The auto-unseal key (default vault-unseal)."),
    rotationPeriodDays: z.number().int().min(1).max(365).default(90).describe("Days between automatic rotations of the key (default 90)."),
    protectionLevel: z.enum(["SOFTWARE", "HSM"]).default("SOFTWARE").describe("Where the key lives: SOFTWARE or HSM (default SOFTWARE)."),
  })
  .describe("The KMS key Vault's gcpckms seal wraps its root key with.");

export const snapshots = z
  .strictObject({
    location: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, { error: "not a GCS location; for example EUR4, US or europe-west1" })
      .describe("A dual-region (for example EUR4) or multi-region location keeps snapshots out of a single region."),
    secondRegion: z.string().optional().describe("A second region with `location`, making a configurable dual-region bucket."),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(30)
      .describe("Snapshots are kept this long: nobody (the Vault pods included) can delete one earlier; deleted after (default 30)."),
    retentionLocked: z
      .boolean()
      .default(false)
      .describe("Lock the retention policy: it can never be shortened or removed again (irreversible) (default false)."),
    schedule: z
      .string()
      .regex(/^(\S+\s+){4}\S+$/, { error: 'not a cron schedule; five fields, for example "0 */6 * * *" (every six hours)' })
      .default("0 */6 * * *")
      .describe("When the snapshot job runs (cron, UTC) (default every six hours, 0 */6 * * *)."),
  })
  .describe("The GCS bucket for Raft snapshots and the job that writes them.");
