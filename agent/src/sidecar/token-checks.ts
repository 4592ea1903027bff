// Looks up the tokens the sidecar keeps and the initial root token: facts for
// maintenance-plan.ts. A 403 counts as "invalid" only while the server still
// answers as active (a sealing server says 403 too).
import type { ManagedToken, TokenStatus } from "./maintenance-plan";
import type { StoredInit } from "./records";
import type { Context } from "./state";
import { tokenCheckIntervalMs } from "./store-io";

export async function checkTokens(ctx: Context): Promise<Record<ManagedToken, TokenStatus>> {
  const { state } = ctx;
  if (state.tokenChecks && Date.now() - state.tokenChecks.at < tokenCheckIntervalMs(ctx)) return state.tokenChecks.value;
  const value = {} as Record<ManagedToken, TokenStatus>;
  for (const token of ["plan", "sidecar", "generate-root"] as const) {
    const t = state.tokenOf(token);
    if (!t) {
      value[token] = { kind: "unknown" };
      continue;
    }
    const info = await ctx.vault.lookupSelf(t);
    if (info) {
      value[token] = { kind: "valid", ttlSec: info.ttl };
      ctx.status.tokenExpires(token, info.ttl);
    } else value[token] = (await stillActive(ctx)) ? { kind: "invalid" } : { kind: "unknown" };
  }
  state.tokenChecks = { at: Date.now(), value };
  return value;
}

export async function stillActive(ctx: Context): Promise<boolean> {
  return (await ctx.vault.health()).kind === "active";
}

/** The initial root token wherever it was kept: the root record (before its revocation) and the init response. */
export function initialRootCandidates(ctx: Context, stored: StoredInit): string[] {
  const r = ctx.state.remembered.root;
  return [...new Set([r && "root_token" in r ? r.root_token : undefined, stored.response.root_token].filter((t): t is string => Boolean(t)))];
}

/** The first candidate that still works as root. */
export async function validInitialRoot(ctx: Context, stored: StoredInit): Promise<string | undefined> {
  for (const token of initialRootCandidates(ctx, stored)) {
    if ((await ctx.vault.lookupSelf(token))?.policies.includes("root")) return token;
  }
  return undefined;
}

export async function initialRootValid(ctx: Context, stored: StoredInit): Promise<boolean> {
  if (ctx.state.initialRootRevoked) return false;
  if (await validInitialRoot(ctx, stored)) return true;
  if (await stillActive(ctx)) ctx.state.initialRootRevoked = true;
  return false;
}
