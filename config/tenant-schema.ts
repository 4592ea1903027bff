// A tenant file (tenants/<env>/<tenant>.yaml): one team, its Kubernetes
// cluster, the service accounts that may log in, and the secrets engines it
// wants. Pure data; load-tenants.ts adds the rules that span files.
import { z } from "zod";
import { DEFAULT_TOKEN_AUDIENCE } from "../contract/vault-names";
import { dnsLabel, duration } from "./schema";

const WILDCARD = "*";

const nameOrWildcard = (what: string) =>
  z.union([z.literal(WILDCARD), dnsLabel(what)], { error: `${what} must be a Kubernetes name (lowercase letters, digits, '-') or "*"` });

/** The shortest refresh a tenant may ask for: each refresh is a Kubernetes login to Vault and a read. */
export const MIN_SECRET_REFRESH_SEC = 60;

/** One Kubernetes Secret kept in sync with a KV secret by the External Secrets Operator (config/external-secrets.ts renders it). */
export const tenantSecret = z.strictObject({
  name: dnsLabel("secrets[].name", 63).describe("The Kubernetes Secret's name (and its ExternalSecret's) in the namespace."),
  namespace: dnsLabel("secrets[].namespace").describe("The namespace the Secret lives in: one of the tenant's namespaces, named (a wildcard does not count)."),
  path: z
    .string()
    .regex(/^[^/\s]+(\/[^/\s]+)*$/, { error: "not a KV path; write tenants/<tenant>/kv/<secret>, for example tenants/payments/kv/db" })
    .describe("The KV secret to copy, as tenants/<tenant>/kv/<secret> (this tenant's own mount; no data/ segment)."),
  keys: z
    .record(z.string(), z.string().min(1, { error: "name the KV field to copy, for example password" }))
    .superRefine((keys, ctx) => {
      if (Object.keys(keys).length === 0) ctx.addIssue({ code: "custom", message: "list at least one key: <Secret key>: <KV field>", input: keys });
      for (const key of Object.keys(keys))
        if (!/^[-._a-zA-Z0-9]+$/.test(key))
          ctx.addIssue({ code: "custom", path: [key], message: "a Secret key is letters, digits, '-', '_' and '.'; for example DB_PASSWORD", input: key });
    })
    .describe("The Secret's keys: each is <Secret key>: <field of the KV secret>, for example DB_PASSWORD: password."),
  refreshInterval: duration
    .prefault("15m")
    .describe("How often the operator reads the KV secret again, such as 5m (default 15m; at least 1m, at most the environment's tenancy.maxTokenTtl)."),
  serviceAccount: dnsLabel("secrets[].serviceAccount")
    .optional()
    .describe(
      "The service account the operator logs in as (a token for the tenant's audience); one of serviceAccounts (default: the first one listed). It must exist in the namespace.",
    ),
});

export type TenantSecret = z.output<typeof tenantSecret>;

const pgName = (what: string) => z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: `not a PostgreSQL ${what}` });

// Each field's description is also what editors show (schemas/tenant.schema.json is generated from this).
export const tenantSchema = z.strictObject({
  name: dnsLabel("name", 30).describe("The tenant's name (the file name): its policy is tenant-<name>, its engines live under tenants/<name>/."),
  cluster: dnsLabel("cluster", 40).describe(
    "The tenant's cluster, by the name the platform team registered in the environment file (tenancy.clusters); its pods log in at auth/kubernetes-<cluster>.",
  ),
  audience: z
    .string()
    .min(1, { error: 'the audience cannot be empty: pods must present a token minted for Vault; leave the field out for the default "vault"' })
    .regex(/^\S+$/, { error: "an audience has no spaces; for example vault" })
    .default(DEFAULT_TOKEN_AUDIENCE)
    .describe(
      "The audience the pods' projected service account tokens must carry (default vault): a token made for another service cannot be replayed to Vault.",
    ),
  namespaces: z
    .array(nameOrWildcard("namespaces[]"))
    .min(1, { error: "list at least one namespace" })
    .describe('Namespaces whose service accounts may log in. "*" needs allowWildcards: true.'),
  serviceAccounts: z
    .array(nameOrWildcard("serviceAccounts[]"))
    .min(1, { error: "list at least one service account" })
    .describe('Service accounts that may log in. "*" needs allowWildcards: true.'),
  allowWildcards: z.boolean().default(false).describe('Explicit opt-in for "*" in namespaces or serviceAccounts (default false).'),
  tokenTtl: duration
    .prefault("30m")
    .describe("Lifetime of the tenant's Vault tokens, such as 30m (default 30m; at most the environment's tenancy.maxTokenTtl)."),
  tokenMaxTtl: duration
    .prefault("1h")
    .describe("Longest life of the tenant's Vault tokens with renewals (default 1h; at most the environment's tenancy.maxTokenTtl)."),
  engines: z
    .strictObject({
      kv: z
        .strictObject({ maxVersions: z.number().int().min(1).max(100).default(10).describe("Versions kept per secret (default 10).") })
        .prefault({})
        .describe("KV v2 at tenants/<name>/kv: always on; only this tenant reaches it."),
      transit: z
        .strictObject({
          keys: z
            .array(dnsLabel("engines.transit.keys[]"))
            .min(1, { error: "list at least one key name" })
            // Each key is a resource named after it (VaultTenant): a key listed twice would be two resources at one address.
            .superRefine((keys, ctx) =>
              keys.forEach((key, i) => {
                if (keys.indexOf(key) < i)
                  ctx.addIssue({
                    code: "custom",
                    path: [i],
                    message: `this key is listed twice (engines.transit.keys[${keys.indexOf(key)}]); list each key once`,
                    input: key,
                  });
              }),
            )
            .describe("Key names (aes256-gcm96), each once."),
        })
        .optional()
        .describe("Encryption as a service: keys at tenants/<name>/transit, never exportable, never deleted by automation."),
      postgres: z
        .strictObject({
          host: z.string().min(1).describe("The database server's host name."),
          port: z.number().int().min(1).max(65535).default(5432).describe("Default 5432."),
          database: pgName("database name").describe("The database the issued users reach."),
          username: pgName("user name").describe(
            "The user Vault creates roles with. Its password comes from Secret Manager secret <environment>-tenant-postgres-<tenant> at apply (write-only: never in a plan or the state).",
          ),
          schema: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/)
            .default("public")
            .describe("Default public."),
          access: z.enum(["readonly", "readwrite"]).default("readonly").describe("What issued users may do (default readonly)."),
          sslMode: z.enum(["require", "verify-ca", "verify-full"]).default("verify-full").describe("TLS to the database (default verify-full)."),
          defaultTtl: duration.prefault("15m").describe("Lease of issued credentials (default 15m)."),
          maxTtl: duration.prefault("1h").describe("Longest lease with renewals (default 1h; at most the environment's tenancy.maxTokenTtl)."),
          passwordVersion: z
            .number()
            .int()
            .min(1)
            .default(1)
            .describe("Raise it after putting a new password in Secret Manager: the next apply sends it to Vault (default 1)."),
        })
        .optional()
        .describe("Dynamic PostgreSQL credentials at tenants/<name>/database, role app."),
    })
    .prefault({})
    .describe("The secrets engines the tenant gets."),
  secrets: z
    .array(tenantSecret)
    .default([])
    .describe(
      "Kubernetes Secrets the External Secrets Operator keeps in sync with this tenant's KV secrets (npm run external-secrets renders the objects; default none).",
    ),
});

export type TenantConfig = z.output<typeof tenantSchema>;

export const isWildcard = (value: string) => value === WILDCARD;
