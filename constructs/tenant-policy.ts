// Renders a tenant's Vault policy: a pure function, so the tenants stack ships
// exactly what the policy tests load into a real OpenBao server.

export interface TenantPolicyProps {
  readonly tenant: string;
  /** Transit keys the tenant may use. @default none */
  readonly transitKeys?: readonly string[];
  /** The database role the tenant may read credentials from. @default none */
  readonly databaseRole?: string;
}

/** Where a tenant's engines live; the provisioner policy grants management under tenants/. */
export function tenantMountPaths(tenant: string) {
  return { kv: `tenants/${tenant}/kv`, transit: `tenants/${tenant}/transit`, database: `tenants/${tenant}/database` } as const;
}

export function tenantPolicyName(tenant: string): string {
  return `tenant-${tenant}`;
}

function rule(path: string, capabilities: readonly string[]): string {
  return `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(", ")}]\n}`;
}

/** Only this tenant's paths: its KV data and metadata, its transit keys' operations, its database credentials. */
export function renderTenantPolicy(props: TenantPolicyProps): string {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(props.tenant)) throw new Error(`tenant must be a lowercase name, got "${props.tenant}"`);
  const m = tenantMountPaths(props.tenant);
  const rules = [
    `# ${tenantPolicyName(props.tenant)}: rendered by vault-gke; applies to tenant ${props.tenant} only.`,
    rule(`${m.kv}/data/*`, ["create", "read", "update", "patch", "delete"]),
    rule(`${m.kv}/metadata/*`, ["read", "list", "delete"]),
    rule(`${m.kv}/delete/*`, ["update"]),
    rule(`${m.kv}/undelete/*`, ["update"]),
  ];
  for (const key of props.transitKeys ?? []) {
    for (const op of ["encrypt", "decrypt", "rewrap", "datakey/plaintext", "datakey/wrapped"]) rules.push(rule(`${m.transit}/${op}/${key}`, ["update"]));
  }
  if (props.databaseRole) {
    rules.push(rule(`${m.database}/creds/${props.databaseRole}`, ["read"]));
    rules.push(rule("sys/leases/renew", ["update"]));
  }
  return `${rules.join("\n\n")}\n`;
}
