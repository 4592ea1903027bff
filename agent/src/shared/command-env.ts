// Settings from environment variables, shared by the snapshot and restore
// commands: zod fields with messages that say the fix, and one line per
// problem naming the variable and the value it had.
import { existsSync, statSync } from "node:fs";
import { z } from "zod";
import { isEnvironmentName } from "../archive/object";

export class CommandConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "CommandConfigError";
  }
}

/** Variables whose values are secret: a problem line names them but never shows the value. */
const SECRET_VARIABLES = new Set(["VAULT_TOKEN"]);

/** Parses `env` with `schema`, or throws CommandConfigError with lines like `<prefix>: NAME: fix (got "value")`. */
export function parseEnv<T extends z.ZodType>(prefix: string, schema: T, env: Record<string, string | undefined>): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new CommandConfigError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const value = env[name];
      const shown =
        value === undefined
          ? "unset"
          : SECRET_VARIABLES.has(name)
            ? "a value (not shown)"
            : JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
      const message = issue.message.startsWith(`${name} `) ? issue.message.slice(name.length + 1) : issue.message;
      return `${prefix}: ${name}: ${message} (got ${shown})`;
    }),
  );
}

export const vaultAddr = () =>
  z
    .url({ protocol: /^https$/, error: "must be an https:// URL of the active Vault server: the command never talks plaintext to Vault" })
    .transform((v) => v.replace(/\/+$/, ""));

export const existingFile = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .min(1, { error: `is required: ${what}` })
    .refine((p) => existsSync(p) && statSync(p).isFile(), { error: `no such file; ${what}` });

export const existingDirectory = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .min(1, { error: `is required: ${what}` })
    .refine((p) => existsSync(p) && statSync(p).isDirectory(), { error: `no such directory; ${what}` });

export const environmentName = () =>
  z.string({ error: "is required: the environment name (the name field of environments/<env>.yaml)" }).refine(isEnvironmentName, {
    error: "must be an environment name: lowercase letters, digits and -, starting with a letter",
  });

export const bucketName = () =>
  z.string({ error: "is required: the snapshot bucket (the platform stack's snapshot_bucket output)" }).regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, {
    error: "must be a GCS bucket name (lowercase letters, digits, -, _ and .), without gs://",
  });

export const emulatorHost = () =>
  z.url({ protocol: /^https?$/, error: "must be an http(s):// URL of a Cloud Storage emulator (tests only; unset it in production)" }).optional();

export const logLevel = () => z.enum(["trace", "debug", "info", "warn", "error"], { error: "must be one of trace, debug, info, warn, error" }).default("info");
