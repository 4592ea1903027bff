// The verifier: what Vault's ACLs cannot refuse, detected. A pure function
// from what Vault holds (inventory.ts) and what the stacks declare
// (config/declared-access.ts) to findings, one per deviation:
// - an auth method or a secrets engine no stack declares;
// - a role of a declared auth method that binds other policies than declared
//   (a tenant cluster's role <t> binds tenant-<t> and nothing else), or that
//   lets in other identities than declared (service accounts, claims,
//   audiences), and a backend that trusts another cluster than declared;
// - a tenant-* policy whose text differs from its rendering from the tenant's
//   engines, or a policy vault-gke owns that differs from policies/;
// - audit logging of plain-text values, or a lease ceiling above the
//   environment's on a tenant engine or backend;
// - an audit device no stack declares, a declared one missing, or one that
//   logs raw values;
// - a missing tenant-* policy (the tenant's pods cannot read their secrets);
// - with the tenant files (the runners' verifier, tenant-files.ts): a tenant's
//   login role that lets in other service accounts, namespaces or audiences
//   than its file, a database connection that points elsewhere, a database
//   role whose statements differ, and a login role no tenant file declares.
// (The audit devices: audit-devices.ts; the finding kinds: finding.ts.)
import type { DeclaredAccess, DeclaredSetting } from "../../../contract/declared-access";
import { auditDevices } from "./audit-devices";
import { bindingDifferences, same, type Finding } from "./finding";
import { tenantRoleAgainstFile, tenantsAgainstFiles } from "./tenant-files";
import { isTenantName, TENANT_POLICY_PREFIX, tenantPolicyName } from "../../../contract/tenant-policy";
import type { MountInfo, VaultInventory } from "./inventory";
import { planTenantPolicies } from "./tenant-policies";

export type { Finding, FindingKind } from "./finding";

/** Mounts every Vault has. */
const SYSTEM_MOUNTS: Readonly<Record<string, string>> = { cubbyhole: "cubbyhole", identity: "identity", sys: "system" };
const TENANT_ENGINES: Readonly<Record<string, string>> = { kv: "kv", transit: "transit", database: "database" };

/** A declared setting against what Vault holds (lists in any order; an empty string or list is the same as unset). */
function sameSetting(held: DeclaredSetting | undefined, want: DeclaredSetting): boolean {
  if (Array.isArray(want)) return same(Array.isArray(held) ? held : held === undefined || held === "" ? [] : [String(held)], want);
  if (want === "") return held === undefined || held === "" || (Array.isArray(held) && held.length === 0);
  return held === want;
}

const shown = (v: DeclaredSetting | undefined) => (v === undefined ? "unset" : JSON.stringify(v));

function plaintextAudit(path: string, m: MountInfo): Finding[] {
  const keys = [...m.auditNonHmacRequestKeys.map((k) => `request ${k}`), ...m.auditNonHmacResponseKeys.map((k) => `response ${k}`)];
  return keys.length
    ? [{ kind: "plaintext-audit", path, detail: `audit logs these values in plain text: ${keys.join(", ")}; nothing vault-gke declares does` }]
    : [];
}

function ceiling(path: string, m: MountInfo, maxSec: number): Finding[] {
  return m.maxLeaseTtlSec === 0 || m.maxLeaseTtlSec > maxSec
    ? [
        {
          kind: "lease-ceiling",
          path,
          detail: `max_lease_ttl is ${m.maxLeaseTtlSec === 0 ? "the system default (32 days)" : `${m.maxLeaseTtlSec}s`}; the environment allows at most ${maxSec}s`,
        },
      ]
    : [];
}

