// What tenants may ask for: the longest token life, the Vault address their
// stacks talk to, and the clusters the platform team registered for them.
import { z } from "zod";
import { VAULT_API_PORT } from "../../contract/ports";
import { dnsLabel, duration, pemCertificate } from "./primitives";

export const registeredCluster = z.strictObject({
  name: dnsLabel("tenancy.clusters[].name", 40).describe("The cluster's Kubernetes auth backend is mounted at kubernetes-<name>; tenant files name it."),
  apiServerUrl: z
    .url({ protocol: /^https$/, error: "must be the https:// URL of the cluster's API server" })
    .describe("The https:// URL of the cluster's API server (TokenReview goes there)."),
  caCertificate: pemCertificate.describe("The cluster's CA certificate (PEM)."),
  externalSecretsOperator: z
    .boolean()
    .default(false)
    .describe(
      "True once the cluster's owners run the External Secrets Operator there (docs/operator-guide.md): only then may its tenant files declare secrets (default false).",
    ),
});

export const tenancy = z
  .strictObject({
    maxTokenTtl: duration.prefault("1h").describe("The longest token TTL a tenant file may ask for (default 1h)."),
    vaultAddress: z
      .url({ protocol: /^https$/, error: "must be an https:// URL" })
      .optional()
      .describe(`The Vault address the tenant stacks' provider talks to; defaults to https://<vault.hostname>:${VAULT_API_PORT}.`),
    clusters: z
      .array(registeredCluster)
      .default([])
      .describe(
        "Tenant clusters registered by the platform team: Vault sends TokenReview to these API servers and trusts these CAs. Tenant files can only name them (default none).",
      ),
  })
  .describe("What tenant files may ask for, and the clusters they may name.");
