// The policies in this folder are the single source of the policies vault-gke
// owns: the vault stack ships them to the bootstrap sidecar in a ConfigMap
// (the sidecar writes them into Vault), and the policy tests load them into a
// real OpenBao server. The provisioner policy gets one rule per registered
// tenant cluster and one per database connection a tenant file declares (its
// address pinned); tenant policies are rendered by contract/tenant-policy.ts.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { DeclaredTenant } from "../contract/declared-access";

/** This folder, found the same way from the sources (jest) and from dist/ (the esbuild bundle). */
export const POLICY_DIR = resolve(__dirname, "..", "policies");

/** Every *.hcl policy in this folder, by name (file name without .hcl), as written. */
export function loadPolicyFiles(dir = POLICY_DIR): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".hcl"))
      .sort()
      .map((f) => [f.slice(0, -4), readFileSync(join(dir, f), "utf8")]),
  );
}

/** What a tenant stack's login role sends (the Vault provider's kubernetes auth backend role). */
const ROLE_PARAMETERS = [
  "bound_service_account_names",
  "bound_service_account_namespaces",
  "audience",
  "alias_name_source",
  "token_policies",
  "token_ttl",
  "token_max_ttl",
];

/** A database connection a tenant file declares: the apply credential may write it only with this address. */
export interface ConnectionPin {
  /** tenants/<tenant>/database/config/<name> */
  readonly path: string;
  readonly connectionUrl: string;
}

/** The connections the tenant files declare, as pins. */
export function connectionPins(tenants: Readonly<Record<string, DeclaredTenant>>): ConnectionPin[] {
  return Object.entries(tenants)
    .flatMap(([tenant, t]) =>
      Object.entries(t.databaseConnections).map(([name, connectionUrl]) => ({ path: `tenants/${tenant}/database/config/${name}`, connectionUrl })),
    )
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** An HCL string literal (a URL holds no newline; quotes and backslashes are escaped). */
const hclString = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/**
 * The provisioner's login-role rules: one per registered cluster, so no other auth method's roles are reachable;
 * and one per declared database connection, with its address pinned (the generic rule in provisioner.hcl only
 * reads and deletes), so no write points a connection, and with it the password Vault holds, at another server.
 */
export function renderProvisionerPolicy(base: string, registeredClusters: readonly string[], pins: readonly ConnectionPin[] = []): string {
  // The provider always sends the namespace selector, empty: only empty is allowed (a selector would reach any namespace).
  // Logins without Vault's default policy (any lease's renewal and look-up): the apply credential cannot turn it back on.
  const allowed = [
    ...ROLE_PARAMETERS.map((p) => `    "${p}" = []`),
    `    "token_type" = ["service"]`,
    `    "token_no_default_policy" = [true]`,
    `    "bound_service_account_namespace_selector" = [""]`,
  ].join("\n");
  const rules = [...registeredClusters]
    .sort()
    .map(
      (c) => `path "auth/kubernetes-${c}/role/+" {\n  capabilities = ["create", "read", "update", "delete"]\n  allowed_parameters = {\n${allowed}\n  }\n}\n`,
    );
  const pinRules = pins.map(
    (p) =>
      `path ${hclString(p.path)} {\n  capabilities = ["create", "read", "update", "delete"]\n  allowed_parameters = {\n    "plugin_name"    = ["postgresql-database-plugin"]\n    "connection_url" = [${hclString(p.connectionUrl)}]\n    "*"              = []\n  }\n}\n`,
  );
  const clusters = rules.length ? `\n${rules.join("\n")}` : "# (no cluster is registered yet)\n";
  const connections = pinRules.length ? `\n# Database connections the tenant files declare, each at its own address\n\n${pinRules.join("\n")}` : "";
  return `${base.trimEnd()}\n${clusters}${connections}`;
}

/** The policies the sidecar writes for an environment whose registered clusters and declared database connections are given. */
export function environmentPolicies(registeredClusters: readonly string[], pins: readonly ConnectionPin[] = [], dir = POLICY_DIR): Record<string, string> {
  const files = loadPolicyFiles(dir);
  if (!files.provisioner) throw new Error(`${dir} has no provisioner.hcl`);
  return { ...files, provisioner: renderProvisionerPolicy(files.provisioner, registeredClusters, pins) };
}
