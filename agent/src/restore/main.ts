// The restore command's entry point (dist/restore.js), for operators:
//   node restore.js --bucket B --environment E (--object NAME | --latest) [--dry-run] [--force]
// Exit codes: 0 restored (or, with --dry-run, verified); 1 failed (unreachable
// vault, missing object, download or restore error); 2 bad flags or
// environment; 3 refused (SHA-256 mismatch, missing snapshot metadata, a target
// that is sealed, uninitialized or a standby, a token that may not restore, a
// target that is not empty without --force). The token is never printed.
import { readFileSync } from "node:fs";
import { createLogger } from "../shared/log";
import { HelpRequested, parseRestoreArgs, RESTORE_USAGE, type RestoreOptions } from "./config";
import { RestoreRefused, runRestore } from "./run";
import { SnapshotBucket, storageClient } from "../archive/bucket";
import { CommandConfigError } from "../shared/command-env";
import { SnapshotVault } from "../vault/snapshot-api";

export const RESTORE_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

const UNSEAL_HINT =
  "the vault now holds the snapshot's keyring: unseal every server with the unseal keys of the vault the snapshot came from (Shamir: its init response), " +
  "or give the servers that vault's KMS key (auto-unseal); then log in with that vault's credentials";

function main(): void {
  let options: RestoreOptions;
  try {
    options = parseRestoreArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${RESTORE_USAGE}\n`);
      process.exit(RESTORE_EXIT.ok);
    }
    if (!(error instanceof CommandConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`${line}\n`);
    process.exit(RESTORE_EXIT.usage);
  }
  const log = createLogger(options.logLevel).child({ command: "restore" });
  const target = options.target;
  const vault = target ? new SnapshotVault({ address: target.addr, ca: readFileSync(target.caCertFile) }) : undefined;
  const bucket = new SnapshotBucket(options.bucket, storageClient(options.emulatorHost));
  if (options.emulatorHost) log.warn({ emulator: options.emulatorHost }, "STORAGE_EMULATOR_HOST is set: reading from a Cloud Storage emulator, not GCS");

  const stop = new AbortController();
  process.on("SIGINT", () => stop.abort());
  process.on("SIGTERM", () => stop.abort());

  const context = { bucket: options.bucket, environment: options.environment, dryRun: options.dryRun, vault: target?.addr };
  log.info(
    { ...context, object: options.object ?? "latest", force: options.force },
    options.dryRun ? "restore dry run starting: nothing will be changed" : "restore starting",
  );
  runRestore({ options, bucket, vault, log }, stop.signal)
    .then((outcome) => {
      if (!outcome.restored) {
        log.info(
          { ...context, ...outcome },
          target
            ? "dry run: the snapshot is intact and the target would accept it; nothing was changed"
            : "dry run: the snapshot is intact; nothing was changed",
        );
      } else if (outcome.sealedAfter === false) {
        log.info({ ...context, ...outcome }, "restored; the target is unsealed (its seal also unwraps the snapshot's keyring)");
      } else {
        log.info(
          { ...context, ...outcome, next: UNSEAL_HINT },
          outcome.sealedAfter ? "restored; the target sealed itself" : "restored; the target has not settled yet",
        );
      }
      vault?.close();
      process.exit(RESTORE_EXIT.ok);
    })
    .catch((error: Error) => {
      vault?.close();
      if (error instanceof RestoreRefused) {
        log.error({ ...context, reasons: error.reasons }, error.message);
        process.exit(RESTORE_EXIT.refused);
      }
      log.error({ ...context, err: { message: error.message } }, `restore failed: ${error.message}`);
      process.exit(RESTORE_EXIT.failed);
    });
}

main();
