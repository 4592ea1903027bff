// A tenant file (tenants/<env>/<tenant>.yaml): one team, its Kubernetes
// cluster, the service accounts that may log in, and the secrets engines it
// wants. Pure data; load-tenants.ts adds the rules that span files.
import { z } from "zod";
import { DEFAULT_TOKEN_AUDIENCE } from "./names";
import { dnsLabel, duration } from "./schema";

const WILDCARD = "*";

const nameOrWildcard = (what: string) =>
  z.union([z.literal(WILDCARD), dnsLabel(what)], { error: `${what} must be a Kubernetes name (lowercase letters, digits, '-') or "*"` });

export const tenantSchema = z.strictObject({
  /** The tenant's name: its policy is tenant-<name>, its engines live under tenants/<name>/. */
  name: dnsLabel("name", 30),
  /**
   * The tenant's cluster, by the name the platform team registered in the
   * environment file (tenancy.clusters); its pods log in at auth/kubernetes-<cluster>.
   */
  cluster: dnsLabel("cluster", 40),
  /**
   * The audience the pods' service account tokens must carry (a projected token
   * with this audience): a token made for another service cannot be replayed to Vault.
   */
  audience: z
    .string()
    .min(1, { error: "the audience cannot be empty: pods must present a token minted for Vault; leave the field out for the default \"vault\"" })
    .regex(/^\S+$/, { error: "an audience has no spaces; for example vault" })
    .default(DEFAULT_TOKEN_AUDIENCE),
  /** Namespaces whose service accounts may log in. "*" needs allowWildcards: true. */
  namespaces: z.array(nameOrWildcard("namespaces[]")).min(1, { error: "list at least one namespace" }),
  /** Service accounts that may log in. "*" needs allowWildcards: true. */
  serviceAccounts: z.array(nameOrWildcard("serviceAccounts[]")).min(1, { error: "list at least one service account" }),
  /** Explicit opt-in for "*" in namespaces or serviceAccounts. */
  allowWildcards: z.boolean().default(false),
  tokenTtl: duration.prefault("30m"),
  tokenMaxTtl: duration.prefault("1h"),
  engines: z
    .strictObject({
      /** KV v2 under tenants/<name>/kv: always on; only this tenant reaches it. */
      kv: z.strictObject({ maxVersions: z.number().int().min(1).max(100).default(10) }).prefault({}),
      /** Encryption as a service: transit keys under tenants/<name>/transit (never exportable). */
      transit: z.strictObject({ keys: z.array(dnsLabel("engines.transit.keys[]")).min(1, { error: "list at least one key name" }) }).optional(),
      /** Dynamic PostgreSQL credentials under tenants/<name>/database. */
      postgres: z
        .strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(5432),
          database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: "not a PostgreSQL database name" }),
          /** The user Vault creates roles with; its password comes from the Terraform variable postgres_password_<tenant> (write-only, never in the state). */
          username: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: "not a PostgreSQL user name" }),
          schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/).default("public"),
          access: z.enum(["readonly", "readwrite"]).default("readonly"),
          sslMode: z.enum(["require", "verify-ca", "verify-full"]).default("verify-full"),
          defaultTtl: duration.prefault("15m"),
          maxTtl: duration.prefault("1h"),
        })
        .optional(),
    })
    .prefault({}),
});

export type TenantConfig = z.output<typeof tenantSchema>;

export const isWildcard = (value: string) => value === WILDCARD;
