// The converge loop: safe to run in every Vault pod, from any state, after any
// crash. Each pass reads Vault's health and does the one thing that state
// needs; waits back off exponentially and end at once on SIGTERM.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Backoff, sleep } from "./backoff";
import type { BootstrapConfig } from "./config";
import { generateRoot } from "./generate-root";
import type { Logger } from "./log";
import { decode, encode, keySharesOf, type CanaryRecord, type ProvisionerRecord, type RootTokenRecord, type StoredInit } from "./records";
import type { SecretStore } from "./secret-store";
import { checkpoint } from "./test-hooks";
import type { Health, InitResponse, VaultClient } from "./vault-client";

/** A state the sidecar must not paper over: it stops and says what happened and what to do. */
export class FatalDiagnosis extends Error {
  constructor(
    message: string,
    readonly recovery: readonly string[],
  ) {
    super(message);
    this.name = "FatalDiagnosis";
  }
}

export const EXIT = { ok: 0, config: 2, fatal: 3, keysUnstored: 4 } as const;

const PROVISIONER_POLICY = "provisioner";
const GENERATE_ROOT_POLICY = "generate-root";
/** Period of the generate-root token: long, because it is the way back to root when every other token is gone. */
const GENERATE_ROOT_PERIOD_SEC = 768 * 3600;

export interface BootstrapDeps {
  readonly config: BootstrapConfig;
  readonly vault: VaultClient;
  readonly store: SecretStore;
  readonly log: Logger;
}

interface Policies {
  readonly byName: Record<string, string>;
  readonly sha256: string;
}

export class Bootstrapper {
  private readonly config: BootstrapConfig;
  private readonly vault: VaultClient;
  private readonly store: SecretStore;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private lastState = "";
  /** Cached once read: the init response never changes, the provisioner record only when this process writes it. */
  private init?: StoredInit;
  private provisioner?: ProvisionerRecord;
  private rootRecord?: RootTokenRecord;
  /** Token lookups and renewals run at most this often once steady (each is an audited request). */
  private nextTokenCheckAt = 0;
  /** An init response held in memory until Secret Manager has it. */
  private unstored?: InitResponse;
  private stopRequestedAt?: number;

  constructor(deps: BootstrapDeps) {
    this.config = deps.config;
    this.vault = deps.vault;
    this.store = deps.store;
    this.log = deps.log;
    this.backoff = new Backoff(this.config.minWaitMs, this.config.maxWaitMs);
  }

  /** True while keys exist only in this process: a stop must wait for them to be stored. */
  get holdsUnstoredKeys(): boolean {
    return this.unstored !== undefined;
  }

  /** Runs until `stop` aborts; resolves with the process exit code. */
  async run(stop: AbortSignal): Promise<number> {
    stop.addEventListener("abort", () => (this.stopRequestedAt = Date.now()), { once: true });
    while (!stop.aborted) {
      let changed = false;
      try {
        changed = await this.pass();
      } catch (error) {
        if (error instanceof FatalDiagnosis) {
          this.log.error({ recovery: error.recovery }, error.message);
          return EXIT.fatal;
        }
        if (error instanceof KeysUnstored) return EXIT.keysUnstored;
        this.log.warn({ err: { message: (error as Error).message } }, "step failed; retrying");
      }
      if (changed) this.backoff.reset();
      if (stop.aborted) break;
      await sleep(this.backoff.next(), stop);
    }
    this.log.info("stopped");
    return EXIT.ok;
  }

