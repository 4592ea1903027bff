// The converge loop: safe to run in every Vault pod, from any state, after any
// crash. Each pass gathers facts, asks decide.ts for the next step and does
// it; waits back off exponentially and end at once on SIGTERM. It never exits
// on its own: a state it cannot fix is a diagnosis it reports once and keeps
// reporting on its endpoint until a human fixes it.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeclaredAccess } from "../../../contract/declared-access";
import { POLICY } from "../../../contract/vault-names";
import { Backoff, sleep } from "../shared/backoff";
import type { BootstrapConfig } from "./config";
import { decide, needsRoot, planMaintenance, unstorableDiagnosis, type Facts, type MaintenanceFacts, type Task, type TokenStatus } from "./decide";
import * as D from "./diagnoses";
import type { Diagnosis, StoreProblem } from "./diagnoses";
import { generateRoot } from "../vault/generate-root";
import { readInventory } from "../verify/inventory";
import type { Logger } from "../shared/log";
import { accessorIn, RECORD_OF, SECRET_OF, tokenIn, type ManagedToken, type TokenRecordKey, type TokenRecords } from "./managed-tokens";
import {
  encode,
  FORMATS,
  keySharesOf,
  parseRecord,
  type CanaryRecord,
  type PlanTokenRecord,
  type RecordState,
  type RootTokenRecord,
  type SidecarTokenRecord,
  type StoredInit,
} from "./records";
import { SECRET_PERMISSIONS, type SecretStore, SecretStoreError } from "./secret-store";
import type { SidecarStatus } from "./status";
import { planTenantPolicies } from "../verify/tenant-policies";
import { checkpoint, pauseAt } from "./test-hooks";
import { verify } from "../verify/verifier";
import { VaultError, type Health, type InitResponse, type VaultClient } from "../vault/client";

export const EXIT = { ok: 0, config: 2, keysUnstored: 4 } as const;

/** The generate-root token's period: long, because it is the way back to root when every other token is gone. */
const GENERATE_ROOT_PERIOD_SEC = 768 * 3600;
const SIDECAR_TOKEN_PERIOD_SEC = 3600;
/** What is left of the stop grace period when a store attempt under way is abandoned: time to log and exit. */
const GRACE_MARGIN_MS = 500;

export interface BootstrapDeps {
  readonly config: BootstrapConfig;
  readonly vault: VaultClient;
  readonly store: SecretStore;
  readonly log: Logger;
  readonly status: SidecarStatus;
}

interface Policies {
  readonly byName: Record<string, string>;
  readonly sha256: string;
}

interface Root {
  readonly token: string;
  /** Made by generate-root for this batch: revoked when done. */
  readonly generated: boolean;
}

type Records = { plan: RecordState<PlanTokenRecord>; sidecar: RecordState<SidecarTokenRecord>; root: RecordState<RootTokenRecord> };

export class Bootstrapper {
  private readonly config: BootstrapConfig;
  private readonly vault: VaultClient;
  private readonly store: SecretStore;
  private readonly log: Logger;
  private readonly status: SidecarStatus;
  private readonly backoff: Backoff;
  private lastState = "";
  /** The init response never changes once read intact. */
  private init?: StoredInit;
  /** An init response held in memory until Secret Manager has it. */
  private unstored?: InitResponse;
  private initRefused?: { status: number; errors: string[] };
  private stopRequestedAt?: number;
  /** Aborts when the stop grace period has GRACE_MARGIN_MS left: ends a store attempt still under way. */
  private readonly graceSpent = new AbortController();
  /** Intact copies of the token records this process read or wrote: the source for repairing a garbled record. */
  private remembered: TokenRecords = {};
  private canaryInitialized = false;
  private initialRootRevoked = false;
  private records?: { at: number; value: Records };
  private tokenChecks?: { at: number; value: Record<ManagedToken, TokenStatus> };
  private tenantPoliciesDueAt = 0;
  private verifyDueAt = 0;

  constructor(deps: BootstrapDeps) {
    this.config = deps.config;
    this.vault = deps.vault;
    this.store = deps.store;
    this.log = deps.log;
    this.status = deps.status;
    this.backoff = new Backoff(this.config.minWaitMs, this.config.maxWaitMs);
  }

  /** True while keys exist only in this process: a stop must wait for them to be stored. */
  get holdsUnstoredKeys(): boolean {
    return this.unstored !== undefined;
  }

