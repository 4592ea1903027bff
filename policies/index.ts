// The policies in this folder are the single source of the policies vault-gke
// owns: the vault stack ships them to the bootstrap sidecar in a ConfigMap
// (the sidecar writes them into Vault), and the policy tests load them into a
// real OpenBao server. The provisioner policy gets one rule per registered
// tenant cluster; tenant policies are rendered by contract/tenant-policy.ts.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

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

/** The provisioner's login-role rules: one per registered cluster, so no other auth method's roles are reachable. */
export function renderProvisionerPolicy(base: string, registeredClusters: readonly string[]): string {
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
  return `${base.trimEnd()}\n${rules.length ? `\n${rules.join("\n")}` : "# (no cluster is registered yet)\n"}`;
}

/** The policies the sidecar writes for an environment whose registered clusters are given. */
export function environmentPolicies(registeredClusters: readonly string[], dir = POLICY_DIR): Record<string, string> {
  const files = loadPolicyFiles(dir);
  if (!files.provisioner) throw new Error(`${dir} has no provisioner.hcl`);
  return { ...files, provisioner: renderProvisionerPolicy(files.provisioner, registeredClusters) };
}
