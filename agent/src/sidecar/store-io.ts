// The sidecar's reads and writes of its Secret Manager records, as facts for
// the decisions: a failed read is an "error" state, never taken for "absent".
import { Backoff, sleep } from "../shared/backoff";
import type { StoreProblem } from "./diagnoses";
import {
  encode,
  FORMATS,
  parseRecord,
  storeBlip,
  type PlanTokenRecord,
  type RecordState,
  type RootTokenRecord,
  type SidecarTokenRecord,
  type StoredInit,
} from "./records";
import { SECRET_PERMISSIONS, type SecretStoreError } from "./secret-store";
import type { Context, Records } from "./state";

export async function readRecord<T extends { format: string }>(ctx: Context, secretId: string, format: T["format"]): Promise<RecordState<T>> {
  try {
    return parseRecord<T>(await ctx.store.accessLatest(secretId), format);
  } catch (error) {
    const e = error as SecretStoreError;
    return { kind: "error", status: e.status ?? 0, message: e.message };
  }
}

export async function readInit(ctx: Context): Promise<RecordState<StoredInit>> {
  const state = await readRecord<StoredInit>(ctx, ctx.config.secrets.initResponse, FORMATS.init);
  if (state.kind === "ok") ctx.state.init = state.value;
  return state;
}

/** A record written only after the keys were stored, if one exists: proof the vault may hold data. */
export async function keysStoredEvidence(ctx: Context): Promise<string | null> {
  const s = ctx.config.secrets;
  for (const [secret, format] of [
    [s.rootToken, FORMATS.root],
    [s.sidecarToken, FORMATS.sidecar],
    [s.planToken, FORMATS.plan],
  ] as const) {
    const state = await readRecord<{ format: string; storedAt?: string }>(ctx, secret, format);
    if (state.kind === "ok") return `${secret} holds a record stored at ${state.value.storedAt ?? "an unknown time"}`;
    if (state.kind === "unreadable") return `${secret} holds a version (${state.reason})`;
    if (state.kind === "error") return `${secret} could not be read (${state.message}), so it cannot be ruled out`;
  }
  return null;
}

/** Whether each secret exists and lets this identity add and read versions. */
export async function preflight(ctx: Context): Promise<StoreProblem[]> {
  const problems: StoreProblem[] = [];
  for (const secret of Object.values(ctx.config.secrets)) {
    try {
      const { exists, granted } = await ctx.store.testPermissions(secret, SECRET_PERMISSIONS);
      if (!exists) problems.push({ secret, problem: "missing" });
      else {
        const missing = SECRET_PERMISSIONS.filter((p) => !granted.includes(p));
        if (missing.length) problems.push({ secret, problem: "denied", permissions: missing });
      }
    } catch (error) {
      problems.push({ secret, problem: "error", message: (error as Error).message });
    }
  }
  return problems;
}

/** Why a secret cannot take a new version now, or undefined when it can. */
export async function unwritable(ctx: Context, secret: string): Promise<string | undefined> {
  try {
    const { exists, granted } = await ctx.store.testPermissions(secret, ["secretmanager.versions.add"]);
    if (!exists) return "the secret does not exist";
    return granted.includes("secretmanager.versions.add") ? undefined : "missing secretmanager.versions.add";
  } catch (error) {
    return `the store did not answer (${(error as Error).message})`;
  }
}

/** Writes a small JSON document, retrying a few times. */
export async function writeJson(ctx: Context, secretId: string, doc: unknown, attempts = 5): Promise<void> {
  const retry = new Backoff(ctx.config.minWaitMs, 2000);
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.store.addVersion(secretId, encode(doc));
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      ctx.log.warn({ secret: secretId, attempt, err: { message: (error as Error).message } }, "write failed; retrying");
      await sleep(retry.next());
    }
  }
}

/** How long token records and token lookups are reused: a quarter of the plan token's period, at most a minute. */
export function tokenCheckIntervalMs(ctx: Pick<Context, "config">): number {
  return Math.min((ctx.config.planTokenPeriodSec * 1000) / 4, 60_000);
}

/** The token records, read again at most every token-check interval. */
export async function currentRecords(ctx: Context): Promise<Records> {
  const { state } = ctx;
  // A record the store did not return is asked for again on the next pass, not after the interval.
  const blip = state.records && Object.values(state.records.value).some(storeBlip);
  if (state.records && !blip && Date.now() - state.records.at < tokenCheckIntervalMs(ctx)) return state.records.value;
  const s = ctx.config.secrets;
  const value: Records = {
    plan: await readRecord<PlanTokenRecord>(ctx, s.planToken, FORMATS.plan),
    sidecar: await readRecord<SidecarTokenRecord>(ctx, s.sidecarToken, FORMATS.sidecar),
    root: await readRecord<RootTokenRecord>(ctx, s.rootToken, FORMATS.root),
  };
  // An intact record read from the store is the newest truth (another pod may have written it).
  if (value.plan.kind === "ok") state.remembered.plan = value.plan.value;
  if (value.sidecar.kind === "ok") state.remembered.sidecar = value.sidecar.value;
  if (value.root.kind === "ok") state.remembered.root = value.root.value;
  state.records = { at: Date.now(), value };
  return value;
}