  /** Runs until `stop` aborts; resolves with the process exit code. */
  async run(stop: AbortSignal): Promise<number> {
    stop.addEventListener(
      "abort",
      () => {
        this.stopRequestedAt = Date.now();
        setTimeout(() => this.graceSpent.abort(), Math.max(0, this.config.stopGraceMs - GRACE_MARGIN_MS)).unref();
      },
      { once: true },
    );
    while (!stop.aborted || this.unstored) {
      this.status.heartbeat();
      let changed = false;
      try {
        changed = await this.pass();
      } catch (error) {
        if (error instanceof KeysUnstored) return EXIT.keysUnstored;
        this.status.failed("pass");
        this.log.warn({ err: { message: (error as Error).message } }, "step failed; retrying");
      }
      if (changed) this.backoff.reset();
      if (stop.aborted && !this.unstored) break;
      await sleep(this.backoff.next(), this.unstored ? undefined : stop);
    }
    this.log.info("stopped");
    return EXIT.ok;
  }

  /** One look at Vault and the step its state needs. Returns true when something changed. */
  async pass(): Promise<boolean> {
    const health = await this.vault.health();
    this.status.vault(health.kind, health.initialized, health.sealed);
    const changed = await this.describe(health);
    let facts: Facts = {
      health,
      pod: this.config.podName,
      initializer: this.config.ordinal === 0,
      seal: this.config.seal,
      storage: this.config.storage,
      secrets: this.config.secrets,
      holdsUnstoredKeys: this.unstored !== undefined,
      init: this.init ? { kind: "ok", value: this.init } : this.unstored || health.kind === "unreachable" ? { kind: "absent" } : await this.readInit(),
      initRefused: this.initRefused,
    };
    for (;;) {
      const d = decide(facts);
      switch (d.kind) {
        case "gather-canary":
          facts = { ...facts, canary: await this.readRecord<CanaryRecord>(this.config.secrets.canary, FORMATS.canary) };
          continue;
        case "gather-evidence":
          facts = { ...facts, keysStoredEvidence: await this.keysStoredEvidence() };
          continue;
        case "gather-preflight":
          facts = { ...facts, preflight: await this.preflight() };
          continue;
        case "wait":
          this.resolved();
          return changed;
        case "diagnose":
          this.report(d.diagnosis);
          return changed;
        case "store-keys":
          if (this.unstored) await this.persistInit(this.unstored);
          return true;
        case "initialize":
          await this.initialize();
          return true;
        case "unseal":
          this.resolved();
          return (await this.unseal(d.init)) || changed;
        case "maintain":
          return (await this.maintain(d.init)) || changed;
      }
    }
  }

  // ---- Reporting ------------------------------------------------------------------

  private report(diagnosis: Diagnosis): void {
    if (this.status.report(diagnosis)) this.log.error({ diagnosis: diagnosis.code, recovery: diagnosis.recovery }, diagnosis.message);
  }

  private resolved(): void {
    const was = this.status.clear();
    if (was) this.log.info({ diagnosis: was.code }, "diagnosis resolved");
  }

  /** Logs one line whenever Vault's state changes. */
  private async describe(health: Health): Promise<boolean> {
    const state = `${health.kind}/${health.initialized}/${health.sealed}`;
    if (state === this.lastState) return false;
    this.lastState = state;
    const fields: Record<string, unknown> = { state: health.kind, status: health.status, initialized: health.initialized, sealed: health.sealed, version: health.version };
    if (health.kind === "unreachable" || health.kind === "unexpected") fields.detail = health.detail;
    if (health.kind === "active" || health.kind === "standby" || health.kind === "perf-standby") {
      try {
        const l = await this.vault.leader();
        Object.assign(fields, { haEnabled: l.haEnabled, leader: l.leaderAddress, isLeader: l.isSelf, raftCommittedIndex: l.raftCommittedIndex, raftAppliedIndex: l.raftAppliedIndex });
      } catch (error) {
        fields.leaderError = (error as Error).message;
      }
      // The peers need a token: the sidecar's own token may read them, once it exists.
      const token = this.remembered.sidecar?.token;
      if (this.config.storage === "raft" && token) {
        try {
          fields.raftPeers = (await this.vault.raftPeers(token)).map((p) => `${p.id}${p.leader ? " (leader)" : p.voter ? "" : " (non-voter)"}`);
        } catch (error) {
          fields.raftPeersError = (error as Error).message;
        }
      }
    }
    this.log.info(fields, "vault state");
    return true;
  }

