// Renders a tenant's Vault policy: a pure function of the tenant's name and its
// engines. The bootstrap sidecar writes it from what the tenant's engines hold
// (no runner credential writes a policy), the verifier compares Vault's copy
// with it, and the policy tests load it into a real OpenBao server.

export interface TenantPolicyProps {
  readonly tenant: string;
  /** Transit keys the tenant may use. @default none */
  readonly transitKeys?: readonly string[];
  /** Database roles the tenant may read credentials from. @default none */
  readonly databaseRoles?: readonly string[];
}

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Key and role names become path segments: only plain names are rendered. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const TENANT_POLICY_PREFIX = "tenant-";

/** Where a tenant's engines live: the only paths its policy reaches. */
export function tenantMountPaths(tenant: string) {
  return { kv: `tenants/${tenant}/kv`, transit: `tenants/${tenant}/transit`, database: `tenants/${tenant}/database` } as const;
}

export function tenantPolicyName(tenant: string): string {
  return `${TENANT_POLICY_PREFIX}${tenant}`;
}

export function isTenantName(name: string): boolean {
  return NAME.test(name) && name.length <= 30;
}

export function isPlainSegment(name: string): boolean {
  return SEGMENT.test(name) && name !== "." && name !== "..";
}

function rule(path: string, capabilities: readonly string[]): string {
  return `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(", ")}]\n}`;
}

/** Only this tenant's paths: its KV data and metadata, its transit keys' operations, its database credentials and their leases. */
export function renderTenantPolicy(props: TenantPolicyProps): string {
  if (!isTenantName(props.tenant)) throw new Error(`tenant must be a lowercase name of at most 30 characters, got "${props.tenant}"`);
  for (const name of [...(props.transitKeys ?? []), ...(props.databaseRoles ?? [])]) {
    if (!isPlainSegment(name)) throw new Error(`a transit key or database role name must be a plain name, got "${name}"`);
  }
  const m = tenantMountPaths(props.tenant);
  const rules = [
    `# ${tenantPolicyName(props.tenant)}: rendered by vault-gke from the tenant's engines; reaches tenant ${props.tenant}'s paths only.`,
    rule(`${m.kv}/data/*`, ["create", "read", "update", "patch", "delete"]),
    rule(`${m.kv}/metadata/*`, ["read", "list", "delete"]),
    rule(`${m.kv}/delete/*`, ["update"]),
    rule(`${m.kv}/undelete/*`, ["update"]),
  ];
  for (const key of [...(props.transitKeys ?? [])].sort()) {
    for (const op of ["encrypt", "decrypt", "rewrap", "datakey/plaintext", "datakey/wrapped"]) rules.push(rule(`${m.transit}/${op}/${key}`, ["update"]));
  }
  const roles = [...(props.databaseRoles ?? [])].sort();
  for (const role of roles) rules.push(rule(`${m.database}/creds/${role}`, ["read"]));
  // Renewing and looking up take a lease ID in the body: only this tenant's database leases (Vault matches the value as a prefix glob).
  // Logins carry no default policy, which would allow both for any lease.
  if (roles.length > 0) {
    rules.push(
      `path "sys/leases/renew" {\n  capabilities = ["update"]\n  allowed_parameters = {\n    "lease_id"  = ["${m.database}/creds/*"]\n    "increment" = []\n  }\n}`,
      `path "sys/leases/lookup" {\n  capabilities = ["update"]\n  allowed_parameters = {\n    "lease_id" = ["${m.database}/creds/*"]\n  }\n}`,
    );
  }
  // The token's own upkeep, which the default policy gave.
  rules.push(rule("auth/token/lookup-self", ["read"]), rule("auth/token/renew-self", ["update"]), rule("auth/token/revoke-self", ["update"]));
  return `${rules.join("\n\n")}\n`;
}
