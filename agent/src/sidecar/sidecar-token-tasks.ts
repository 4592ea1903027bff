// The periodic work done with the sidecar's own token (never root): tenant
// policies rendered again from the tenants' engines, and the verifier. One
// inventory of Vault serves both.
import { readFileSync } from "node:fs";
import type { DeclaredAccess } from "../../../contract/declared-access";
import { readInventory } from "../verify/inventory";
import { planTenantPolicies } from "../verify/tenant-policies";
import { verify } from "../verify/verifier";
import type { Task } from "./maintenance-plan";
import type { Policies } from "./root-session";
import type { Context } from "./state";

type Step = "read-inventory" | "sync-tenant-policies" | "verify";

export async function withSidecarToken(ctx: Context, tasks: readonly Task[], policies: Policies): Promise<boolean> {
  const { config, log, state, vault } = ctx;
  const token = state.remembered.sidecar?.token;
  if (!token) return false;
  let changed = false;
  // A failure ends this turn's work and is counted under the step it happened in.
  let step: Step = "read-inventory";
  try {
    let inventory = await readInventory(vault, token);
    if (tasks.some((t) => t.kind === "sync-tenant-policies")) {
      step = "sync-tenant-policies";
      state.tenantPoliciesDueAt = Date.now() + config.tenantPolicySyncSec * 1000;
      const plan = planTenantPolicies(inventory);
      for (const [name, text] of Object.entries(plan.write)) {
        const was = inventory.policies[name] === undefined ? "absent" : "different (engines changed, or it was edited)";
        await vault.writePolicy(token, name, text);
        log.info({ policy: name, was }, "tenant policy written");
        changed = true;
      }
      for (const name of plan.remove) {
        await vault.deletePolicy(token, name);
        log.info({ policy: name }, "tenant policy removed: its tenant has no engines");
        changed = true;
      }
      if (changed) inventory = await readInventory(vault, token);
    }
    if (tasks.some((t) => t.kind === "verify")) {
      step = "verify";
      state.verifyDueAt = Date.now() + config.verifyIntervalSec * 1000;
      const declared = JSON.parse(readFileSync(config.declaredAccessFile, "utf8")) as DeclaredAccess;
      const findings = verify(inventory, declared, policies.byName);
      for (const f of findings) log.warn({ finding: f.kind, path: f.path }, `verifier finding: ${f.path} ${f.detail}`);
      log.info({ findings: findings.length }, "verifier ran");
      ctx.status.verified(findings);
    }
  } catch (error) {
    ctx.status.failed(step);
    log.warn({ task: step, err: { message: (error as Error).message } }, "maintenance step failed; retrying later");
    state.forgetChecks();
  }
  return changed;
}
