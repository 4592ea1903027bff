// The snapshot command's entry point (dist/snapshot.js; the CronJob runs it).
//   0 snapshot stored; 1 a step failed (the line names it); 2 bad configuration.
// A stop signal (the job's deadline) ends the run through the same cleanup:
// the spool file is removed and the Vault token revoked.
import { readFileSync } from "node:fs";
import { createLogger } from "../shared/log";
import { SnapshotBucket, storageClient } from "../archive/bucket";
import { loadSnapshotConfig, type SnapshotConfig } from "./config";
import { CommandConfigError } from "../shared/command-env";
import { runSnapshot, SnapshotStepError } from "./run";
import { SnapshotVault } from "../vault/snapshot-api";

export const SNAPSHOT_EXIT = { ok: 0, failed: 1, config: 2 } as const;

function main(): void {
  let config: SnapshotConfig;
  try {
    config = loadSnapshotConfig(process.env);
  } catch (error) {
    if (!(error instanceof CommandConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`${line}\n`);
    process.exit(SNAPSHOT_EXIT.config);
  }
  const log = createLogger(config.logLevel).child({ command: "snapshot" });
  const vault = new SnapshotVault({ address: config.vaultAddr, ca: readFileSync(config.vaultCaCertFile) });
  const bucket = new SnapshotBucket(config.bucket, storageClient(config.emulatorHost));
  if (config.emulatorHost) log.warn({ emulator: config.emulatorHost }, "STORAGE_EMULATOR_HOST is set: snapshots go to a Cloud Storage emulator, not GCS");

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    log.warn({ signal }, "stop requested; cleaning up");
    stop.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  const started = Date.now();
  const context = { environment: config.environment, bucket: config.bucket, vault: config.vaultAddr };
  log.info({ ...context, maxAgeSec: config.maxAgeSec }, "snapshot starting");
  runSnapshot({ config, vault, bucket, log }, stop.signal)
    .then((result) => {
      log.info(
        {
          ...context,
          object: result.object,
          bytes: result.bytes,
          sha256: result.sha256,
          crc32c: result.crc32c,
          alreadyStored: result.alreadyStored,
          durationMs: Date.now() - started,
        },
        "snapshot stored",
      );
      vault.close();
      process.exit(SNAPSHOT_EXIT.ok);
    })
    .catch((error: Error) => {
      const step = error instanceof SnapshotStepError ? error.step : "unexpected";
      log.error({ ...context, step, err: { message: error.message }, durationMs: Date.now() - started }, `snapshot failed at step ${step}`);
      vault.close();
      process.exit(SNAPSHOT_EXIT.failed);
    });
}

main();
