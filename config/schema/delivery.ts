// Who plans and applies the stacks: plan runners read a read-only token,
// approved applies log in to Vault per run for minutes.
import { z } from "zod";
import { GOOGLE_ISSUER } from "../../contract/vault-names";
import { duration, serviceAccountEmail } from "./primitives";

/** Longest life of the apply credential: an approved apply gets minutes, never more. */
export const APPLY_TOKEN_MAX_TTL_SEC = 1200;

export const delivery = z
  .strictObject({
    planServiceAccounts: z
      .array(serviceAccountEmail)
      .default([])
      .describe("Google service accounts of plan runs (pull-request CI): they may read the read-only plan token, nothing else (default none)."),
    applyServiceAccounts: z
      .array(serviceAccountEmail)
      .default([])
      .describe(
        "Google service accounts of approved applies (Atlantis after approval, the protected deploy job), each once: they log in to Vault per run and get the provisioner policy (default none).",
      ),
    applyTokenTtl: duration
      .prefault("15m")
      .describe(`Lifetime of the apply credential (default 15m; at most ${APPLY_TOKEN_MAX_TTL_SEC / 60}m, never renewable past it).`),
    runnerIssuer: z
      .url({ protocol: /^https$/, error: "must be an https:// URL of an OIDC issuer" })
      .default(GOOGLE_ISSUER)
      .describe(
        `The OIDC issuer whose ID tokens the runners' login (auth/runner) accepts; Vault reads its discovery document and keys. Google's (${GOOGLE_ISSUER}), unless the runners' identities come from another issuer.`,
      ),
  })
  .describe("Who plans and applies the stacks (README: delivery and the runners).");
