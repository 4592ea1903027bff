// The restore command's flags and environment. Usage mistakes become one line
// each; the command exits 2. VAULT_TOKEN is read from the environment only
// (never a flag: flags show in shell history and process listings).
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  bucketName,
  CommandConfigError,
  emulatorHost,
  environmentName,
  existingDirectory,
  existingFile,
  logLevel,
  parseEnv,
  vaultAddr,
} from "../shared/command-env";
import { snapshotPrefix, snapshotTime } from "../archive/object";

export const RESTORE_USAGE = `usage: restore --bucket BUCKET --environment ENV (--object NAME | --latest) [--dry-run] [--force]

Restores a Raft snapshot taken by the snapshot command into a target vault.
  --bucket BUCKET     the snapshot bucket (without gs://)
  --environment ENV   the environment the snapshot was taken in (objects ENV/ENV-<time>.snap)
  --object NAME       one snapshot: ENV/ENV-20260101T000000Z.snap (or just its file name)
  --latest            the newest snapshot of ENV
  --dry-run           only download and verify the SHA-256; change nothing
  --force             restore even into a target vault that is not empty
environment:
  VAULT_ADDR          https:// address of the target vault's active server
  VAULT_CACERT        CA certificate file to verify it
  VAULT_TOKEN         a root or sudo token of the target vault (never printed)
  SPOOL_DIR           where the download is kept while it is verified (default: the system temp folder)
With --dry-run the VAULT_* variables are optional; when set, the target is checked (read-only) too.`;

export interface RestoreTarget {
  readonly addr: string;
  readonly caCertFile: string;
  readonly token: string;
}

export interface RestoreOptions {
  readonly bucket: string;
  readonly environment: string;
  /** The full object name, or undefined with --latest. */
  readonly object?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  /** Undefined only in a dry run without VAULT_ADDR. */
  readonly target?: RestoreTarget;
  readonly spoolDir: string;
  readonly emulatorHost?: string;
  readonly logLevel: string;
}

export class HelpRequested extends Error {}

const flagsSchema = z.object({
  "--bucket": bucketName(),
  "--environment": environmentName(),
});

const targetSchema = z.object({
  VAULT_ADDR: vaultAddr(),
  VAULT_CACERT: existingFile("point VAULT_CACERT at the CA certificate of the target vault's TLS certificate"),
  VAULT_TOKEN: z
    .string({ error: "is required: a root or sudo token of the target vault" })
    .min(1, { error: "is required: a root or sudo token of the target vault" }),
});

const commonSchema = z.object({
  SPOOL_DIR: existingDirectory("point SPOOL_DIR at a folder with room for the snapshot, or unset it").optional(),
  STORAGE_EMULATOR_HOST: emulatorHost(),
  LOG_LEVEL: logLevel(),
});

function usageError(problem: string): CommandConfigError {
  return new CommandConfigError([`restore: ${problem}`, "run restore --help for the usage"]);
}

/** The full object name for --object, which may be given with or without the environment's folder. */
export function objectName(environment: string, given: string): string {
  const name = given.includes("/") ? given : `${snapshotPrefix(environment)}${given}`;
  if (!snapshotTime(environment, name)) {
    throw usageError(
      `--object ${JSON.stringify(given)} is not one of environment ${environment}'s snapshots; expected ${snapshotPrefix(environment)}${environment}-<YYYYMMDDTHHMMSSZ>.snap`,
    );
  }
  return name;
}

export function parseRestoreArgs(argv: readonly string[], env: Record<string, string | undefined>): RestoreOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        bucket: { type: "string" },
        environment: { type: "string" },
        object: { type: "string" },
        latest: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (values.help) throw new HelpRequested();
  const flags = parseEnv("restore", flagsSchema, { "--bucket": values.bucket, "--environment": values.environment });
  if ((values.object === undefined) === !values.latest) throw usageError("give exactly one of --object NAME and --latest");
  const object = values.object === undefined ? undefined : objectName(flags["--environment"], values.object);
  const dryRun = values["dry-run"];
  const common = parseEnv("restore config", commonSchema, env);
  // A dry run without a target only checks the snapshot; with VAULT_ADDR set it checks the target too.
  const wantTarget = !dryRun || env.VAULT_ADDR !== undefined;
  const target = wantTarget ? parseEnv("restore config", targetSchema, env) : undefined;
  return {
    bucket: flags["--bucket"],
    environment: flags["--environment"],
    object,
    dryRun,
    force: values.force,
    target: target && { addr: target.VAULT_ADDR, caCertFile: target.VAULT_CACERT, token: target.VAULT_TOKEN },
    spoolDir: common.SPOOL_DIR ?? tmpdir(),
    emulatorHost: common.STORAGE_EMULATOR_HOST,
    logLevel: common.LOG_LEVEL,
  };
}
