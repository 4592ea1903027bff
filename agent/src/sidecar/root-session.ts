// The tasks that need root, under one short-lived root token: the initial
// root while it lives, else one made by generate-root from the stored keys
// and revoked when the batch is done. What runs, and in which order, is
// rootBatch's answer (maintenance-plan.ts).
import { generateRoot } from "../vault/generate-root";
import { VaultError } from "../vault/client";
import { attempt } from "./attempt";
import * as D from "./diagnoses";
import type { Diagnosis } from "./diagnoses";
import { auditAction, rootBatch, rootNeeds, rootUnobtainable, type ManagedToken, type Task } from "./maintenance-plan";
import { RECORD_OF } from "./managed-tokens";
import { keySharesOf, type SidecarTokenRecord, type StoredInit } from "./records";
import { secretOf, type Context } from "./state";
import { writeJson } from "./store-io";
import { checkpoint } from "./test-hooks";
import { initialRootCandidates, validInitialRoot } from "./token-checks";
import { tokenRecord, tokenSpec } from "./token-specs";

/** The policies vault-gke owns, as shipped beside the sidecar, and their digest. */
export interface Policies {
  readonly byName: Record<string, string>;
  readonly sha256: string;
}

interface Root {
  readonly token: string;
  /** Made by generate-root for this batch: revoked when done. */
  readonly generated: boolean;
}

/** Root cannot be generated (no generate-root token and no unauthenticated endpoint). */
class NoRoot extends Error {
  constructor(detail: string) {
    super(`root cannot be generated: ${detail}`);
    this.name = "NoRoot";
  }
}

export async function underRoot(
  ctx: Context,
  init: StoredInit,
  policies: Policies,
  tasks: readonly Task[],
): Promise<{ changed: boolean; diagnosis?: Diagnosis }> {
  const { state } = ctx;
  let root: Root;
  try {
    root = await obtainRoot(ctx, init);
  } catch (error) {
    ctx.status.failed("obtain-root");
    if (error instanceof NoRoot) return { changed: false, diagnosis: D.noWayBackToRoot(rootNeeds(tasks), ctx.config.secrets) };
    throw error;
  }
  const batch = rootBatch(tasks);
  let changed = false;
  try {
    await attempt(ctx, "check-audit", async () => {
      await ensureAudit(ctx, root.token);
      return false;
    });
    let policiesWritten = false;
    if (batch.writePolicies) {
      policiesWritten = await attempt(ctx, "write-policies", async () => {
        for (const [name, hcl] of Object.entries(policies.byName)) await ctx.vault.writePolicy(root.token, name, hcl);
        ctx.log.info({ policies: Object.keys(policies.byName), sha256: policies.sha256.slice(0, 12) }, "policies written");
        checkpoint("after-policies", ctx.log);
        return true;
      });
      changed ||= policiesWritten;
    }
    // A sidecar record claims the digest only of policies that were written, so a failed write is tried again.
    const writtenSha256 = policiesWritten ? policies.sha256 : "";
    for (const token of batch.mint) changed = (await attempt(ctx, "mint", () => mint(ctx, root.token, token, writtenSha256), token)) || changed;
    const sidecar = state.remembered.sidecar;
    if (policiesWritten && batch.recordPolicyDigest && sidecar) {
      const next: SidecarTokenRecord = { ...sidecar, policiesSha256: policies.sha256, storedAt: new Date().toISOString() };
      changed =
        (await attempt(ctx, "record-policy-digest", async () => {
          await writeJson(ctx, ctx.config.secrets.sidecarToken, next);
          state.remembered.sidecar = next;
          return true;
        })) || changed;
    }
    if (batch.revokeInitialRoot) {
      const gr = state.tokenOf("generate-root");
      if (gr && (await ctx.vault.lookupSelf(gr))) changed = (await attempt(ctx, "revoke-initial-root", () => revokeInitialRoot(ctx, init, root))) || changed;
    }
  } finally {
    if (root.generated) {
      await ctx.vault
        .revokeSelf(root.token)
        .catch((error: Error) => ctx.log.warn({ err: { message: error.message } }, "revoking the short-lived root failed; it expires on its own"));
      ctx.log.info({ generated: true }, "root token revoked");
    }
  }
  return { changed };
}

