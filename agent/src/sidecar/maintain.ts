// The active vault's upkeep, one pass: gather the maintenance facts, ask
// maintenance-plan.ts for the tasks, and carry them out in their lanes (the
// loop alone, under a short-lived root, with the sidecar's own token).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { attempt } from "./attempt";
import { markCanaryInitialized } from "./initialization";
import { converged, lanes, planMaintenance, unstorableDiagnosis, type MaintenanceFacts, type Task } from "./maintenance-plan";
import { RECORD_OF, type TokenRecordKey } from "./managed-tokens";
import { FORMATS, type CanaryRecord, type RecordState, type StoredInit } from "./records";
import { report, resolved } from "./reporting";
import { underRoot, type Policies } from "./root-session";
import { withSidecarToken } from "./sidecar-token-tasks";
import { secretOf, type Context } from "./state";
import { currentRecords, readRecord, unwritable, writeJson } from "./store-io";
import { checkTokens, initialRootValid } from "./token-checks";
import { tokenPeriods } from "./token-specs";

/** Returns true when something changed. */
export async function maintain(ctx: Context, init: StoredInit): Promise<boolean> {
  const { config, state } = ctx;
  const policies = readPolicies(config.policyDir);
  const records = await currentRecords(ctx);
  const tokens = await checkTokens(ctx);
  const canary: RecordState<CanaryRecord> = state.canaryInitialized
    ? { kind: "ok", value: { format: FORMATS.canary, kind: "initialized", pod: config.podName, at: "" } }
    : await readRecord<CanaryRecord>(ctx, config.secrets.canary, FORMATS.canary);
  if (canary.kind === "ok" && canary.value.kind === "initialized") state.canaryInitialized = true;
  const base: MaintenanceFacts = {
    canary,
    policiesSha256: policies.sha256,
    records,
    remembered: state.remembered,
    tokens,
    periods: tokenPeriods(config.planTokenPeriodSec),
    initialRootValid: await initialRootValid(ctx, init),
    revokeRootToken: config.revokeRootToken,
    unwritable: {},
    now: Date.now(),
    tenantPoliciesDueAt: state.tenantPoliciesDueAt,
    verifyDueAt: state.verifyDueAt,
  };
  let facts = base;
  let tasks = planMaintenance(facts);
  // A token is made only once its record is known to be storable: plan again with what cannot be written.
  if (tasks.some((t) => t.kind === "mint")) {
    const cannot: Partial<Record<TokenRecordKey, string>> = {};
    for (const t of tasks) {
      if (t.kind !== "mint") continue;
      const problem = await unwritable(ctx, secretOf(ctx, t.token));
      if (problem) cannot[RECORD_OF[t.token]] = problem;
    }
    facts = { ...base, unwritable: cannot };
    tasks = planMaintenance(facts);
  }

  const lane = lanes(tasks);
  let changed = false;
  let diagnosis = unstorableDiagnosis(facts, config.secrets);
  for (const task of lane.plain) changed = (await attempt(ctx, task.kind, () => runPlain(ctx, task), "token" in task ? task.token : undefined)) || changed;
  if (lane.root.length > 0) {
    const outcome = await underRoot(ctx, init, policies, lane.root);
    changed = outcome.changed || changed;
    diagnosis ??= outcome.diagnosis;
  }
  if (lane.sidecarToken.length > 0) changed = (await withSidecarToken(ctx, lane.sidecarToken, policies)) || changed;

  if (diagnosis) report(ctx, diagnosis);
  else resolved(ctx);
  if (converged(tasks)) ctx.status.converged();
  return changed;
}

/** The tasks the loop does without any Vault token of its own. */
async function runPlain(ctx: Context, task: Task): Promise<boolean> {
  const { state } = ctx;
  switch (task.kind) {
    case "mark-canary-initialized":
      await markCanaryInitialized(ctx);
      return state.canaryInitialized;
    case "repair-record": {
      const secret = secretOf(ctx, task.token);
      const record = state.remembered[RECORD_OF[task.token]];
      if (!record) return false;
      await writeJson(ctx, secret, record);
      state.records = undefined;
      ctx.log.warn({ secret, token: task.token }, "the stored record was missing or unreadable; wrote it again from the copy this sidecar holds");
      return true;
    }
    case "renew": {
      const token = state.tokenOf(task.token);
      if (!token) return false;
      const ttl = await ctx.vault.renewSelf(token);
      ctx.status.tokenExpires(task.token, ttl);
      state.tokenChecks = undefined;
      ctx.log.info({ tokenName: task.token, accessor: state.accessorOf(task.token), ttlSec: ttl }, "token renewed");
      return true;
    }
    default:
      return false;
  }
}

/** The policies shipped beside the sidecar (the vault-policies ConfigMap), by name, with their digest. */
function readPolicies(dir: string): Policies {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".hcl"))
    .sort();
  const byName = Object.fromEntries(files.map((f) => [f.slice(0, -4), readFileSync(join(dir, f), "utf8")]));
  return { byName, sha256: createHash("sha256").update(JSON.stringify(byName)).digest("hex") };
}
