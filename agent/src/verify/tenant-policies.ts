// Which tenant policies the sidecar writes and removes: one tenant-<t> per
// tenant that has engines under tenants/<t>/, rendered from what those engines
// hold, and none for a tenant without engines. Pure; the loop applies it with
// the sidecar's own token, so no runner credential ever writes a policy.
import { isPlainSegment, isTenantName, renderTenantPolicy, TENANT_POLICY_PREFIX, tenantPolicyName } from "../../../contract/tenant-policy";
import type { VaultInventory } from "./inventory";

export interface TenantPolicyPlan {
  /** Policy name -> text to write (new or different). */
  readonly write: Readonly<Record<string, string>>;
  /** tenant-* policies whose tenant has no engines any more. */
  readonly remove: readonly string[];
  /** Transit keys and database roles whose names the renderer will not put in a policy (the verifier reports them). */
  readonly skipped: readonly string[];
}

export function planTenantPolicies(inv: VaultInventory): TenantPolicyPlan {
  const write: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [tenant, engines] of Object.entries(inv.tenants)) {
    if (!isTenantName(tenant)) continue; // its engines are undeclared mounts to the verifier
    const transitKeys = engines.transitKeys.filter(isPlainSegment);
    const databaseRoles = engines.databaseRoles.filter(isPlainSegment);
    skipped.push(...engines.transitKeys.filter((k) => !isPlainSegment(k)).map((k) => `tenants/${tenant}/transit/keys/${k}`));
    skipped.push(...engines.databaseRoles.filter((r) => !isPlainSegment(r)).map((r) => `tenants/${tenant}/database/roles/${r}`));
    const text = renderTenantPolicy({ tenant, transitKeys, databaseRoles });
    const name = tenantPolicyName(tenant);
    if ((inv.policies[name] ?? "").trim() !== text.trim()) write[name] = text;
  }
  const remove = Object.keys(inv.policies).filter((name) => name.startsWith(TENANT_POLICY_PREFIX) && !inv.tenants[name.slice(TENANT_POLICY_PREFIX.length)]);
  return { write, remove, skipped };
}
