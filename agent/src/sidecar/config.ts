// The sidecar's settings, from environment variables (set by the vault stack,
// see stacks/vault-server-settings.ts). A pure loader: bad settings become one
// line per problem; main.ts prints them and exits 2.
import { z } from "zod";
import { SIDECAR_HTTP_PORT } from "../../../contract/ports";
import type { SecretIds } from "../../../contract/secret-ids";

/** The unit a variable's name ends in, for the fix in a message ("3600 seconds"). */
const unitOf = (what: string) => (what.endsWith("_SEC") ? " of seconds" : what.endsWith("_MS") ? " of milliseconds" : "");

const positiveInt = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .regex(/^\d+$/, { error: `${what} must be a whole number${unitOf(what)}, at least 1 (for example ${what.endsWith("_MS") ? "5000" : "3600"})` })
    .transform(Number)
    .refine((n) => n >= 1, { error: `${what} must be at least 1` });

const bool = (what: string) => z.enum(["true", "false"], { error: `${what} must be true or false` }).transform((v) => v === "true");

const secretId = (what: string) =>
  z
    .string({ error: `${what} is required: the vault stack sets it to a Secret Manager secret id, <environment>-vault-<record> (contract/secret-ids.ts)` })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: `${what} must be a Secret Manager secret id (letters, digits, - and _)` });

const fields = z.object({
  VAULT_ADDR: z.url({ protocol: /^https$/, error: "VAULT_ADDR must be an https:// URL: the sidecar never talks plaintext to Vault" }),
  VAULT_CACERT: z.string({ error: "VAULT_CACERT is required: the sidecar verifies Vault's certificate against it" }).min(1),
  VAULT_TLS_SERVER_NAME: z.string().optional(),
  POD_NAME: z.string({ error: "POD_NAME is required (the Downward API's metadata.name)" }).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d+$/, {
    error: "POD_NAME must be a StatefulSet pod name ending in its ordinal, for example vault-0",
  }),
  SEAL_TYPE: z.enum(["auto", "shamir"], { error: "SEAL_TYPE must be auto (recovery keys) or shamir (unseal keys)" }),
  STORAGE_TYPE: z.enum(["raft", "gcs"], { error: "STORAGE_TYPE must be raft or gcs" }).default("raft"),
  KEY_SHARES: positiveInt("KEY_SHARES"),
  KEY_THRESHOLD: positiveInt("KEY_THRESHOLD"),
  GCP_PROJECT: z.string({ error: "GCP_PROJECT is required" }).min(1),
  SECRET_INIT_RESPONSE: secretId("SECRET_INIT_RESPONSE"),
  SECRET_ROOT_TOKEN: secretId("SECRET_ROOT_TOKEN"),
  SECRET_PLAN_TOKEN: secretId("SECRET_PLAN_TOKEN"),
  SECRET_SIDECAR_TOKEN: secretId("SECRET_SIDECAR_TOKEN"),
  SECRET_CANARY: secretId("SECRET_CANARY"),
  /** Only tests change it, to reach a local stand-in. */
  SECRET_MANAGER_ENDPOINT: z.url().default("https://secretmanager.googleapis.com"),
  POLICY_DIR: z.string({ error: "POLICY_DIR is required" }).min(1),
  /** Period of the read-only plan token (renewed by the sidecar). */
  PLAN_TOKEN_PERIOD_SEC: positiveInt("PLAN_TOKEN_PERIOD_SEC").default(3600),
  /** What the stacks declare about access (config/declared-access.ts), for the verifier. */
  DECLARED_ACCESS_FILE: z.string({ error: "DECLARED_ACCESS_FILE is required (the vault stack mounts it beside the policies)" }).min(1),
  /** The local HTTP port of /livez, /readyz, /state and /metrics (0: any free port, for tests). */
  HTTP_PORT: z
    .string()
    .regex(/^\d+$/, { error: "HTTP_PORT must be a whole number" })
    .transform(Number)
    .refine((n) => n <= 65535, { error: "HTTP_PORT must be at most 65535" })
    .default(SIDECAR_HTTP_PORT),
  /** How often tenant policies are rendered again from the tenants' engines. */
  TENANT_POLICY_SYNC_SEC: positiveInt("TENANT_POLICY_SYNC_SEC").default(30),
  /** How often the verifier runs on the active pod. */
  VERIFY_INTERVAL_SEC: positiveInt("VERIFY_INTERVAL_SEC").default(300),
  /** How often the certificate the local Vault presents is read (its expiry is a metric). */
  CERTIFICATE_CHECK_SEC: positiveInt("CERTIFICATE_CHECK_SEC").default(60),
  REVOKE_ROOT_TOKEN: bool("REVOKE_ROOT_TOKEN").default(true),
  AUDIT_MODE: z.enum(["config", "api"], { error: "AUDIT_MODE must be config (declared in the server configuration) or api" }),
  AUDIT_FILE_PATH: z.string().default("/vault/audit/audit.log"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
  /** Longest wait between two checks. */
  MAX_WAIT_MS: positiveInt("MAX_WAIT_MS").default(10_000),
  /** First wait after a change; waits grow from here. */
  MIN_WAIT_MS: positiveInt("MIN_WAIT_MS").default(100),
  /** How long the sidecar may keep retrying to store keys after SIGTERM (the pod's grace period less a margin). */
  STOP_GRACE_MS: positiveInt("STOP_GRACE_MS").default(50_000),
});

