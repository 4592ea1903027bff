// Initializing and unsealing: the steps decide.ts asks for before the vault
// is active. The init response is stored first thing, and kept in memory
// (holding up a stop) until Secret Manager has it intact.
import { Backoff, sleep } from "../shared/backoff";
import { VaultError, type InitResponse } from "../vault/client";
import { encode, FORMATS, keySharesOf, type CanaryRecord, type RootTokenRecord, type StoredInit } from "./records";
import { resolved } from "./reporting";
import type { Context } from "./state";
import { readRecord, writeJson } from "./store-io";
import { checkpoint, pauseAt } from "./test-hooks";

/** Thrown when the stop grace period ran out with keys still unstored. */
export class KeysUnstored extends Error {
  constructor() {
    super("the init response could not be stored before the stop grace period ended");
    this.name = "KeysUnstored";
  }
}

export async function initialize(ctx: Context): Promise<void> {
  const { config, log, state } = ctx;
  resolved(ctx);
  checkpoint("before-intent", log);
  await recordIntent(ctx);
  checkpoint("after-intent", log);
  await pauseAt("after-intent", log);
  const request =
    config.seal === "shamir"
      ? { secret_shares: config.keyShares, secret_threshold: config.keyThreshold }
      : { recovery_shares: config.keyShares, recovery_threshold: config.keyThreshold };
  log.info({ seal: config.seal, shares: config.keyShares, threshold: config.keyThreshold }, "initializing vault");
  let response: InitResponse;
  try {
    response = await ctx.vault.init(request);
  } catch (error) {
    if (error instanceof VaultError) state.initRefused = { status: error.status, errors: [...error.vaultErrors] };
    throw error;
  }
  state.initRefused = undefined;
  state.unstored = response;
  checkpoint("after-init", log);
  await pauseAt("after-init", log);
  await persistInit(ctx, response);
  checkpoint("after-store", log);
  const record: RootTokenRecord = { format: FORMATS.root, root_token: response.root_token, storedAt: new Date().toISOString() };
  await writeJson(ctx, config.secrets.rootToken, record);
  state.remembered.root = record;
  checkpoint("after-root-stored", log);
  // If this write fails, the active vault's maintenance writes it (it retries until the canary says so).
  await markCanaryInitialized(ctx);
}

/** Proves the store can be written and read (on the canary, never the key secret) and records the intent to initialize. */
async function recordIntent(ctx: Context): Promise<void> {
  const secret = ctx.config.secrets.canary;
  const record = await writeCanary(ctx, "intent");
  const back = await readRecord<CanaryRecord>(ctx, secret, FORMATS.canary);
  if (back.kind !== "ok" || back.value.at !== record.at || back.value.kind !== "intent") {
    throw new Error(`the canary secret ${secret} did not read back what was written; not initializing until the store works`);
  }
  ctx.log.info({ secret }, "secret store works; intent to initialize recorded");
}

async function writeCanary(ctx: Context, kind: CanaryRecord["kind"]): Promise<CanaryRecord> {
  const record: CanaryRecord = { format: FORMATS.canary, kind, pod: ctx.config.podName, at: new Date().toISOString() };
  await ctx.store.addVersion(ctx.config.secrets.canary, encode(record));
  return record;
}

export async function markCanaryInitialized(ctx: Context): Promise<void> {
  const secret = ctx.config.secrets.canary;
  try {
    await writeCanary(ctx, "initialized");
    ctx.state.canaryInitialized = true;
    ctx.log.info({ secret }, "canary marks the vault initialized");
  } catch (error) {
    ctx.status.failed("mark-canary-initialized");
    ctx.log.warn({ secret, err: { message: (error as Error).message } }, "the canary could not be marked initialized; retrying on the next pass");
  }
}

/**
 * Stores the whole init response, first thing after init, and retries with
 * backoff until Secret Manager has it and it reads back intact. After
 * SIGTERM it keeps trying while the stop grace period lasts; an attempt
 * still under way when it runs out is abandoned, so the failure is logged
 * before the kubelet's SIGKILL.
 */
export async function persistInit(ctx: Context, response: InitResponse): Promise<void> {
  const { config, log, state, store } = ctx;
  const secret = config.secrets.initResponse;
  const doc: StoredInit = { format: FORMATS.init, storedAt: new Date().toISOString(), seal: config.seal, response };
  const bytes = encode(doc);
  const retry = new Backoff(config.minWaitMs, Math.min(config.maxWaitMs, 5000));
  for (let attempt = 1; ; attempt++) {
    ctx.status.heartbeat();
    const left = graceLeftMs(ctx);
    if (left !== undefined && left < 1000) {
      log.error({ secret }, "stop grace period spent and the init response is still not stored: the keys are lost with this process");
      throw new KeysUnstored();
    }
    try {
      await unlessAborted(
        (async () => {
          await store.addVersion(secret, bytes);
          const back = await store.accessLatest(secret);
          if (!back || !back.equals(bytes)) throw new Error("init response did not read back intact");
        })(),
        state.graceSpent.signal,
        "no answer before the stop grace period ran out",
      );
      state.unstored = undefined;
      state.init = doc;
      log.info({ secret, attempts: attempt }, "init response stored and verified");
      return;
    } catch (error) {
      ctx.status.failed("store-init-response");
      log.error({ secret, attempt, err: { message: (error as Error).message } }, "storing the init response failed; the keys are held in memory, retrying");
    }
    const wait = retry.next();
    const leftNow = graceLeftMs(ctx);
    await sleep(leftNow === undefined ? wait : Math.max(0, Math.min(wait, leftNow - 1000)));
  }
}

/** Milliseconds of the stop grace period left, or undefined when no stop was requested. */
function graceLeftMs(ctx: Context): number | undefined {
  const at = ctx.state.stopRequestedAt;
  return at === undefined ? undefined : at + ctx.config.stopGraceMs - Date.now();
}

/** Submits the stored keys; true once the server is unsealed. */
export async function unseal(ctx: Context, stored: StoredInit): Promise<boolean> {
  for (const share of keySharesOf(stored).slice(0, ctx.config.keyThreshold)) {
    const res = await ctx.vault.unseal(share);
    if (!res.sealed) {
      ctx.log.info("unsealed with the stored keys");
      checkpoint("after-unseal", ctx.log);
      return true;
    }
  }
  const status = await ctx.vault.sealStatus();
  if (status.sealed && status.initialized) {
    ctx.log.warn(
      { progress: status.progress, threshold: status.threshold },
      "still sealed after submitting the stored keys; waiting (a follower unseals once it has joined)",
    );
  }
  return false;
}

/** Resolves or rejects with `work`, or rejects with `why` once `signal` aborts (the work itself is not cancelled). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal, why: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(why));
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(why));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}
