// The converge loop: safe to run in every Vault pod, from any state, after any
// crash. Each pass gathers facts, asks decide.ts for the next step and does
// it; waits back off exponentially and end at once on SIGTERM. It never exits
// on its own: a state it cannot fix is a diagnosis it reports once and keeps
// reporting on its endpoint until a human fixes it.
import { Backoff, sleep } from "../shared/backoff";
import { checkServedCertificate, trustMountedCa } from "./certificates";
import { decide, type Facts } from "./decide";
import { initialize, KeysUnstored, persistInit, unseal } from "./initialization";
import { maintain } from "./maintain";
import { FORMATS, type CanaryRecord } from "./records";
import { describeVault, report, resolved } from "./reporting";
import { SidecarState, type Context, type SidecarDeps } from "./state";
import { keysStoredEvidence, preflight, readInit, readRecord } from "./store-io";

export const EXIT = { ok: 0, config: 2, keysUnstored: 4 } as const;

/** What is left of the stop grace period when a store attempt under way is abandoned: time to log and exit. */
const GRACE_MARGIN_MS = 500;

export class SidecarLoop {
  private readonly ctx: Context;
  private readonly backoff: Backoff;

  constructor(deps: SidecarDeps) {
    this.ctx = { ...deps, state: new SidecarState() };
    this.backoff = new Backoff(deps.config.minWaitMs, deps.config.maxWaitMs);
  }

  /** True while keys exist only in this process: a stop must wait for them to be stored. */
  get holdsUnstoredKeys(): boolean {
    return this.ctx.state.unstored !== undefined;
  }

  /** Runs until `stop` aborts; resolves with the process exit code. */
  async run(stop: AbortSignal): Promise<number> {
    const { config, log, state, status } = this.ctx;
    stop.addEventListener(
      "abort",
      () => {
        state.stopRequestedAt = Date.now();
        setTimeout(() => state.graceSpent.abort(), Math.max(0, config.stopGraceMs - GRACE_MARGIN_MS)).unref();
      },
      { once: true },
    );
    while (!stop.aborted || state.unstored) {
      status.heartbeat();
      let changed = false;
      try {
        changed = await this.pass();
      } catch (error) {
        if (error instanceof KeysUnstored) return EXIT.keysUnstored;
        status.failed("pass");
        log.warn({ err: { message: (error as Error).message } }, "step failed; retrying");
      }
      if (changed) this.backoff.reset();
      if (stop.aborted && !state.unstored) break;
      await sleep(this.backoff.next(), state.unstored ? undefined : stop);
    }
    log.info("stopped");
    return EXIT.ok;
  }

  /** One look at Vault and the step its state needs. Returns true when something changed. */
  async pass(): Promise<boolean> {
    const ctx = this.ctx;
    const { config, state } = ctx;
    trustMountedCa(ctx);
    const health = await ctx.vault.health();
    ctx.status.vault(health.kind, health.initialized, health.sealed);
    // Only a server known not to be active (not one that failed to answer once) hands its reports over.
    if (health.kind !== "active" && health.kind !== "unreachable" && health.kind !== "unexpected") {
      ctx.status.notActive();
      state.tokenChecks = undefined;
    }
    if (health.kind !== "unreachable") await checkServedCertificate(ctx);
    const changed = await describeVault(ctx, health);
    let facts: Facts = {
      health,
      pod: config.podName,
      initializer: config.ordinal === 0,
      seal: config.seal,
      storage: config.storage,
      secrets: config.secrets,
      holdsUnstoredKeys: state.unstored !== undefined,
      init: state.init ? { kind: "ok", value: state.init } : state.unstored || health.kind === "unreachable" ? { kind: "absent" } : await readInit(ctx),
      initRefused: state.initRefused,
    };
    for (;;) {
      const d = decide(facts);
      switch (d.kind) {
        case "gather-canary":
          facts = { ...facts, canary: await readRecord<CanaryRecord>(ctx, config.secrets.canary, FORMATS.canary) };
          continue;
        case "gather-evidence":
          facts = { ...facts, keysStoredEvidence: await keysStoredEvidence(ctx) };
          continue;
        case "gather-preflight":
          facts = { ...facts, preflight: await preflight(ctx) };
          continue;
        case "wait":
          resolved(ctx);
          return changed;
        case "diagnose":
          report(ctx, d.diagnosis);
          return changed;
        case "store-keys":
          if (state.unstored) await persistInit(ctx, state.unstored);
          return true;
        case "initialize":
          await initialize(ctx);
          return true;
        case "unseal":
          resolved(ctx);
          return (await unseal(ctx, d.init)) || changed;
        case "maintain":
          return (await maintain(ctx, d.init)) || changed;
      }
    }
  }
}
