// How people operate Vault: admins and break-glass log in with their Google
// service accounts (GCP auth; HashiCorp Vault only).
import { z } from "zod";
import { duration, serviceAccountEmail } from "./primitives";

export const gcpAuth = z
  .strictObject({
    adminServiceAccounts: z
      .array(serviceAccountEmail)
      .default([])
      .describe("Google service accounts (emails) whose IAM logins map to the admin policy; each once (default none)."),
    breakGlassServiceAccounts: z
      .array(serviceAccountEmail)
      .default([])
      .describe(
        "Google service accounts whose logins get the break-glass policy, none of them an admin account. Nobody may impersonate them by default: grant that briefly, with a second person, when the glass must break (README: break-glass) (default none).",
      ),
    tokenTtl: duration.prefault("30m").describe("Lifetime of an admin's Vault token (default 30m; at most tokenMaxTtl)."),
    tokenMaxTtl: duration.prefault("1h").describe("Longest life of an admin's Vault token with renewals (default 1h)."),
  })
  .describe("Admins log in with their Google service accounts (HashiCorp Vault; OpenBao ships no GCP auth).");
