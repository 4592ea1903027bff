// One restore: check the target, choose the snapshot, download it to a spool
// file while hashing it, compare the SHA-256 with the one recorded when it was
// taken, and (unless a dry run) stream it to sys/storage/raft/snapshot-force.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Backoff, sleep } from "../shared/backoff";
import type { Logger } from "../shared/log";
import type { RestoreOptions } from "./config";
import { inspectTarget, notReadyReason, RESTORE_PATH, tokenRefusal, whyNotEmpty } from "./target";
import type { SnapshotBucket, StoredSnapshot } from "../archive/bucket";
import { METADATA, SNAPSHOT_FORMAT, snapshotPrefix } from "../archive/object";
import type { SnapshotVault } from "../vault/snapshot-api";

/** The command decided not to go on, to protect the target or because the snapshot is not trustworthy (exit 3). */
export class RestoreRefused extends Error {
  constructor(
    message: string,
    readonly reasons: readonly string[] = [],
  ) {
    super(message);
    this.name = "RestoreRefused";
  }
}

export interface RestoreOutcome {
  readonly object: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly takenAt: string;
  readonly restored: boolean;
  /** After a restore: whether the target sealed itself (its keyring is now the snapshot's). */
  readonly sealedAfter?: boolean;
}

export interface RestoreDeps {
  readonly options: RestoreOptions;
  readonly bucket: SnapshotBucket;
  /** Absent in a dry run without a target. */
  readonly vault?: SnapshotVault;
  readonly log: Logger;
  /** How long to wait for the target to settle (unsealed or sealed) after the restore. @default 120000 */
  readonly settleTimeoutMs?: number;
}

/** Refuses a snapshot whose recorded metadata is missing or is not this environment's. */
export function checkMetadata(snapshot: StoredSnapshot, environment: string, bucket: string): string {
  const sha256 = snapshot.metadata[METADATA.sha256];
  const problems: string[] = [];
  if (snapshot.metadata[METADATA.format] !== SNAPSHOT_FORMAT)
    problems.push(`metadata ${METADATA.format} is ${JSON.stringify(snapshot.metadata[METADATA.format] ?? null)}, expected ${SNAPSHOT_FORMAT}`);
  if (snapshot.metadata[METADATA.environment] !== environment)
    problems.push(`metadata ${METADATA.environment} is ${JSON.stringify(snapshot.metadata[METADATA.environment] ?? null)}, expected ${environment}`);
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) problems.push(`metadata ${METADATA.sha256} is ${JSON.stringify(sha256 ?? null)}, expected 64 hex digits`);
  if (problems.length) {
    throw new RestoreRefused(
      `refusing gs://${bucket}/${snapshot.name}: it was not written by the snapshot command (or its metadata was changed), so its SHA-256 cannot be checked; pick another snapshot with --object`,
      problems,
    );
  }
  return sha256 as string;
}

/**
 * After snapshot-force the server reloads the snapshot's root key through its
 * seal: it seals itself when its seal cannot unwrap it (Shamir, or another KMS
 * key), or goes on serving the snapshot's data (the same KMS key, or a
 * snapshot of this very keyring). Until then reads fail (the data is under a
 * keyring the server does not hold yet). Settled: sealed (503), or a token
 * lookup that gets a real answer (200, or 403 when the target's token is not
 * in the snapshot). Returns true (sealed), false (unsealed), or undefined.
 */
async function waitUntilSettled(vault: SnapshotVault, token: string, timeoutMs: number): Promise<boolean | undefined> {
  const deadline = Date.now() + timeoutMs;
  const status = (path: string, options: { token?: string } = {}) =>
    vault.json("GET", path, { ...options, timeoutMs: 15_000 }).then(
      (r) => r.status,
      () => 0,
    );
  const backoff = new Backoff(100, 1000);
  while (Date.now() < deadline) {
    const health = await status("sys/health");
    if (health === 503) return true;
    if (health === 200 && [200, 403].includes(await status("auth/token/lookup-self", { token }))) return false;
    await sleep(backoff.next());
  }
  return undefined;
}

export async function runRestore(deps: RestoreDeps, signal: AbortSignal): Promise<RestoreOutcome> {
  const { options, bucket, vault, log } = deps;
  const target = options.target;
  if (vault && target) {
    // A target that is not ready, or a token that may not restore, is refused (exit 3) before anything is downloaded.
    const refusal = (await notReadyReason(vault)) ?? (await tokenRefusal(vault, target.token));
    if (refusal) throw new RestoreRefused(refusal, [refusal]);
    const reasons = whyNotEmpty(await inspectTarget(vault, target.token));
    if (reasons.length > 0 && !options.force) {
      throw new RestoreRefused(
        `refusing to overwrite ${target.addr}: it is not empty (${reasons.join("; ")}); a restore replaces everything in it. Pass --force if that is what you want`,
        reasons,
      );
    }
    log.info(
      { vault: target.addr, empty: reasons.length === 0, notEmpty: reasons, force: options.force },
      reasons.length ? "target vault is not empty; going on because of --force" : "target vault is empty",
    );
  }

  const snapshot = options.object ? await bucket.find(options.environment, options.object) : await bucket.newest(options.environment);
  if (!snapshot)
    throw new Error(
      `no snapshots under gs://${options.bucket}/${snapshotPrefix(options.environment)}; check --bucket and --environment (the environment the snapshot was taken in)`,
    );
  const sha256 = checkMetadata(snapshot, options.environment, options.bucket);
  log.info({ object: snapshot.name, bytes: snapshot.bytes, takenAt: snapshot.takenAt.toISOString(), generation: snapshot.generation }, "snapshot chosen");

  const dir = mkdtempSync(join(options.spoolDir, "vault-gke-restore-"));
  try {
    const file = join(dir, "snapshot.partial");
    const digests = await bucket.download(snapshot, file, signal);
    if (digests.sha256 !== sha256) {
      throw new RestoreRefused(
        `refusing gs://${options.bucket}/${snapshot.name}: its SHA-256 is ${digests.sha256} but ${sha256} was recorded when it was taken; the object is corrupted or was replaced. Do not restore it; pick another snapshot with --object`,
        [`sha256 mismatch`],
      );
    }
    const base = { object: snapshot.name, bytes: digests.bytes, sha256: digests.sha256, takenAt: snapshot.takenAt.toISOString() };
    log.info(base, "snapshot downloaded and its SHA-256 verified");
    if (options.dryRun || !vault || !target) return { ...base, restored: false };

    log.info({ vault: target.addr, object: snapshot.name }, "restoring (snapshot-force)");
    await vault.upload(`POST ${RESTORE_PATH}`, RESTORE_PATH, target.token, file, digests.bytes, [200, 204], signal);
    const sealedAfter = await waitUntilSettled(vault, target.token, deps.settleTimeoutMs ?? 120_000);
    return { ...base, restored: true, sealedAfter };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
