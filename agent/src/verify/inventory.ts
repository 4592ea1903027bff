// What Vault holds that access depends on, read into plain data: auth methods
// and mounts with their audit and lease settings, every role of the auth
// methods that have roles, the policies, and each tenant's transit keys and
// database roles. The verifier and the tenant-policy renderer are pure
// functions of this snapshot.
import { caDigest, type DeclaredSetting } from "../../../contract/declared-access";
import type { VaultClient } from "../vault/client";

export interface MountInfo {
  readonly type: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly auditNonHmacRequestKeys: readonly string[];
  readonly auditNonHmacResponseKeys: readonly string[];
  /** 0 means the system default (32 days). */
  readonly maxLeaseTtlSec: number;
}

export interface RoleInfo {
  /** token_policies and the legacy policies field, without "default". */
  readonly policies: readonly string[];
  readonly audience?: string;
  /** token_period: a periodic token outlives every ceiling. */
  readonly periodSec: number;
  /** Whom it lets in: every bound_* field (bound_claims.<claim> per claim) and audience, as lists. */
  readonly bindings: Readonly<Record<string, readonly string[]>>;
}

export interface TenantEngines {
  readonly transitKeys: readonly string[];
  readonly databaseRoles: readonly string[];
  /** KV v2 delete_version_after in seconds (0: versions are kept). */
  readonly kvDeleteVersionAfterSec?: number;
  /** Database connection name -> plugin. */
  readonly databaseConnections?: Readonly<Record<string, string>>;
  /** Database connection name -> its connection_url (Vault fills the user and password; it holds no secret). */
  readonly databaseConnectionUrls?: Readonly<Record<string, string>>;
  /** Database role name -> its creation statements. */
  readonly databaseRoleStatements?: Readonly<Record<string, readonly string[]>>;
}

/** An audit device: its type and the options that say where it writes and what in plain text. */
export interface AuditDeviceInfo {
  readonly type: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface VaultInventory {
  /** By path without the trailing slash ("kubernetes-apps-prod"). */
  readonly authMounts: Readonly<Record<string, MountInfo>>;
  /** By path without the trailing slash ("tenants/payments/kv"). */
  readonly secretMounts: Readonly<Record<string, MountInfo>>;
  /** Policy name -> text. */
  readonly policies: Readonly<Record<string, string>>;
  /** Auth path -> role name -> role. */
  readonly roles: Readonly<Record<string, Readonly<Record<string, RoleInfo>>>>;
  /** Auth path -> its configuration (kubernetes_host, bound_issuer, ...; CA certificates as caDigest), for role-bearing methods. */
  readonly authConfigs: Readonly<Record<string, Readonly<Record<string, DeclaredSetting>>>>;
  /** Audit devices by path without the trailing slash. */
  readonly auditDevices: Readonly<Record<string, AuditDeviceInfo>>;
  /** Tenant name -> what its engines hold. */
  readonly tenants: Readonly<Record<string, TenantEngines>>;
  /** Token roles (auth/token/roles): each can mint tokens with any of its allowed policies. */
  readonly tokenRoles: readonly string[];
}

/** A Vault duration (seconds as a number, or "0s", "1h30m") in seconds. */
function seconds(value: unknown): number {
  if (typeof value === "number") return value;
  const text = String(value ?? "0");
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([hms])/g)) total += Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"];
  return total;
}

/** Auth method types vault-gke declares, whose roles (at auth/<path>/role) bind policies; any other type is a finding on its own. */
const ROLE_BEARING = new Set(["kubernetes", "jwt", "oidc", "gcp"]);

/** A list Vault reports as an array or a comma-separated string; empty entries are no entries (the vault provider leaves [""]). */
function strings(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(",") : [];
  return items.map((s) => s.trim()).filter(Boolean);
}

/** Configuration fields that hold a CA certificate: compared by digest. */
const CA_FIELDS = new Set(["kubernetes_ca_cert", "oidc_discovery_ca_pem", "jwks_ca_pem"]);

/** A backend's configuration as the verifier compares it: strings, switches and lists (sorted, without empty entries); CAs by digest. */
function settingsOf(config: Record<string, unknown>): Record<string, DeclaredSetting> {
  const out: Record<string, DeclaredSetting> = {};
  for (const [field, value] of Object.entries(config)) {
    if (CA_FIELDS.has(field)) out[field] = caDigest(typeof value === "string" ? value : "");
    else if (typeof value === "string" || typeof value === "boolean") out[field] = value;
    else if (Array.isArray(value) || value === null) out[field] = strings(value).sort();
  }
  return out;
}

/** The fields of a role that say who may log in with it. */
function bindingsOf(role: Record<string, unknown>): Record<string, string[]> {
  const bindings: Record<string, string[]> = {};
  for (const [field, value] of Object.entries(role)) {
    if (field === "bound_claims" && value && typeof value === "object") {
      for (const [claim, v] of Object.entries(value as Record<string, unknown>)) bindings[`bound_claims.${claim}`] = strings(v);
    } else if ((field.startsWith("bound_") && field !== "bound_claims_type") || field === "audience" || field === "alias_name_source") {
      const values = strings(value);
      if (values.length > 0) bindings[field] = values;
    }
  }
  return bindings;
}