const schema = fields.superRefine((env, ctx) => {
  if (env.KEY_THRESHOLD > env.KEY_SHARES) {
    ctx.addIssue({
      code: "custom",
      path: ["KEY_THRESHOLD"],
      message: `(${env.KEY_THRESHOLD}) cannot exceed KEY_SHARES (${env.KEY_SHARES}); lower it or raise KEY_SHARES`,
    });
  }
  if (env.MIN_WAIT_MS > env.MAX_WAIT_MS) {
    ctx.addIssue({ code: "custom", path: ["MIN_WAIT_MS"], message: "MIN_WAIT_MS cannot exceed MAX_WAIT_MS" });
  }
});

export interface BootstrapConfig {
  readonly vaultAddr: string;
  readonly vaultCaCertFile: string;
  readonly vaultTlsServerName?: string;
  readonly podName: string;
  readonly ordinal: number;
  readonly seal: "auto" | "shamir";
  readonly storage: "raft" | "gcs";
  readonly keyShares: number;
  readonly keyThreshold: number;
  readonly project: string;
  readonly secrets: SecretIds;
  readonly secretManagerEndpoint: string;
  readonly policyDir: string;
  readonly planTokenPeriodSec: number;
  readonly declaredAccessFile: string;
  readonly httpPort: number;
  readonly tenantPolicySyncSec: number;
  readonly verifyIntervalSec: number;
  readonly certificateCheckSec: number;
  readonly revokeRootToken: boolean;
  readonly auditMode: "config" | "api";
  readonly auditFilePath: string;
  readonly logLevel: string;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly stopGraceMs: number;
}

export class BootstrapConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "BootstrapConfigError";
  }
}

/** The environment variables the loader reads (the vault stack sets them). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(fields.shape);

export function loadConfig(env: Record<string, string | undefined>): BootstrapConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new BootstrapConfigError(
      result.error.issues.map((i) => {
        const name = String(i.path[0] ?? "environment");
        const value = env[name];
        // Settings hold no secrets, but keep echoed values short.
        const shown = value === undefined ? "unset" : JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
        const message = i.message.startsWith(`${name} `) ? i.message.slice(name.length + 1) : i.message;
        return `bootstrap config: ${name}: ${message} (got ${shown})`;
      }),
    );
  }
  const e = result.data;
  return {
    vaultAddr: e.VAULT_ADDR.replace(/\/+$/, ""),
    vaultCaCertFile: e.VAULT_CACERT,
    vaultTlsServerName: e.VAULT_TLS_SERVER_NAME,
    podName: e.POD_NAME,
    ordinal: Number(e.POD_NAME.slice(e.POD_NAME.lastIndexOf("-") + 1)),
    seal: e.SEAL_TYPE,
    storage: e.STORAGE_TYPE,
    keyShares: e.KEY_SHARES,
    keyThreshold: e.KEY_THRESHOLD,
    project: e.GCP_PROJECT,
    secrets: {
      initResponse: e.SECRET_INIT_RESPONSE,
      rootToken: e.SECRET_ROOT_TOKEN,
      planToken: e.SECRET_PLAN_TOKEN,
      sidecarToken: e.SECRET_SIDECAR_TOKEN,
      canary: e.SECRET_CANARY,
    },
    secretManagerEndpoint: e.SECRET_MANAGER_ENDPOINT.replace(/\/+$/, ""),
    policyDir: e.POLICY_DIR,
    planTokenPeriodSec: e.PLAN_TOKEN_PERIOD_SEC,
    declaredAccessFile: e.DECLARED_ACCESS_FILE,
    httpPort: e.HTTP_PORT,
    tenantPolicySyncSec: e.TENANT_POLICY_SYNC_SEC,
    verifyIntervalSec: e.VERIFY_INTERVAL_SEC,
    certificateCheckSec: e.CERTIFICATE_CHECK_SEC,
    revokeRootToken: e.REVOKE_ROOT_TOKEN,
    auditMode: e.AUDIT_MODE,
    auditFilePath: e.AUDIT_FILE_PATH,
    logLevel: e.LOG_LEVEL,
    minWaitMs: e.MIN_WAIT_MS,
    maxWaitMs: e.MAX_WAIT_MS,
    stopGraceMs: e.STOP_GRACE_MS,
  };
}