  // ---- The store ------------------------------------------------------------------

  private async readRecord<T extends { format: string }>(secretId: string, format: T["format"]): Promise<RecordState<T>> {
    try {
      return parseRecord<T>(await this.store.accessLatest(secretId), format);
    } catch (error) {
      const e = error as SecretStoreError;
      return { kind: "error", status: e.status ?? 0, message: e.message };
    }
  }

  private async readInit(): Promise<RecordState<StoredInit>> {
    const state = await this.readRecord<StoredInit>(this.config.secrets.initResponse, FORMATS.init);
    if (state.kind === "ok") this.init = state.value;
    return state;
  }

  /** A record written only after the keys were stored, if one exists: proof the vault may hold data. */
  private async keysStoredEvidence(): Promise<string | null> {
    const s = this.config.secrets;
    for (const [secret, format] of [[s.rootToken, FORMATS.root], [s.sidecarToken, FORMATS.sidecar], [s.planToken, FORMATS.plan]] as const) {
      const state = await this.readRecord<{ format: string; storedAt?: string }>(secret, format);
      if (state.kind === "ok") return `${secret} holds a record stored at ${state.value.storedAt ?? "an unknown time"}`;
      if (state.kind === "unreadable") return `${secret} holds a version (${state.reason})`;
      if (state.kind === "error") return `${secret} could not be read (${state.message}), so it cannot be ruled out`;
    }
    return null;
  }

