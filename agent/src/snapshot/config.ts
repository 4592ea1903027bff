// The snapshot command's settings, from environment variables (the CronJob
// sets them). Bad settings become one line per problem; the command exits 2.
import { z } from "zod";
import { bucketName, emulatorHost, environmentName, existingDirectory, existingFile, logLevel, parseEnv, vaultAddr } from "../shared/command-env";

const schema = z.object({
  VAULT_ADDR: vaultAddr(),
  VAULT_CACERT: existingFile("mount the Vault TLS secret's ca.crt and point VAULT_CACERT at it"),
  VAULT_AUTH_PATH: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, {
      error: "must be the Kubernetes auth mount path without auth/ and slashes around it, for example in-cluster",
    })
    .default("in-cluster"),
  VAULT_ROLE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, { error: "must be the name of the Kubernetes auth role, for example snapshot" })
    .default("snapshot"),
  KUBERNETES_TOKEN_FILE: existingFile("project a service account token with audience vault there (a projected volume)").prefault(
    "/var/run/secrets/vault-gke/token",
  ),
  SNAPSHOT_BUCKET: bucketName(),
  ENVIRONMENT: environmentName(),
  SPOOL_DIR: existingDirectory("mount a writable emptyDir there (the root filesystem is read-only)").prefault("/spool"),
  SNAPSHOT_MAX_AGE_SEC: z
    .string({ error: "is required: twice the schedule's interval in seconds (the staleness alert's threshold)" })
    .regex(/^[1-9]\d*$/, { error: "must be a whole number of seconds, for example 7200 for an hourly schedule" })
    .transform(Number),
  STORAGE_EMULATOR_HOST: emulatorHost(),
  LOG_LEVEL: logLevel(),
});

export interface SnapshotConfig {
  readonly vaultAddr: string;
  readonly vaultCaCertFile: string;
  readonly authPath: string;
  readonly role: string;
  readonly tokenFile: string;
  readonly bucket: string;
  readonly environment: string;
  readonly spoolDir: string;
  readonly maxAgeSec: number;
  readonly emulatorHost?: string;
  readonly logLevel: string;
}

/** The environment variables the snapshot command reads. */
export const SNAPSHOT_VARIABLES: readonly string[] = Object.keys(schema.shape);

export function loadSnapshotConfig(env: Record<string, string | undefined>): SnapshotConfig {
  const e = parseEnv("snapshot config", schema, env);
  return {
    vaultAddr: e.VAULT_ADDR,
    vaultCaCertFile: e.VAULT_CACERT,
    authPath: e.VAULT_AUTH_PATH,
    role: e.VAULT_ROLE,
    tokenFile: e.KUBERNETES_TOKEN_FILE,
    bucket: e.SNAPSHOT_BUCKET,
    environment: e.ENVIRONMENT,
    spoolDir: e.SPOOL_DIR,
    maxAgeSec: e.SNAPSHOT_MAX_AGE_SEC,
    emulatorHost: e.STORAGE_EMULATOR_HOST,
    logLevel: e.LOG_LEVEL,
  };
}