export function verify(inv: VaultInventory, declared: DeclaredAccess, systemPolicies: Readonly<Record<string, string>>): Finding[] {
  const findings: Finding[] = [];
  const declaredAuth = new Map(declared.authMounts.map((m) => [m.path, m]));

  for (const [path, mount] of Object.entries(inv.authMounts)) {
    const d = declaredAuth.get(path);
    if (!d) {
      findings.push({ kind: "undeclared-auth-method", path: `auth/${path}`, detail: `a ${mount.type} auth method no stack declares` });
      continue;
    }
    if (d.type !== mount.type) {
      // Another kind of auth method: its settings are not comparable with the declared ones.
      findings.push({ kind: "auth-method-type", path: `auth/${path}`, detail: `is a ${mount.type} auth method; the stacks declare ${d.type}` });
      continue;
    }
    findings.push(...plaintextAudit(`auth/${path}`, mount));
    if (d.tenantCluster) findings.push(...ceiling(`auth/${path}`, mount, declared.maxTenantTtlSec));
    for (const [field, want] of Object.entries(d.config ?? {})) {
      const held = inv.authConfigs[path]?.[field];
      if (!sameSetting(held, want))
        findings.push({ kind: "auth-config", path: `auth/${path}/config`, detail: `${field} is ${shown(held)}; the shared stack declares ${shown(want)}` });
    }
  }

  for (const d of declared.authMounts) {
    if (!inv.authMounts[d.path])
      findings.push({
        kind: "missing-auth-method",
        path: `auth/${d.path}`,
        detail: `the stacks declare a ${d.type} auth method here and Vault has none (apply the shared stack)`,
      });
  }

  for (const [path, mount] of Object.entries(inv.secretMounts)) {
    findings.push(...plaintextAudit(path, mount));
    if (SYSTEM_MOUNTS[path] === mount.type) continue;
    const t = /^tenants\/([^/]+)\/([^/]+)$/.exec(path);
    const engine = t ? TENANT_ENGINES[t[2]] : undefined;
    if (!t || !engine || !isTenantName(t[1])) {
      findings.push({ kind: "undeclared-mount", path, detail: `a ${mount.type} secrets engine no stack declares` });
      continue;
    }
    if (mount.type !== engine || (engine === "kv" && mount.options?.version !== "2")) {
      findings.push({
        kind: "undeclared-mount",
        path,
        detail: `is ${mount.type}${mount.options?.version ? ` v${mount.options.version}` : ""}; tenant stacks declare ${engine === "kv" ? "kv v2" : engine} here`,
      });
    }
    if (engine === "database") findings.push(...ceiling(path, mount, declared.maxTenantTtlSec));
  }

  for (const [path, roles] of Object.entries(inv.roles)) {
    const d = declaredAuth.get(path);
    if (!d) continue; // already reported as an undeclared auth method
    if (d.tenantCluster) {
      for (const [name, role] of Object.entries(roles)) {
        const own = tenantPolicyName(name);
        if (!isTenantName(name) || !same(role.policies, [own])) {
          findings.push({
            kind: "role-policies",
            path: `auth/${path}/role/${name}`,
            detail: `binds ${role.policies.join(", ") || "no policy"}; a tenant's login role binds only ${own}`,
          });
        }
        if (!role.audience)
          findings.push({ kind: "role-audience", path: `auth/${path}/role/${name}`, detail: "sets no audience: a token minted for any other service logs in" });
        if (role.periodSec > 0)
          findings.push({
            kind: "role-period",
            path: `auth/${path}/role/${name}`,
            detail: `issues periodic tokens (${role.periodSec}s) that outlive the backend's lease ceiling`,
          });
        if (declared.tenants)
          findings.push(...tenantRoleAgainstFile(path, name, role.bindings, declared.tenants[name], declared.tenantFilesComplete !== false));
      }
      continue;
    }
    const expected = d.roles ?? {};
    for (const [name, role] of Object.entries(roles)) {
      const want = expected[name];
      if (!want)
        findings.push({
          kind: "undeclared-role",
          path: `auth/${path}/role/${name}`,
          detail: `a role no stack declares; it binds ${role.policies.join(", ") || "no policy"}`,
        });
      else if (!same(role.policies, want))
        findings.push({
          kind: "role-policies",
          path: `auth/${path}/role/${name}`,
          detail: `binds ${role.policies.join(", ") || "no policy"}; the shared stack declares ${want.join(", ")}`,
        });
      const wantBindings = d.bindings?.[name];
      if (!wantBindings) continue;
      const differ = bindingDifferences(role.bindings, wantBindings);
      if (differ.length > 0)
        findings.push({
          kind: "role-binding",
          path: `auth/${path}/role/${name}`,
          detail: `lets in other identities than the shared stack declares: ${differ.join("; ")}`,
        });
    }
    for (const name of Object.keys(expected)) {
      if (!roles[name])
        findings.push({ kind: "missing-role", path: `auth/${path}/role/${name}`, detail: "declared by the shared stack but absent (apply the shared stack)" });
    }
  }

  for (const name of inv.tokenRoles) {
    findings.push({
      kind: "token-role",
      path: `auth/token/roles/${name}`,
      detail: "a token role no stack declares: it mints tokens with its allowed policies, possibly without a parent",
    });
  }

  for (const [tenant, engines] of Object.entries(inv.tenants)) {
    if (engines.kvDeleteVersionAfterSec) {
      findings.push({
        kind: "kv-version-expiry",
        path: `tenants/${tenant}/kv/config`,
        detail: `deletes every secret version ${engines.kvDeleteVersionAfterSec}s after it is written; tenant stacks keep versions`,
      });
    }
    for (const [name, plugin] of Object.entries(engines.databaseConnections ?? {})) {
      if (plugin !== "postgresql-database-plugin")
        findings.push({
          kind: "database-plugin",
          path: `tenants/${tenant}/database/config/${name}`,
          detail: `uses ${plugin || "an unknown plugin"}; tenant stacks declare PostgreSQL only`,
        });
    }
  }

  if (declared.tenants) findings.push(...tenantsAgainstFiles(inv, declared.tenants, declared.tenantFilesComplete !== false));
  findings.push(...auditDevices(inv, declared));

  // Tenant policies: what the sidecar would write or remove now is a deviation.
  const plan = planTenantPolicies(inv);
  for (const name of plan.remove) {
    const tenant = name.slice(TENANT_POLICY_PREFIX.length);
    findings.push({ kind: "orphan-tenant-policy", path: `sys/policies/acl/${name}`, detail: `no tenant ${tenant} has engines under tenants/${tenant}/` });
  }
  for (const name of Object.keys(plan.write)) {
    findings.push(
      inv.policies[name] === undefined
        ? {
            kind: "missing-tenant-policy",
            path: `sys/policies/acl/${name}`,
            detail: "is missing: the tenant's logins get no access to its engines (the sidecar writes it on its next pass)",
          }
        : {
            kind: "tenant-policy",
            path: `sys/policies/acl/${name}`,
            detail: "differs from its rendering from the tenant's engines (contract/tenant-policy.ts)",
          },
    );
  }
  for (const path of plan.skipped) {
    findings.push({ kind: "tenant-policy", path, detail: "is not a plain name, so the tenant's policy cannot grant it; rename it" });
  }

  for (const [name, text] of Object.entries(systemPolicies)) {
    const held = inv.policies[name];
    if (held === undefined)
      findings.push({ kind: "system-policy", path: `sys/policies/acl/${name}`, detail: "is missing (the sidecar writes it from policies/)" });
    else if (held.trim() !== text.trim())
      findings.push({
        kind: "system-policy",
        path: `sys/policies/acl/${name}`,
        detail: "differs from policies/ (the sidecar writes it back when its policies change)",
      });
  }
  return findings;
}