  /** Whether each secret exists and lets this identity add and read versions. */
  private async preflight(): Promise<StoreProblem[]> {
    const problems: StoreProblem[] = [];
    for (const secret of Object.values(this.config.secrets)) {
      try {
        const { exists, granted } = await this.store.testPermissions(secret, SECRET_PERMISSIONS);
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
  private async unwritable(secret: string): Promise<string | undefined> {
    try {
      const { exists, granted } = await this.store.testPermissions(secret, ["secretmanager.versions.add"]);
      if (!exists) return "the secret does not exist";
      return granted.includes("secretmanager.versions.add") ? undefined : "missing secretmanager.versions.add";
    } catch (error) {
      return `the store did not answer (${(error as Error).message})`;
    }
  }

  /** Writes a small JSON document, retrying a few times. */
  private async writeJson(secretId: string, doc: unknown, attempts = 5): Promise<void> {
    const retry = new Backoff(this.config.minWaitMs, 2000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.addVersion(secretId, encode(doc));
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        this.log.warn({ secret: secretId, attempt, err: { message: (error as Error).message } }, "write failed; retrying");
        await sleep(retry.next());
      }
    }
  }

  // ---- Initialization ---------------------------------------------------------------

  private async initialize(): Promise<void> {
    this.resolved();
    checkpoint("before-intent", this.log);
    await this.recordIntent();
    checkpoint("after-intent", this.log);
    await pauseAt("after-intent", this.log);
    const request =
      this.config.seal === "shamir"
        ? { secret_shares: this.config.keyShares, secret_threshold: this.config.keyThreshold }
        : { recovery_shares: this.config.keyShares, recovery_threshold: this.config.keyThreshold };
    this.log.info({ seal: this.config.seal, shares: this.config.keyShares, threshold: this.config.keyThreshold }, "initializing vault");
    let response: InitResponse;
    try {
      response = await this.vault.init(request);
    } catch (error) {
      if (error instanceof VaultError) this.initRefused = { status: error.status, errors: [...error.vaultErrors] };
      throw error;
    }
    this.initRefused = undefined;
    this.unstored = response;
    checkpoint("after-init", this.log);
    await pauseAt("after-init", this.log);
    await this.persistInit(response);
    checkpoint("after-store", this.log);
    const record: RootTokenRecord = { format: FORMATS.root, root_token: response.root_token, storedAt: new Date().toISOString() };
    await this.writeJson(this.config.secrets.rootToken, record);
    this.remembered.root = record;
    checkpoint("after-root-stored", this.log);
    // If this write fails, the active vault's maintenance writes it (it retries until the canary says so).
    await this.markCanaryInitialized();
  }

  /** Proves the store can be written and read (on the canary, never the key secret) and records the intent to initialize. */
  private async recordIntent(): Promise<void> {
    const record = await this.writeCanary("intent");
    const back = await this.readRecord<CanaryRecord>(this.config.secrets.canary, FORMATS.canary);
    if (back.kind !== "ok" || back.value.at !== record.at || back.value.kind !== "intent") {
      throw new Error(`the canary secret ${this.config.secrets.canary} did not read back what was written; not initializing until the store works`);
    }
    this.log.info({ secret: this.config.secrets.canary }, "secret store works; intent to initialize recorded");
  }

  private async writeCanary(kind: CanaryRecord["kind"]): Promise<CanaryRecord> {
    const record: CanaryRecord = { format: FORMATS.canary, kind, pod: this.config.podName, at: new Date().toISOString() };
    await this.store.addVersion(this.config.secrets.canary, encode(record));
    return record;
  }

  private async markCanaryInitialized(): Promise<void> {
    try {
      await this.writeCanary("initialized");
      this.canaryInitialized = true;
      this.log.info({ secret: this.config.secrets.canary }, "canary marks the vault initialized");
    } catch (error) {
      this.status.failed("canary");
      this.log.warn({ secret: this.config.secrets.canary, err: { message: (error as Error).message } }, "the canary could not be marked initialized; retrying on the next pass");
    }
  }

  /**
   * Stores the whole init response, first thing after init, and retries with
   * backoff until Secret Manager has it and it reads back intact. After
   * SIGTERM it keeps trying while the stop grace period lasts; an attempt
   * still under way when it runs out is abandoned, so the failure is logged
   * before the kubelet's SIGKILL.
   */
  private async persistInit(response: InitResponse): Promise<void> {
    const doc: StoredInit = { format: FORMATS.init, storedAt: new Date().toISOString(), seal: this.config.seal, response };
    const bytes = encode(doc);
    const retry = new Backoff(this.config.minWaitMs, Math.min(this.config.maxWaitMs, 5000));
    for (let attempt = 1; ; attempt++) {
      this.status.heartbeat();
      const left = this.graceLeftMs();
      if (left !== undefined && left < 1000) {
        this.log.error({ secret: this.config.secrets.initResponse }, "stop grace period spent and the init response is still not stored: the keys are lost with this process");
        throw new KeysUnstored();
      }
      try {
        await unlessAborted(
          (async () => {
            await this.store.addVersion(this.config.secrets.initResponse, bytes);
            const back = await this.store.accessLatest(this.config.secrets.initResponse);
            if (!back || !back.equals(bytes)) throw new Error("init response did not read back intact");
          })(),
          this.graceSpent.signal,
          "no answer before the stop grace period ran out",
        );
        this.unstored = undefined;
        this.init = doc;
        this.log.info({ secret: this.config.secrets.initResponse, attempts: attempt }, "init response stored and verified");
        return;
      } catch (error) {
        this.status.failed("store-init-response");
        this.log.error({ secret: this.config.secrets.initResponse, attempt, err: { message: (error as Error).message } }, "storing the init response failed; the keys are held in memory, retrying");
      }
      const wait = retry.next();
      const leftNow = this.graceLeftMs();
      await sleep(leftNow === undefined ? wait : Math.max(0, Math.min(wait, leftNow - 1000)));
    }
  }

  /** Milliseconds of the stop grace period left, or undefined when no stop was requested. */
  private graceLeftMs(): number | undefined {
    return this.stopRequestedAt === undefined ? undefined : this.stopRequestedAt + this.config.stopGraceMs - Date.now();
  }

  private async unseal(stored: StoredInit): Promise<boolean> {
    const shares = keySharesOf(stored);
    for (const share of shares.slice(0, this.config.keyThreshold)) {
      const res = await this.vault.unseal(share);
      if (!res.sealed) {
        this.log.info("unsealed with the stored keys");
        checkpoint("after-unseal", this.log);
        return true;
      }
    }
    const status = await this.vault.sealStatus();
    if (status.sealed && status.initialized) {
      this.log.warn({ progress: status.progress, threshold: status.threshold }, "still sealed after submitting the stored keys; waiting (a follower unseals once it has joined)");
    }
    return false;
  }

  // ---- Maintenance of the active vault ---------------------------------------------

  private readPolicies(): Policies {
    const files = readdirSync(this.config.policyDir)
      .filter((f) => f.endsWith(".hcl"))
      .sort();
    const byName = Object.fromEntries(files.map((f) => [f.slice(0, -4), readFileSync(join(this.config.policyDir, f), "utf8")]));
    return { byName, sha256: createHash("sha256").update(JSON.stringify(byName)).digest("hex") };
  }

  private readDeclared(): DeclaredAccess {
    return JSON.parse(readFileSync(this.config.declaredAccessFile, "utf8")) as DeclaredAccess;
  }

  /** The token records, read again at most every token-check interval (each read is a billed, audited call). */
  private async currentRecords(force = false): Promise<Records> {
    if (!force && this.records && Date.now() - this.records.at < this.tokenCheckIntervalMs()) return this.records.value;
    const s = this.config.secrets;
    const value: Records = {
      plan: await this.readRecord<PlanTokenRecord>(s.planToken, FORMATS.plan),
      sidecar: await this.readRecord<SidecarTokenRecord>(s.sidecarToken, FORMATS.sidecar),
      root: await this.readRecord<RootTokenRecord>(s.rootToken, FORMATS.root),
    };
    // An intact record read from the store is the newest truth (another pod may have written it).
    if (value.plan.kind === "ok") this.remembered.plan = value.plan.value;
    if (value.sidecar.kind === "ok") this.remembered.sidecar = value.sidecar.value;
    if (value.root.kind === "ok") this.remembered.root = value.root.value;
    this.records = { at: Date.now(), value };
    return value;
  }

  private tokenCheckIntervalMs(): number {
    return Math.min((this.config.planTokenPeriodSec * 1000) / 4, 60_000);
  }

  private tokenOf(token: ManagedToken): string | undefined {
    return tokenIn(this.remembered[RECORD_OF[token]], token);
  }

  private secretOf(token: ManagedToken): string {
    return this.config.secrets[SECRET_OF[RECORD_OF[token]]];
  }

  /** Looks each known token up; a 403 counts as invalid only while the server still answers as active (a sealing one says 403 too). */
  private async checkTokens(force = false): Promise<Record<ManagedToken, TokenStatus>> {
    if (!force && this.tokenChecks && Date.now() - this.tokenChecks.at < this.tokenCheckIntervalMs()) return this.tokenChecks.value;
    const value = {} as Record<ManagedToken, TokenStatus>;
    for (const token of ["plan", "sidecar", "generate-root"] as const) {
      const t = this.tokenOf(token);
      if (!t) {
        value[token] = { kind: "unknown" };
        continue;
      }
      const info = await this.vault.lookupSelf(t);
      if (info) {
        value[token] = { kind: "valid", ttlSec: info.ttl };
        this.status.tokenExpires(token, info.ttl);
      } else value[token] = (await this.stillActive()) ? { kind: "invalid" } : { kind: "unknown" };
    }
    this.tokenChecks = { at: Date.now(), value };
    return value;
  }

  private async stillActive(): Promise<boolean> {
    return (await this.vault.health()).kind === "active";
  }

  /** The initial root token wherever it was kept: the root record (before its revocation) and the init response. */
  private initialRootCandidates(stored: StoredInit): string[] {
    const r = this.remembered.root;
    return [...new Set([r && "root_token" in r ? r.root_token : undefined, stored.response.root_token].filter((t): t is string => Boolean(t)))];
  }

  /** The first candidate that still works as root. */
  private async validInitialRoot(stored: StoredInit): Promise<string | undefined> {
    for (const token of this.initialRootCandidates(stored)) {
      if ((await this.vault.lookupSelf(token))?.policies.includes("root")) return token;
    }
    return undefined;
  }

  private async initialRootValid(stored: StoredInit): Promise<boolean> {
    if (this.initialRootRevoked) return false;
    if (await this.validInitialRoot(stored)) return true;
    if (await this.stillActive()) this.initialRootRevoked = true;
    return false;
  }

  private async maintain(init: StoredInit): Promise<boolean> {
    const policies = this.readPolicies();
    const records = await this.currentRecords();
    const tokens = await this.checkTokens();
    const canary: RecordState<CanaryRecord> = this.canaryInitialized
      ? { kind: "ok", value: { format: FORMATS.canary, kind: "initialized", pod: this.config.podName, at: "" } }
      : await this.readRecord<CanaryRecord>(this.config.secrets.canary, FORMATS.canary);
    if (canary.kind === "ok" && canary.value.kind === "initialized") this.canaryInitialized = true;
    const base: MaintenanceFacts = {
      canary,
      policiesSha256: policies.sha256,
      records,
      remembered: this.remembered,
      tokens,
      periods: { plan: this.config.planTokenPeriodSec, sidecar: SIDECAR_TOKEN_PERIOD_SEC, "generate-root": GENERATE_ROOT_PERIOD_SEC },
      initialRootValid: await this.initialRootValid(init),
      revokeRootToken: this.config.revokeRootToken,
      unwritable: {},
      now: Date.now(),
      tenantPoliciesDueAt: this.tenantPoliciesDueAt,
      verifyDueAt: this.verifyDueAt,
    };
    let facts = base;
    let tasks = planMaintenance(facts);
    // A token is made only once its record is known to be storable.
    if (tasks.some((t) => t.kind === "mint")) {
      const unwritable: Partial<Record<TokenRecordKey, string>> = {};
      for (const t of tasks) {
        if (t.kind !== "mint") continue;
        const problem = await this.unwritable(this.secretOf(t.token));
        if (problem) unwritable[RECORD_OF[t.token]] = problem;
      }
      facts = { ...base, unwritable };
      tasks = planMaintenance(facts);
    }

    let changed = false;
    let diagnosis = unstorableDiagnosis(facts, this.config.secrets);
    for (const task of tasks.filter((t) => !needsRoot(t) && t.kind !== "sync-tenant-policies" && t.kind !== "verify")) {
      changed = (await this.attempt(task, () => this.runPlain(task))) || changed;
    }
    const rootTasks = tasks.filter(needsRoot);
    if (rootTasks.length > 0) {
      const outcome = await this.underRoot(init, policies, rootTasks);
      changed = outcome.changed || changed;
      diagnosis ??= outcome.diagnosis;
    }
    const sidecarTasks = tasks.filter((t) => t.kind === "sync-tenant-policies" || t.kind === "verify");
    if (sidecarTasks.length > 0) changed = (await this.withSidecarToken(sidecarTasks, policies)) || changed;

    if (diagnosis) this.report(diagnosis);
    else this.resolved();
    if (tasks.every((t) => t.kind === "verify" || t.kind === "sync-tenant-policies" || t.kind === "renew")) this.status.converged();
    return changed;
  }

  /** Runs one task; a failure is logged and counted, never allowed to stop the others. */
  private async attempt(task: Task, run: () => Promise<boolean>): Promise<boolean> {
    try {
      return await run();
    } catch (error) {
      this.status.failed(task.kind);
      this.log.warn({ task: task.kind, token: "token" in task ? task.token : undefined, err: { message: (error as Error).message } }, "maintenance step failed; retrying later");
      this.tokenChecks = undefined;
      this.records = undefined;
      return false;
    }
  }

  private async runPlain(task: Task): Promise<boolean> {
    switch (task.kind) {
      case "mark-canary-initialized":
        await this.markCanaryInitialized();
        return this.canaryInitialized;
      case "repair-record": {
        const secret = this.secretOf(task.token);
        const record = this.remembered[RECORD_OF[task.token]];
        if (!record) return false;
        await this.writeJson(secret, record);
        this.records = undefined;
        this.log.warn({ secret, token: task.token }, "the stored record was missing or unreadable; wrote it again from the copy this sidecar holds");
        return true;
      }
      case "renew": {
        const token = this.tokenOf(task.token);
        if (!token) return false;
        const ttl = await this.vault.renewSelf(token);
        this.status.tokenExpires(task.token, ttl);
        this.tokenChecks = undefined;
        this.log.info({ tokenName: task.token, accessor: this.accessorOf(task.token), ttlSec: ttl }, "token renewed");
        return true;
      }
      default:
        return false;
    }
  }

  private accessorOf(token: ManagedToken): string | undefined {
    return accessorIn(this.remembered[RECORD_OF[token]], token);
  }

  /** Tasks that need root, under one short-lived root token that is revoked when they are done. */
  private async underRoot(init: StoredInit, policies: Policies, tasks: Task[]): Promise<{ changed: boolean; diagnosis?: Diagnosis }> {
    let root: Root;
    try {
      root = await this.obtainRoot(init);
    } catch (error) {
      this.status.failed("obtain-root");
      const why = tasks.map((t) => (t.kind === "mint" ? `a new ${t.token} token` : t.kind)).join(", ");
      if (error instanceof NoRoot) return { changed: false, diagnosis: D.noWayBackToRoot(why, this.config.secrets) };
      throw error;
    }
    let changed = false;
    try {
      await this.attempt({ kind: "write-policies" }, async () => {
        await this.ensureAudit(root.token);
        return false;
      });
      const writePolicies = tasks.some((t) => t.kind === "write-policies" || (t.kind === "mint" && t.token === "sidecar"));
      let policiesWritten = false;
      if (writePolicies) {
        policiesWritten = await this.attempt({ kind: "write-policies" }, async () => {
          for (const [name, hcl] of Object.entries(policies.byName)) await this.vault.writePolicy(root.token, name, hcl);
          this.log.info({ policies: Object.keys(policies.byName), sha256: policies.sha256.slice(0, 12) }, "policies written");
          checkpoint("after-policies", this.log);
          return true;
        });
        changed ||= policiesWritten;
      }
      // generate-root first: the way back to root is stored before the initial root goes.
      for (const token of ["generate-root", "sidecar", "plan"] as const) {
        if (!tasks.some((t) => t.kind === "mint" && t.token === token)) continue;
        changed = (await this.attempt({ kind: "mint", token }, () => this.mint(root.token, token, policies.sha256))) || changed;
      }
      // Policies changed with the same sidecar token: record the digest they were written at.
      if (policiesWritten && !tasks.some((t) => t.kind === "mint" && t.token === "sidecar") && this.remembered.sidecar) {
        const next: SidecarTokenRecord = { ...this.remembered.sidecar, policiesSha256: policies.sha256, storedAt: new Date().toISOString() };
        const recorded = await this.attempt({ kind: "write-policies" }, async () => {
          await this.writeJson(this.config.secrets.sidecarToken, next);
          this.remembered.sidecar = next;
          return true;
        });
        changed ||= recorded;
      }
      if (tasks.some((t) => t.kind === "revoke-initial-root")) {
        const gr = this.tokenOf("generate-root");
        if (gr && (await this.vault.lookupSelf(gr))) {
          changed = (await this.attempt({ kind: "revoke-initial-root" }, () => this.revokeInitialRoot(init, root))) || changed;
        }
      }
    } finally {
      if (root.generated) {
        await this.vault.revokeSelf(root.token).catch((error: Error) => this.log.warn({ err: { message: error.message } }, "revoking the short-lived root failed; it expires on its own"));
        this.log.info({ generated: true }, "root token revoked");
      }
    }
    return { changed };
  }

  /** A valid root token: the initial one while it lives, else a short-lived one from generate-root and the stored keys. */
  private async obtainRoot(stored: StoredInit): Promise<Root> {
    const initial = await this.validInitialRoot(stored);
    if (initial) return { token: initial, generated: false };
    const gr = this.tokenOf("generate-root");
    const authToken = gr && (await this.vault.lookupSelf(gr)) ? gr : undefined;
    this.log.info({ shares: Math.min(this.config.keyThreshold, keySharesOf(stored).length), withGenerateRootToken: Boolean(authToken) }, "root token revoked; generating a short-lived one from the stored keys");
    try {
      return { token: await generateRoot(this.vault, keySharesOf(stored), this.config.keyThreshold, authToken), generated: true };
    } catch (error) {
      if (error instanceof VaultError && [400, 403, 404, 405].includes(error.status)) throw new NoRoot(error.message);
      throw error;
    }
  }

  /**
   * Makes a token and stores its record; a token whose record cannot be stored
   * is revoked before this returns, so no valid token is ever left unstored.
   */
  private async mint(rootToken: string, token: ManagedToken, policiesSha256: string): Promise<boolean> {
    const spec =
      token === "plan"
        ? { policy: POLICY.plan, period: this.config.planTokenPeriodSec, name: "vault-gke-plan" }
        : token === "sidecar"
          ? { policy: POLICY.sidecar, period: SIDECAR_TOKEN_PERIOD_SEC, name: "vault-gke-sidecar" }
          : { policy: POLICY.generateRoot, period: GENERATE_ROOT_PERIOD_SEC, name: "vault-gke-generate-root" };
    const secret = this.secretOf(token);
    const created = await this.vault.createOrphanToken(rootToken, { policies: [spec.policy], periodSec: spec.period, displayName: spec.name });
    checkpoint(`after-${token}-token-created`, this.log);
    const storedAt = new Date().toISOString();
    const record =
      token === "generate-root"
        ? ({ format: FORMATS.root, revoked: true, generateRootToken: created.token, generateRootAccessor: created.accessor, storedAt } satisfies RootTokenRecord)
        : token === "plan"
          ? ({ format: FORMATS.plan, token: created.token, accessor: created.accessor, storedAt } satisfies PlanTokenRecord)
          : ({ format: FORMATS.sidecar, token: created.token, accessor: created.accessor, policiesSha256, storedAt } satisfies SidecarTokenRecord);
    try {
      await this.writeJson(secret, record, 3);
    } catch (error) {
      await this.vault.revokeAccessor(rootToken, created.accessor).catch(() => this.vault.revokeSelf(created.token));
      this.log.warn({ secret, accessor: created.accessor, err: { message: (error as Error).message } }, `the new ${token} token could not be stored, so it was revoked`);
      throw error;
    }
    this.remembered = { ...this.remembered, [RECORD_OF[token]]: record };
    this.tokenChecks = undefined;
    this.records = undefined;
    this.status.tokenExpires(token, spec.period);
    this.log.info({ secret, accessor: created.accessor, periodSec: spec.period }, `${token} token created and stored`);
    checkpoint(`after-${token}-token-stored`, this.log);
    return true;
  }

  private async revokeInitialRoot(stored: StoredInit, root: Root): Promise<boolean> {
    for (const token of this.initialRootCandidates(stored)) {
      if (!(await this.vault.lookupSelf(token))) continue;
      await this.vault.revokeSelf(token);
    }
    this.initialRootRevoked = true;
    if (!root.generated) this.log.info({ generated: false }, "root token revoked");
    checkpoint("after-root-revoked", this.log);
    return true;
  }

  private async ensureAudit(rootToken: string): Promise<void> {
    const devices = await this.vault.listAuditDevices(rootToken);
    const paths = Object.keys(devices);
    if (paths.length > 0) {
      this.log.info({ devices: paths, source: this.config.auditMode === "config" ? "server configuration" : "api" }, "audit devices active");
    } else if (this.config.auditMode === "api") {
      await this.vault.enableFileAudit(rootToken, "file", this.config.auditFilePath);
      this.log.info({ device: "file/", filePath: this.config.auditFilePath, source: "api" }, "audit device enabled through the API");
    } else {
      this.log.error("no audit device is active, but the server configuration should declare one (AUDIT_MODE=config); check the vault.hcl ConfigMap");
    }
    checkpoint("after-audit", this.log);
  }

  /** Tenant policies and the verifier, with the sidecar's own token: one inventory for both. */
  private async withSidecarToken(tasks: Task[], policies: Policies): Promise<boolean> {
    const token = this.remembered.sidecar?.token;
    if (!token) return false;
    let changed = false;
    await this.attempt({ kind: "verify" }, async () => {
      let inventory = await readInventory(this.vault, token);
      if (tasks.some((t) => t.kind === "sync-tenant-policies")) {
        this.tenantPoliciesDueAt = Date.now() + this.config.tenantPolicySyncSec * 1000;
        const plan = planTenantPolicies(inventory);
        for (const [name, text] of Object.entries(plan.write)) {
          const was = inventory.policies[name] === undefined ? "absent" : "different (engines changed, or it was edited)";
          await this.vault.writePolicy(token, name, text);
          this.log.info({ policy: name, was }, "tenant policy written");
          changed = true;
        }
        for (const name of plan.remove) {
          await this.vault.deletePolicy(token, name);
          this.log.info({ policy: name }, "tenant policy removed: its tenant has no engines");
          changed = true;
        }
        if (changed) inventory = await readInventory(this.vault, token);
      }
      if (tasks.some((t) => t.kind === "verify")) {
        this.verifyDueAt = Date.now() + this.config.verifyIntervalSec * 1000;
        const findings = verify(inventory, this.readDeclared(), policies.byName);
        for (const f of findings) this.log.warn({ finding: f.kind, path: f.path }, `verifier finding: ${f.path} ${f.detail}`);
        this.log.info({ findings: findings.length }, "verifier ran");
        this.status.verified(findings);
      }
      return changed;
    });
    return changed;
  }
}

/** Thrown when the stop grace period ran out with keys still unstored. */
export class KeysUnstored extends Error {
  constructor() {
    super("the init response could not be stored before the stop grace period ended");
    this.name = "KeysUnstored";
  }
}

/** Root cannot be generated (no generate-root token and no unauthenticated endpoint). */
class NoRoot extends Error {
  constructor(detail: string) {
    super(`root cannot be generated: ${detail}`);
    this.name = "NoRoot";
  }
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
