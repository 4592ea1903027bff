// What the sidecar tells people: a diagnosis once (and on its endpoint until
// resolved), and one line whenever Vault's state changes.
import type { Diagnosis } from "./diagnoses";
import type { Context } from "./state";
import type { Health } from "../vault/client";

export function report(ctx: Context, diagnosis: Diagnosis): void {
  if (ctx.status.report(diagnosis)) ctx.log.error({ diagnosis: diagnosis.code, recovery: diagnosis.recovery }, diagnosis.message);
}

export function resolved(ctx: Context): void {
  const was = ctx.status.clear();
  if (was) ctx.log.info({ diagnosis: was.code }, "diagnosis resolved");
}

/** Logs one line whenever Vault's state changes; returns true when it did. */
export async function describeVault(ctx: Context, health: Health): Promise<boolean> {
  const state = `${health.kind}/${health.initialized}/${health.sealed}`;
  if (state === ctx.state.lastVaultState) return false;
  ctx.state.lastVaultState = state;
  const fields: Record<string, unknown> = {
    state: health.kind,
    status: health.status,
    initialized: health.initialized,
    sealed: health.sealed,
    version: health.version,
  };
  if (health.kind === "unreachable" || health.kind === "unexpected") fields.detail = health.detail;
  if (health.kind === "active" || health.kind === "standby" || health.kind === "perf-standby") {
    try {
      const l = await ctx.vault.leader();
      Object.assign(fields, {
        haEnabled: l.haEnabled,
        leader: l.leaderAddress,
        isLeader: l.isSelf,
        raftCommittedIndex: l.raftCommittedIndex,
        raftAppliedIndex: l.raftAppliedIndex,
      });
    } catch (error) {
      fields.leaderError = (error as Error).message;
    }
    // The peers need a token: the sidecar's own token may read them, once it exists.
    const token = ctx.state.remembered.sidecar?.token;
    if (ctx.config.storage === "raft" && token) {
      try {
        fields.raftPeers = (await ctx.vault.raftPeers(token)).map((p) => `${p.id}${p.leader ? " (leader)" : p.voter ? "" : " (non-voter)"}`);
      } catch (error) {
        fields.raftPeersError = (error as Error).message;
      }
    }
  }
  ctx.log.info(fields, "vault state");
  return true;
}