function mountInfo(raw: unknown): MountInfo {
  const m = (raw ?? {}) as { type?: unknown; options?: Record<string, string> | null; config?: Record<string, unknown> };
  const c = m.config ?? {};
  return {
    type: String(m.type ?? ""),
    options: m.options ?? undefined,
    auditNonHmacRequestKeys: strings(c.audit_non_hmac_request_keys),
    auditNonHmacResponseKeys: strings(c.audit_non_hmac_response_keys),
    maxLeaseTtlSec: Number(c.max_lease_ttl ?? 0),
  };
}

function byPath(data: Record<string, unknown>): Record<string, MountInfo> {
  return Object.fromEntries(
    Object.entries(data)
      .filter(([, v]) => v && typeof v === "object" && "type" in (v as object))
      .map(([k, v]) => [k.replace(/\/$/, ""), mountInfo(v)]),
  );
}

export async function readInventory(vault: VaultClient, token: string): Promise<VaultInventory> {
  const authMounts = byPath((await vault.read(token, "sys/auth")) ?? {});
  const secretMounts = byPath((await vault.read(token, "sys/mounts")) ?? {});

  const roles: Record<string, Record<string, RoleInfo>> = {};
  const authConfigs: Record<string, Record<string, DeclaredSetting>> = {};
  for (const [path, mount] of Object.entries(authMounts)) {
    if (!ROLE_BEARING.has(mount.type)) continue;
    const config = (await vault.read(token, `auth/${path}/config`)) ?? {};
    authConfigs[path] = settingsOf(config);
    const names = await vault.list(token, `auth/${path}/role`);
    roles[path] = {};
    for (const name of names) {
      const r = (await vault.read(token, `auth/${path}/role/${encodeURIComponent(name)}`)) ?? {};
      const policies = [...new Set([...strings(r.token_policies), ...strings(r.policies)])].filter((p) => p !== "default").sort();
      roles[path][name] = {
        policies,
        audience: typeof r.audience === "string" ? r.audience : undefined,
        periodSec: seconds(r.token_period ?? r.period),
        bindings: bindingsOf(r),
      };
    }
  }

  const policies: Record<string, string> = {};
  for (const name of await vault.list(token, "sys/policies/acl")) {
    if (name === "root") continue;
    const p = await vault.read(token, `sys/policies/acl/${encodeURIComponent(name)}`);
    policies[name] = typeof p?.policy === "string" ? p.policy : "";
  }

  const tenants: Record<
    string,
    {
      transitKeys: string[];
      databaseRoles: string[];
      kvDeleteVersionAfterSec?: number;
      databaseConnections?: Record<string, string>;
      databaseConnectionUrls?: Record<string, string>;
      databaseRoleStatements?: Record<string, string[]>;
    }
  > = {};
  for (const path of Object.keys(secretMounts)) {
    const m = /^tenants\/([^/]+)\/(kv|transit|database)$/.exec(path);
    if (!m) continue;
    const t = (tenants[m[1]] ??= { transitKeys: [], databaseRoles: [] });
    if (m[2] === "kv" && secretMounts[path].type === "kv")
      t.kvDeleteVersionAfterSec = seconds((await vault.read(token, `${path}/config`))?.delete_version_after);
    if (m[2] === "transit") t.transitKeys = (await vault.list(token, `${path}/keys`)).sort();
    if (m[2] === "database") {
      t.databaseRoles = (await vault.list(token, `${path}/roles`)).sort();
      t.databaseRoleStatements = {};
      for (const name of t.databaseRoles) {
        const role = await vault.read(token, `${path}/roles/${encodeURIComponent(name)}`);
        t.databaseRoleStatements[name] = Array.isArray(role?.creation_statements) ? role.creation_statements.map(String) : [];
      }
      t.databaseConnections = {};
      t.databaseConnectionUrls = {};
      for (const name of await vault.list(token, `${path}/config`)) {
        const connection = await vault.read(token, `${path}/config/${encodeURIComponent(name)}`);
        t.databaseConnections[name] = String(connection?.plugin_name ?? "");
        const details = (connection?.connection_details ?? {}) as Record<string, unknown>;
        t.databaseConnectionUrls[name] = String(details.connection_url ?? "");
      }
    }
  }
  const tokenRoles = await vault.list(token, "auth/token/roles");
  const auditDevices: Record<string, AuditDeviceInfo> = {};
  for (const [path, raw] of Object.entries((await vault.read(token, "sys/audit")) ?? {})) {
    const d = (raw ?? {}) as { type?: unknown; options?: Record<string, unknown> | null };
    if (typeof d.type !== "string") continue;
    auditDevices[path.replace(/\/$/, "")] = {
      type: d.type,
      options: Object.fromEntries(Object.entries(d.options ?? {}).map(([k, v]) => [k, String(v)])),
    };
  }
  return { authMounts, secretMounts, policies, roles, authConfigs, auditDevices, tenants, tokenRoles };
}
