// What an active vault needs, as pure functions: the maintenance facts in,
// the tasks out, and how the loop carries them out (which lane, in which
// order, when it has converged). maintain.ts gathers the facts and does the
// tasks; each new fault is one case here.
import * as D from "./diagnoses";
import type { Diagnosis, SecretNames } from "./diagnoses";
import { RECORD_OF, SECRET_OF, tokenIn, type ManagedToken, type TokenRecordKey, type TokenRecords } from "./managed-tokens";
import { storeBlip, type CanaryRecord, type PlanTokenRecord, type RecordState, type RootTokenRecord, type SidecarTokenRecord } from "./records";

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

  for (const token of MINT_ORDER) {
    const status = m.tokens[token];
    const stored = storedToken(token, m);
    const remembered = rememberedToken(token, m);
    if (token === "generate-root" && !stored && m.records.root.kind === "ok" && !m.revokeRootToken) continue; // root kept on purpose
    if (status.kind === "valid") {
      // The token works; its record must hold it (repair from memory when the stored copy is gone or garbled).
      if (remembered && stored !== remembered) tasks.push({ kind: "repair-record", token });
      if (status.ttlSec < m.periods[token] / 2) tasks.push({ kind: "renew", token });
    } else if (status.kind === "invalid" || (!stored && !remembered && !storeBlip(m.records[RECORD_OF[token]]))) {
      // A record the store did not return is not a missing one: minting then would leave its token valid, unstored and unrenewed.
      if (m.unwritable[RECORD_OF[token]] === undefined) tasks.push({ kind: "mint", token });
    }
  }

  const sidecar = m.records.sidecar.kind === "ok" ? m.records.sidecar.value : m.remembered.sidecar;
  // Nothing to compare while the sidecar's record did not come back and nothing is remembered: wait for the store.
  const sidecarUnknown = !sidecar && storeBlip(m.records.sidecar);
  if (!sidecarUnknown && (!sidecar || sidecar.policiesSha256 !== m.policiesSha256 || m.tokens.sidecar.kind !== "valid")) {
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
    const needed = m.tokens[token].kind === "invalid" || (!storedToken(token, m) && !rememberedToken(token, m) && !storeBlip(m.records[key]));
    if (problem && needed) return D.tokenNotStorable(token, secret, problem);
  }
  return undefined;
}

/** The order tokens are made in: generate-root first, so the way back to root is stored before the initial root goes. */
export const MINT_ORDER: readonly ManagedToken[] = ["generate-root", "sidecar", "plan"];

/** Who carries a task out: the loop alone, under a short-lived root, or with the sidecar's own token. */
export interface Lanes {
  readonly plain: readonly Task[];
  readonly root: readonly Task[];
  readonly sidecarToken: readonly Task[];
}

export function lanes(tasks: readonly Task[]): Lanes {
  const withSidecarToken = (t: Task) => t.kind === "sync-tenant-policies" || t.kind === "verify";
  return { plain: tasks.filter((t) => !needsRoot(t) && !withSidecarToken(t)), root: tasks.filter(needsRoot), sidecarToken: tasks.filter(withSidecarToken) };
}

/** What one short-lived root does, in order (the audit devices are checked first, every time). */
export interface RootBatch {
  /** Write the policies vault-gke owns: asked for, or a new sidecar token is made (its record carries their digest). */
  readonly writePolicies: boolean;
  readonly mint: readonly ManagedToken[];
  /** Policies are rewritten for the same sidecar token: its record gets the new digest once they are written. */
  readonly recordPolicyDigest: boolean;
  /** Revoke the initial root (only once the generate-root token works). */
  readonly revokeInitialRoot: boolean;
}

export function rootBatch(tasks: readonly Task[]): RootBatch {
  const mint = MINT_ORDER.filter((token) => tasks.some((t) => t.kind === "mint" && t.token === token));
  const writePolicies = tasks.some((t) => t.kind === "write-policies") || mint.includes("sidecar");
  return {
    writePolicies,
    mint,
    recordPolicyDigest: writePolicies && !mint.includes("sidecar"),
    revokeInitialRoot: tasks.some((t) => t.kind === "revoke-initial-root"),
  };
}

/** Everything is in place: what is left is the periodic work of a healthy vault. */
export function converged(tasks: readonly Task[]): boolean {
  return tasks.every((t) => t.kind === "verify" || t.kind === "sync-tenant-policies" || t.kind === "renew");
}

/** What needed root, in words, for the no-way-back-to-root diagnosis. */
export function rootNeeds(tasks: readonly Task[]): string {
  return tasks.map((t) => (t.kind === "mint" ? `a new ${t.token} token` : t.kind)).join(", ");
}

/**
 * Statuses with which generate-root refuses for good (no generate-root token, no unauthenticated endpoint); others are
 * retried. A 400 about the nonce or an attempt in progress is a collision with someone else's generate-root (each
 * cancels an attempt it finds): retried too, not reported as a diagnosis.
 */
export function rootUnobtainable(status: number, errors: readonly string[] = []): boolean {
  if (errors.some((e) => /nonce|in progress/i.test(e))) return false;
  return [400, 403, 404, 405].includes(status);
}

/** An audit device the sidecar enables through the API: the file on the audit volume, and stdout beside it. */
export interface AuditDevice {
  readonly path: "file" | "stdout";
  readonly filePath: string;
}

/** What to do about audit devices: nothing, enable the missing ones through the API, or report that the configuration declares none. */
export type AuditAction =
  { readonly kind: "none" } | { readonly kind: "enable"; readonly devices: readonly AuditDevice[] } | { readonly kind: "report-missing" };

/**
 * In api mode (HashiCorp Vault, which declares no audit device in its configuration) two devices:
 * Vault refuses every request once no device can log, so a full audit disk must leave stdout logging.
 */
export function auditAction(mode: "config" | "api", activeDevices: readonly string[], auditFilePath: string): AuditAction {
  if (mode === "config") return activeDevices.length > 0 ? { kind: "none" } : { kind: "report-missing" };
  const wanted: AuditDevice[] = [
    { path: "file", filePath: auditFilePath },
    { path: "stdout", filePath: "stdout" },
  ];
  const missing = wanted.filter((d) => !activeDevices.includes(`${d.path}/`));
  return missing.length > 0 ? { kind: "enable", devices: missing } : { kind: "none" };
}
