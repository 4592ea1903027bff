// The sidecar's decisions as pure functions: what it knows in, the next step
// out. The loop (bootstrap.ts) gathers facts, asks, does what it is told, and
// gathers again. Every fault the sidecar meets is one case here.
import * as D from "./diagnoses";
import type { Diagnosis, SecretNames, StoreProblem } from "./diagnoses";
import type { CanaryRecord, PlanTokenRecord, RecordState, RootTokenRecord, SidecarTokenRecord, StoredInit } from "./records";
import { RECORD_OF, SECRET_OF, tokenIn, type ManagedToken, type TokenRecordKey, type TokenRecords } from "./managed-tokens";
import type { Health } from "../vault/client";

export interface Facts {
  readonly health: Health;
  readonly pod: string;
  readonly initializer: boolean;
  readonly seal: "auto" | "shamir";
  readonly storage: "raft" | "gcs";
  readonly secrets: SecretNames;
  /** Keys this process received from init and has not stored yet. */
  readonly holdsUnstoredKeys: boolean;
  readonly init: RecordState<StoredInit>;
  /** Gathered only when a decision needs it. */
  readonly canary?: RecordState<CanaryRecord>;
  /** What proves the keys were stored once (a record written only after that), if anything. */
  readonly keysStoredEvidence?: string | null;
  /** Whether every secret is ready for the keys (gathered right before an init). */
  readonly preflight?: readonly StoreProblem[];
  /** The server's refusal of this process's last init, if it refused. */
  readonly initRefused?: { readonly status: number; readonly errors: readonly string[] };
}

export type Decision =
  | { readonly kind: "wait"; readonly why: string }
  | { readonly kind: "store-keys" }
  | { readonly kind: "gather-canary" }
  | { readonly kind: "gather-evidence" }
  | { readonly kind: "gather-preflight" }
  | { readonly kind: "initialize" }
  | { readonly kind: "unseal"; readonly init: StoredInit }
  | { readonly kind: "diagnose"; readonly diagnosis: Diagnosis }
  | { readonly kind: "maintain"; readonly init: StoredInit };

/** Raft bootstrapped before the init was cut off: every later init is refused with this. */
const HALF_INITIALIZED = /already has state|already initialized.*raft|raft.*already/i;

export function decide(f: Facts): Decision {
  // Keys in memory come first: nothing else matters until they are stored.
  if (f.holdsUnstoredKeys) return { kind: "store-keys" };
  const h = f.health;
  switch (h.kind) {
    case "unreachable":
    case "unexpected":
    case "dr-secondary":
      return { kind: "wait", why: `vault is ${h.kind}` };
    case "uninitialized":
      return uninitialized(f);
    case "sealed":
      if (f.seal !== "shamir") return { kind: "wait", why: "auto-unseal: vault unseals itself once it reaches its key" };
      return f.init.kind === "ok" ? { kind: "unseal", init: f.init.value } : keysMissing(f);
    case "standby":
    case "perf-standby":
      return f.init.kind === "ok" ? { kind: "wait", why: "standby" } : keysMissing(f);
    case "active":
      return f.init.kind === "ok" ? { kind: "maintain", init: f.init.value } : keysMissing(f);
  }
}

function uninitialized(f: Facts): Decision {
  if (!f.initializer) {
    // A Raft follower joins through retry_join; with Shamir it needs the keys to finish.
    if (f.init.kind === "ok" && f.seal === "shamir" && f.storage === "raft") return { kind: "unseal", init: f.init.value };
    return { kind: "wait", why: "only the first pod initializes; this one joins" };
  }
  if (f.init.kind === "ok") return { kind: "diagnose", diagnosis: D.keysStoredButVaultUninitialized(f.init.value, f.secrets) };
  if (f.initRefused && (f.initRefused.status === 400 || f.initRefused.status === 500) && f.initRefused.errors.some((e) => HALF_INITIALIZED.test(e))) {
    return { kind: "diagnose", diagnosis: D.halfInitializedStorage(f.pod, f.initRefused.errors) };
  }
  if (f.preflight === undefined) return { kind: "gather-preflight" };
  if (f.preflight.length > 0) return { kind: "diagnose", diagnosis: D.storeNotReady(f.preflight, f.pod) };
  // Whether keys exist must be known before an init: an unreadable store is never taken for an empty one.
  if (f.init.kind !== "absent") return { kind: "diagnose", diagnosis: D.initResponseUnreadable(f.init, f.secrets, false) };
  return { kind: "initialize" };
}

/** Vault is initialized and the init response is not readable: say precisely why, prescribing a wipe only with proof that no data exists. */
function keysMissing(f: Facts): Decision {
  if (f.init.kind === "unreadable" || f.init.kind === "error") return { kind: "diagnose", diagnosis: D.initResponseUnreadable(f.init, f.secrets, true) };
  if (f.canary === undefined) return { kind: "gather-canary" };
  if (f.keysStoredEvidence === undefined) return { kind: "gather-evidence" };
  if (f.keysStoredEvidence) return { kind: "diagnose", diagnosis: D.keysGone(f.keysStoredEvidence, f.secrets) };
  const canary = f.canary;
  if (canary.kind === "ok" && canary.value.kind === "initialized") return { kind: "diagnose", diagnosis: D.keysGone(`the canary says so since ${canary.value.at}`, f.secrets) };
  if (canary.kind === "ok" && canary.value.kind === "intent") return { kind: "diagnose", diagnosis: D.keysLostBeforeFirstWrite(canary.value, f.secrets) };
  if (canary.kind === "absent") return { kind: "diagnose", diagnosis: D.initializedElsewhere(f.seal, f.secrets) };
  // The canary itself cannot be read: there is no proof either way, so no wipe.
  return { kind: "diagnose", diagnosis: D.initResponseUnreadable({ kind: "absent" }, f.secrets, true) };
}

