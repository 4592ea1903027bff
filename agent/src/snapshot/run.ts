// One run of the snapshot command: check the age of the last snapshot, log in
// to Vault with the job's Kubernetes service account token, stream the Raft
// snapshot to a spool file while hashing it, upload it as a new object, and
// clean up (spool file, Vault token) whatever happened.
import { openSync, readFileSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../shared/log";
import type { SnapshotBucket } from "../archive/bucket";
import type { SnapshotConfig } from "./config";
import { snapshotMetadata, snapshotObjectName, snapshotPrefix } from "../archive/object";
import { removeSpool, spool } from "../archive/spool";
import type { SnapshotVault } from "../vault/snapshot-api";

/** The step a failure happened in; the failure line names it. */
export type SnapshotStep = "check-last-snapshot" | "login" | "snapshot" | "upload";

export class SnapshotStepError extends Error {
  constructor(
    readonly step: SnapshotStep,
    cause: unknown,
  ) {
    super(
      cause instanceof Error
        ? cause.message
        : typeof (cause as { message?: unknown })?.message === "string"
          ? (cause as { message: string }).message
          : String(cause),
    );
    this.name = "SnapshotStepError";
  }
}

export interface SnapshotResult {
  readonly object: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly crc32c: string;
  /** True when a retried upload found its own earlier attempt already stored. */
  readonly alreadyStored: boolean;
}

export interface SnapshotRunDeps {
  readonly config: SnapshotConfig;
  readonly vault: SnapshotVault;
  readonly bucket: SnapshotBucket;
  readonly log: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Message of the staleness line; an alert matches on it (see docs/disaster-recovery.md). */
export const STALE_MESSAGE = "last good snapshot is older than twice the schedule";
export const STALE_ALERT = "vault-snapshot-stale";

const SNAPSHOT_PATH = "sys/storage/raft/snapshot";

async function step<T>(name: SnapshotStep, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof SnapshotStepError ? error : new SnapshotStepError(name, error);
  }
}

/** Rejects as soon as `signal` aborts, so a stop request never waits for a slow upload. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("stopped before the step started"));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error("stopped by a signal"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function isGzip(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Logs the age of the newest snapshot, and the staleness line when it is too old. Never fails the run. */
export async function checkLastSnapshot(deps: SnapshotRunDeps): Promise<void> {
  const { config, bucket, log } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const where = { environment: config.environment, bucket: config.bucket, prefix: snapshotPrefix(config.environment) };
  try {
    const newest = await bucket.newest(config.environment);
    if (!newest) {
      log.warn({ ...where, maxAgeSec: config.maxAgeSec }, "no earlier snapshot in the bucket");
      return;
    }
    const ageSec = Math.round((now.getTime() - newest.takenAt.getTime()) / 1000);
    const fields = { ...where, lastObject: newest.name, lastSnapshotAt: newest.takenAt.toISOString(), ageSec, maxAgeSec: config.maxAgeSec };
    if (ageSec > config.maxAgeSec) log.error({ alert: STALE_ALERT, ...fields }, STALE_MESSAGE);
    else log.info(fields, "last snapshot");
  } catch (error) {
    // An error, not a warning: without storage.objects.list the staleness line can never be logged.
    log.error(
      { ...where, step: "check-last-snapshot", err: { message: (error as Error).message } },
      "could not list earlier snapshots (the job needs storage.objects.list on the bucket); taking one anyway",
    );
  }
}

export async function runSnapshot(deps: SnapshotRunDeps, signal: AbortSignal): Promise<SnapshotResult> {
  const { config, vault, bucket, log } = deps;
  const now = deps.now ?? (() => new Date());
  // It never fails the run, but a stop request must not wait for a slow listing.
  await step("check-last-snapshot", () => untilAborted(checkLastSnapshot(deps), signal));

  const token = await step("login", async () => {
    const jwt = readFileSync(config.tokenFile, "utf8").trim();
    const res = await vault.expect(`login at auth/${config.authPath}`, "POST", `auth/${config.authPath}/login`, [200], {
      body: { role: config.role, jwt },
      signal,
    });
    const clientToken = (res.body.auth as { client_token?: unknown } | undefined)?.client_token;
    if (typeof clientToken !== "string" || !clientToken) throw new Error(`vault login at auth/${config.authPath}: no token in the answer`);
    return clientToken;
  });
  log.info({ authPath: config.authPath, role: config.role }, "logged in to vault");

  const takenAt = now();
  const object = snapshotObjectName(config.environment, takenAt);
  const spoolFile = join(config.spoolDir, `${object.slice(object.lastIndexOf("/") + 1)}.partial`);
  try {
    const digests = await step("snapshot", async () => {
      const body = await vault.download(`GET ${SNAPSHOT_PATH}`, SNAPSHOT_PATH, token, signal);
      const d = await spool(body, spoolFile, signal);
      if (d.bytes === 0 || !isGzip(spoolFile)) throw new Error(`vault sent ${d.bytes} bytes that are not a gzip snapshot archive`);
      return d;
    });
    log.info({ bytes: digests.bytes, sha256: digests.sha256 }, "snapshot spooled");
    const stored = await step("upload", () =>
      untilAborted(bucket.upload(spoolFile, object, config.environment, digests, snapshotMetadata(config.environment, digests.sha256)), signal),
    );
    return { object: stored.name, bytes: digests.bytes, sha256: digests.sha256, crc32c: digests.crc32c, alreadyStored: stored.alreadyStored };
  } finally {
    removeSpool(spoolFile);
    try {
      await vault.expect("revoke-self", "POST", "auth/token/revoke-self", [204, 200], { token });
    } catch (error) {
      log.warn({ err: { message: (error as Error).message } }, "could not revoke the vault token; it expires with its TTL");
    }
  }
}