/** A valid root token: the initial one while it lives, else a short-lived one from generate-root and the stored keys. */
async function obtainRoot(ctx: Context, stored: StoredInit): Promise<Root> {
  const initial = await validInitialRoot(ctx, stored);
  if (initial) return { token: initial, generated: false };
  const gr = ctx.state.tokenOf("generate-root");
  const authToken = gr && (await ctx.vault.lookupSelf(gr)) ? gr : undefined;
  const shares = keySharesOf(stored);
  ctx.log.info(
    { shares: Math.min(ctx.config.keyThreshold, shares.length), withGenerateRootToken: Boolean(authToken) },
    "root token revoked; generating a short-lived one from the stored keys",
  );
  try {
    return { token: await generateRoot(ctx.vault, shares, ctx.config.keyThreshold, authToken), generated: true };
  } catch (error) {
    if (error instanceof VaultError && rootUnobtainable(error.status, error.vaultErrors)) throw new NoRoot(error.message);
    throw error;
  }
}

/**
 * Makes a token and stores its record; a token whose record cannot be stored
 * is revoked before this returns, so no valid token is ever left unstored.
 */
async function mint(ctx: Context, rootToken: string, token: ManagedToken, policiesSha256: string): Promise<boolean> {
  const { state } = ctx;
  const spec = tokenSpec(token, ctx.config.planTokenPeriodSec);
  const secret = secretOf(ctx, token);
  const created = await ctx.vault.createOrphanToken(rootToken, { policies: [spec.policy], periodSec: spec.periodSec, displayName: spec.displayName });
  checkpoint(`after-${token}-token-created`, ctx.log);
  const record = tokenRecord(token, created, policiesSha256, new Date().toISOString());
  try {
    await writeJson(ctx, secret, record, 3);
  } catch (error) {
    await ctx.vault.revokeAccessor(rootToken, created.accessor).catch(() => ctx.vault.revokeSelf(created.token));
    ctx.log.warn(
      { secret, accessor: created.accessor, err: { message: (error as Error).message } },
      `the new ${token} token could not be stored, so it was revoked`,
    );
    throw error;
  }
  state.remembered = { ...state.remembered, [RECORD_OF[token]]: record };
  state.forgetChecks();
  ctx.status.tokenExpires(token, spec.periodSec);
  ctx.log.info({ secret, accessor: created.accessor, periodSec: spec.periodSec }, `${token} token created and stored`);
  checkpoint(`after-${token}-token-stored`, ctx.log);
  return true;
}

async function revokeInitialRoot(ctx: Context, stored: StoredInit, root: Root): Promise<boolean> {
  for (const token of initialRootCandidates(ctx, stored)) {
    if (!(await ctx.vault.lookupSelf(token))) continue;
    await ctx.vault.revokeSelf(token);
  }
  ctx.state.initialRootRevoked = true;
  if (!root.generated) ctx.log.info({ generated: false }, "root token revoked");
  checkpoint("after-root-revoked", ctx.log);
  return true;
}

async function ensureAudit(ctx: Context, rootToken: string): Promise<void> {
  const devices = Object.keys(await ctx.vault.listAuditDevices(rootToken));
  const { auditMode, auditFilePath } = ctx.config;
  const action = auditAction(auditMode, devices, auditFilePath);
  switch (action.kind) {
    case "none":
      ctx.log.info({ devices, source: auditMode === "config" ? "server configuration" : "api" }, "audit devices active");
      break;
    case "enable":
      for (const d of action.devices) {
        await ctx.vault.enableFileAudit(rootToken, d.path, d.filePath);
        ctx.log.info({ device: `${d.path}/`, filePath: d.filePath, source: "api" }, "audit device enabled through the API");
      }
      break;
    case "report-missing":
      ctx.log.error("no audit device is active, but the server configuration should declare one (AUDIT_MODE=config); check the vault.hcl ConfigMap");
      break;
  }
  checkpoint("after-audit", ctx.log);
}