// ---- Maintenance of an active vault ------------------------------------------------

export type { ManagedToken } from "./managed-tokens";

/** What a lookup of a token said: valid (with its remaining TTL), invalid (an active server said 403), or not known. */
export type TokenStatus = { readonly kind: "valid"; readonly ttlSec: number } | { readonly kind: "invalid" } | { readonly kind: "unknown" };

export interface MaintenanceFacts {
  readonly canary: RecordState<CanaryRecord>;
  readonly policiesSha256: string;
  readonly records: {
    readonly plan: RecordState<PlanTokenRecord>;
    readonly sidecar: RecordState<SidecarTokenRecord>;
    readonly root: RecordState<RootTokenRecord>;
  };
  /** The newest copy of each record this process wrote or read intact. */
  readonly remembered: Readonly<TokenRecords>;
  readonly tokens: Readonly<Record<ManagedToken, TokenStatus>>;
  readonly periods: Readonly<Record<ManagedToken, number>>;
  /** The initial root token (stored or in the init response) still works and must be revoked. */
  readonly initialRootValid: boolean;
  readonly revokeRootToken: boolean;
  /** Secrets that cannot take a new version (from a permission check), with why. */
  readonly unwritable: Readonly<Partial<Record<TokenRecordKey, string>>>;
  readonly now: number;
  readonly tenantPoliciesDueAt: number;
  readonly verifyDueAt: number;
}

export type Task =
  | { readonly kind: "mark-canary-initialized" }
  | { readonly kind: "repair-record"; readonly token: ManagedToken }
  | { readonly kind: "renew"; readonly token: ManagedToken }
  | { readonly kind: "write-policies" }
  | { readonly kind: "mint"; readonly token: ManagedToken }
  | { readonly kind: "revoke-initial-root" }
  | { readonly kind: "sync-tenant-policies" }
  | { readonly kind: "verify" };

function storedToken(token: ManagedToken, m: MaintenanceFacts): string | undefined {
  const state = m.records[RECORD_OF[token]];
  return state.kind === "ok" ? tokenIn(state.value, token) : undefined;
}

function rememberedToken(token: ManagedToken, m: MaintenanceFacts): string | undefined {
  return tokenIn(m.remembered[RECORD_OF[token]], token);
}

/**
 * The tasks an active vault needs now, each independent of the others: a bad
 * record or a failing store for one token never stalls the renewal of another.
 * Tasks that need root are batched by the loop under one short-lived root.
 */
export function planMaintenance(m: MaintenanceFacts): Task[] {
  const tasks: Task[] = [];
  if (!(m.canary.kind === "ok" && m.canary.value.kind === "initialized")) tasks.push({ kind: "mark-canary-initialized" });

  for (const token of ["generate-root", "sidecar", "plan"] as const) {
    const status = m.tokens[token];
    const stored = storedToken(token, m);
    const remembered = rememberedToken(token, m);
    if (token === "generate-root" && !stored && m.records.root.kind === "ok" && !m.revokeRootToken) continue; // root kept on purpose
    if (status.kind === "valid") {
      // The token works; its record must hold it (repair from memory when the stored copy is gone or garbled).
      if (remembered && stored !== remembered) tasks.push({ kind: "repair-record", token });
      if (status.ttlSec < m.periods[token] / 2) tasks.push({ kind: "renew", token });
    } else if (status.kind === "invalid" || (!stored && !remembered)) {
      if (m.unwritable[RECORD_OF[token]] === undefined) tasks.push({ kind: "mint", token });
    }
  }

  const sidecar = m.records.sidecar.kind === "ok" ? m.records.sidecar.value : m.remembered.sidecar;
  if (!sidecar || sidecar.policiesSha256 !== m.policiesSha256 || m.tokens.sidecar.kind !== "valid") {
    // Policies are written with root, then recorded in the sidecar's record (minted or rewritten with it).
    if (!tasks.some((t) => t.kind === "mint" && t.token === "sidecar") && m.unwritable.sidecar === undefined) tasks.push({ kind: "write-policies" });
  }
  const generateRootReady = m.tokens["generate-root"].kind === "valid" || tasks.some((t) => t.kind === "mint" && t.token === "generate-root");
  if (m.initialRootValid && m.revokeRootToken && generateRootReady) tasks.push({ kind: "revoke-initial-root" });

  if (m.tokens.sidecar.kind === "valid") {
    if (m.now >= m.tenantPoliciesDueAt) tasks.push({ kind: "sync-tenant-policies" });
    if (m.now >= m.verifyDueAt) tasks.push({ kind: "verify" });
  }
  return tasks;
}

/** Tasks that run under a short-lived root token. */
export function needsRoot(task: Task): boolean {
  return task.kind === "mint" || task.kind === "write-policies" || task.kind === "revoke-initial-root";
}

/** Why a token task could not be done, as the diagnosis to report (not storable) or none. */
export function unstorableDiagnosis(m: MaintenanceFacts, secrets: SecretNames): Diagnosis | undefined {
  for (const token of ["plan", "sidecar", "generate-root"] as const) {
    const key = RECORD_OF[token];
    const secret = secrets[SECRET_OF[key]];
    const problem = m.unwritable[key];
    const needed = m.tokens[token].kind === "invalid" || (!storedToken(token, m) && !rememberedToken(token, m));
    if (problem && needed) return D.tokenNotStorable(token, secret, problem);
  }
  return undefined;
}