  /** One look at Vault and the one action its state needs. Returns true when something changed. */
  async pass(): Promise<boolean> {
    const health = await this.vault.health();
    const changed = await this.describe(health);
    switch (health.kind) {
      case "uninitialized":
        return (await this.whenUninitialized()) || changed;
      case "sealed":
        return (await this.whenSealed()) || changed;
      case "active":
        return (await this.whenActive()) || changed;
      case "standby":
      case "perf-standby":
      case "dr-secondary":
        await this.requireStoredInit();
        return changed;
      case "unreachable":
      case "unexpected":
        return changed;
    }
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
      // The peers need a token: the sidecar's generate-root token may read them, once it exists.
      if (this.config.storage === "raft") {
        try {
          const record = await this.loadRootRecord();
          if (record && "revoked" in record) fields.raftPeers = (await this.vault.raftPeers(record.generateRootToken)).map((p) => `${p.id}${p.leader ? " (leader)" : p.voter ? "" : " (non-voter)"}`);
        } catch (error) {
          fields.raftPeersError = (error as Error).message;
        }
      }
    }
    this.log.info(fields, "vault state");
    return true;
  }

  private isInitializer(): boolean {
    return this.config.ordinal === 0;
  }

  private async loadInit(): Promise<StoredInit | undefined> {
    this.init ??= decode<StoredInit>(await this.store.accessLatest(this.config.secrets.initResponse), "vault-gke/init-response/v1", "init response");
    return this.init;
  }

  private async whenUninitialized(): Promise<boolean> {
    const stored = await this.loadInit();
    if (!this.isInitializer()) {
      // A Raft follower joins through retry_join; with Shamir it needs the keys to finish.
      if (stored && this.config.seal === "shamir" && this.config.storage === "raft") return this.unseal(stored);
      return false;
    }
    if (stored) {
      throw new FatalDiagnosis(
        `Vault is not initialized, but ${this.config.secrets.initResponse} holds the keys of an initialization stored at ${stored.storedAt}; refusing to initialize again`,
        [
          "If Vault's data was lost (deleted disks, a new cluster): restore the Raft data or a snapshot, then restart this pod.",
          `If this really is a new Vault on purpose: disable the secret versions of ${this.config.secrets.initResponse}, ${this.config.secrets.rootToken} and ${this.config.secrets.provisionerToken} (keep them until you are sure), then restart this pod.`,
        ],
      );
    }
    checkpoint("before-intent", this.log);
    await this.recordIntent();
    checkpoint("after-intent", this.log);
    const request =
      this.config.seal === "shamir"
        ? { secret_shares: this.config.keyShares, secret_threshold: this.config.keyThreshold }
        : { recovery_shares: this.config.keyShares, recovery_threshold: this.config.keyThreshold };
    this.log.info({ seal: this.config.seal, shares: this.config.keyShares, threshold: this.config.keyThreshold }, "initializing vault");
    const response = await this.vault.init(request);
    this.unstored = response;
    checkpoint("after-init", this.log);
    await this.persistInit(response);
    checkpoint("after-store", this.log);
    await this.writeJson(this.config.secrets.rootToken, { format: "vault-gke/root-token/v1", root_token: response.root_token, storedAt: new Date().toISOString() } satisfies RootTokenRecord);
    checkpoint("after-root-stored", this.log);
    await this.writeCanary("initialized");
    return true;
  }

  /** Proves the store can be written and read (on the canary, never the key secret) and records the intent to initialize. */
  private async recordIntent(): Promise<void> {
    const record = await this.writeCanary("intent");
    const back = decode<CanaryRecord>(await this.store.accessLatest(this.config.secrets.canary), "vault-gke/canary/v1", "canary");
    if (!back || back.at !== record.at || back.kind !== "intent") {
      throw new Error(`the canary secret ${this.config.secrets.canary} did not read back what was written; not initializing until the store works`);
    }
    this.log.info({ secret: this.config.secrets.canary }, "secret store works; intent to initialize recorded");
  }

  private async writeCanary(kind: CanaryRecord["kind"]): Promise<CanaryRecord> {
    const record: CanaryRecord = { format: "vault-gke/canary/v1", kind, pod: this.config.podName, at: new Date().toISOString() };
    await this.store.addVersion(this.config.secrets.canary, encode(record));
    return record;
  }

  /**
   * Stores the whole init response, first thing after init, and retries with
   * backoff until Secret Manager has it and it reads back intact. It never gives
   * up while the process lives; after SIGTERM it keeps trying until the grace
   * period is spent.
   */
  private async persistInit(response: InitResponse): Promise<void> {
    const doc: StoredInit = { format: "vault-gke/init-response/v1", storedAt: new Date().toISOString(), seal: this.config.seal, response };
    const bytes = encode(doc);
    const retry = new Backoff(this.config.minWaitMs, Math.min(this.config.maxWaitMs, 5000));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.addVersion(this.config.secrets.initResponse, bytes);
        const back = await this.store.accessLatest(this.config.secrets.initResponse);
        if (back && back.equals(bytes)) {
          this.unstored = undefined;
          this.init = doc;
          this.log.info({ secret: this.config.secrets.initResponse, attempts: attempt }, "init response stored and verified");
          return;
        }
        this.log.warn({ secret: this.config.secrets.initResponse, attempt }, "init response did not read back intact; storing it again");
      } catch (error) {
        this.log.error({ secret: this.config.secrets.initResponse, attempt, err: { message: (error as Error).message } }, "storing the init response failed; the keys are held in memory, retrying");
      }
      if (this.stopRequestedAt !== undefined && Date.now() - this.stopRequestedAt > this.config.stopGraceMs) {
        this.log.error({ secret: this.config.secrets.initResponse }, "stop grace period spent and the init response is still not stored: the keys are lost with this process");
        throw new KeysUnstored();
      }
      await sleep(retry.next());
    }
  }

  private async whenSealed(): Promise<boolean> {
    if (this.config.seal !== "shamir") {
      // Auto-unseal: Vault unseals itself through KMS; sealed means it cannot reach the key yet.
      return false;
    }
    const stored = await this.requireStoredInit();
    return this.unseal(stored);
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

  /** The stored init response of an initialized Vault; its absence is a precise, fatal diagnosis. */
  private async requireStoredInit(): Promise<StoredInit> {
    const stored = await this.loadInit();
    if (stored) return stored;
    const canary = decode<CanaryRecord>(await this.store.accessLatest(this.config.secrets.canary), "vault-gke/canary/v1", "canary");
    const secret = this.config.secrets.initResponse;
    if (canary?.kind === "intent") {
      throw new FatalDiagnosis(
        `Vault is initialized but ${secret} holds no keys, and the last record (${canary.pod} at ${canary.at}) is an intent to initialize: the init response was lost between init and its first write, so the vault holds no data yet`,
        [
          "Scale the StatefulSet to 0 (kubectl -n <namespace> scale statefulset vault --replicas=0).",
          "Delete the data claims of every Vault pod (kubectl -n <namespace> delete pvc -l app.kubernetes.io/name=vault), and the released disks (their reclaim policy is Retain).",
          "Scale back to the configured replica count: the sidecar initializes a fresh vault and stores its keys.",
        ],
      );
    }
    if (canary?.kind === "initialized") {
      throw new FatalDiagnosis(`Vault is initialized and the sidecar stored its keys on ${canary.at}, but ${secret} has no readable version now`, [
        `Restore the latest version of ${secret} in Secret Manager (enable it if it was disabled, or restore it from your backup), then restart this pod.`,
      ]);
    }
    throw new FatalDiagnosis(`Vault is initialized but ${secret} holds no keys and there is no record of this sidecar initializing it: it was initialized by someone else`, [
      `Store its init response in ${secret} as {"format":"vault-gke/init-response/v1","storedAt":"<time>","seal":"${this.config.seal}","response":<the init JSON>}, then restart this pod.`,
      "Or, if it holds no data, wipe its storage and let the sidecar initialize it.",
    ]);
  }

  private readPolicies(): Policies {
    const files = readdirSync(this.config.policyDir)
      .filter((f) => f.endsWith(".hcl"))
      .sort();
    const byName = Object.fromEntries(files.map((f) => [f.slice(0, -4), readFileSync(join(this.config.policyDir, f), "utf8")]));
    if (!byName[PROVISIONER_POLICY]) throw new FatalDiagnosis(`${this.config.policyDir} has no ${PROVISIONER_POLICY}.hcl`, ["Mount the policies ConfigMap that the vault stack creates."]);
    return { byName, sha256: createHash("sha256").update(JSON.stringify(byName)).digest("hex") };
  }

  private async loadProvisioner(): Promise<ProvisionerRecord | undefined> {
    this.provisioner ??= decode<ProvisionerRecord>(await this.store.accessLatest(this.config.secrets.provisionerToken), "vault-gke/provisioner-token/v1", "provisioner token");
    return this.provisioner;
  }

  private async whenActive(): Promise<boolean> {
    const stored = await this.requireStoredInit();
    const policies = this.readPolicies();
    const cached = this.provisioner;
    if (cached && cached.policiesSha256 === policies.sha256 && Date.now() < this.nextTokenCheckAt) return false;
    const record = await this.loadProvisioner();
    const info = record ? await this.vault.lookupSelf(record.token) : undefined;
    const tokenValid = info !== undefined && info.policies.includes(PROVISIONER_POLICY);
    // A server that is sealing or stepping down answers 403 too: only an active server's "no" counts.
    if (record && !tokenValid && !(await this.stillActive())) return false;
    if (!tokenValid) this.provisioner = undefined; // re-read next time: another pod may have stored a new one
    // Audit was ensured when this record was written; nothing else needs root,
    // unless the initial root token still waits to be revoked (a crash came first).
    const rootRecord = await this.loadRootRecord();
    const rootSettled = !this.config.revokeRootToken || (rootRecord !== undefined && "revoked" in rootRecord);
    if (record && tokenValid && record.policiesSha256 === policies.sha256 && rootSettled) {
      this.nextTokenCheckAt = Date.now() + Math.min((this.config.provisionerTokenPeriodSec * 1000) / 4, 60_000);
      const renewed = await this.renewIfDue(record.token, info.ttl, this.config.provisionerTokenPeriodSec, "provisioner", record.accessor);
      if (rootRecord && "revoked" in rootRecord) {
        const gr = await this.vault.lookupSelf(rootRecord.generateRootToken);
        if (gr) await this.renewIfDue(rootRecord.generateRootToken, gr.ttl, GENERATE_ROOT_PERIOD_SEC, "generate-root", rootRecord.generateRootAccessor);
        else if (await this.stillActive()) {
          this.rootRecord = undefined; // another pod may have stored a new one; re-read next time
          this.log.warn({ accessor: rootRecord.generateRootAccessor }, "the stored generate-root token is no longer valid; a new one is made the next time root is needed");
        }
      }
      return renewed;
    }
    const root = await this.obtainRoot(stored);
    try {
      await this.ensureAudit(root.token);
      checkpoint("after-audit", this.log);
      for (const [name, hcl] of Object.entries(policies.byName)) await this.vault.writePolicy(root.token, name, hcl);
      this.log.info({ policies: Object.keys(policies.byName), sha256: policies.sha256.slice(0, 12) }, "policies written");
      checkpoint("after-policies", this.log);
      let next: ProvisionerRecord;
      if (record && tokenValid) {
        next = { ...record, policiesSha256: policies.sha256, storedAt: new Date().toISOString() };
      } else {
        const created = await this.vault.createOrphanToken(root.token, {
          policies: [PROVISIONER_POLICY],
          periodSec: this.config.provisionerTokenPeriodSec,
          displayName: "vault-gke-provisioner",
        });
        checkpoint("after-provisioner-created", this.log);
        next = { format: "vault-gke/provisioner-token/v1", token: created.token, accessor: created.accessor, policiesSha256: policies.sha256, storedAt: new Date().toISOString() };
        this.log.info({ accessor: created.accessor, periodSec: this.config.provisionerTokenPeriodSec, reason: record ? "stored token invalid" : "none stored" }, "provisioner token created");
      }
      await this.writeJson(this.config.secrets.provisionerToken, next);
      this.provisioner = next;
      this.log.info({ secret: this.config.secrets.provisionerToken, accessor: next.accessor }, "provisioner token stored");
      checkpoint("after-provisioner-stored", this.log);
    } finally {
      await this.releaseRoot(root);
    }
    return true;
  }

  /** True when Vault still answers as the active, unsealed server (its answers can be trusted). */
  private async stillActive(): Promise<boolean> {
    return (await this.vault.health()).kind === "active";
  }

  private async renewIfDue(token: string, ttlSec: number, periodSec: number, name: string, accessor: string): Promise<boolean> {
    if (ttlSec >= periodSec / 2) return false;
    const ttl = await this.vault.renewSelf(token);
    this.log.info({ tokenName: name, accessor, ttlSec: ttl }, "token renewed");
    return true;
  }

  private async loadRootRecord(): Promise<RootTokenRecord | undefined> {
    this.rootRecord ??= decode<RootTokenRecord>(await this.store.accessLatest(this.config.secrets.rootToken), "vault-gke/root-token/v1", "root token");
    return this.rootRecord;
  }

  /** A valid root token: a stored one if it still works, else a short-lived one from generate-root and the stored keys. */
  private async obtainRoot(stored: StoredInit): Promise<{ token: string; generated: boolean }> {
    this.rootRecord = undefined; // rare and important: read what the store holds now, not a cached copy
    const record = await this.loadRootRecord();
    // The init response's root token is tried too: a crash between storing the record and revoking leaves it valid.
    const candidates = [record && "root_token" in record ? record.root_token : undefined, stored.response.root_token];
    for (const token of candidates) {
      if (token && (await this.vault.lookupSelf(token))?.policies.includes("root")) return { token, generated: false };
    }
    this.log.info({ shares: Math.min(this.config.keyThreshold, keySharesOf(stored).length) }, "root token revoked; generating a short-lived one from the stored keys");
    const authToken = record && "revoked" in record ? record.generateRootToken : undefined;
    const token = await generateRoot(this.vault, keySharesOf(stored), this.config.keyThreshold, authToken);
    return { token, generated: true };
  }

  /** Revokes root when done. Before the initial root token goes, a generate-root token is stored as the way back. */
  private async releaseRoot(root: { token: string; generated: boolean }): Promise<void> {
    if (!root.generated && !this.config.revokeRootToken) return;
    const record = await this.loadRootRecord();
    const current = record && "revoked" in record ? record : undefined;
    if (!current || !(await this.vault.lookupSelf(current.generateRootToken))) {
      const created = await this.vault.createOrphanToken(root.token, { policies: [GENERATE_ROOT_POLICY], periodSec: GENERATE_ROOT_PERIOD_SEC, displayName: "vault-gke-generate-root" });
      const next: RootTokenRecord = { format: "vault-gke/root-token/v1", revoked: true, generateRootToken: created.token, generateRootAccessor: created.accessor, storedAt: new Date().toISOString() };
      await this.writeJson(this.config.secrets.rootToken, next);
      this.rootRecord = next;
      this.log.info({ accessor: created.accessor }, "generate-root token stored");
    }
    await this.vault.revokeSelf(root.token);
    this.log.info({ generated: root.generated }, "root token revoked");
    checkpoint("after-root-revoked", this.log);
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
  }

  /** Writes a small JSON document, retrying a few times (these hold tokens that can be re-created). */
  private async writeJson(secretId: string, doc: unknown): Promise<void> {
    const retry = new Backoff(this.config.minWaitMs, 2000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.addVersion(secretId, encode(doc));
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.log.warn({ secret: secretId, attempt, err: { message: (error as Error).message } }, "write failed; retrying");
        await sleep(retry.next());
      }
    }
  }
}

/** Thrown when the stop grace period ran out with keys still unstored. */
export class KeysUnstored extends Error {
  constructor() {
    super("the init response could not be stored before the stop grace period ended");
    this.name = "KeysUnstored";
  }
}
