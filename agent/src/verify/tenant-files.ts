// What only the tenant files declare, compared with Vault (the runners' verifier: the sidecar has no tenant
// files): each tenant's login role lets in exactly its file's service accounts, namespaces, audience and alias
// source, exists on its cluster's backend once its engines do, and its database connections and roles are exactly
// the file's. A tenant without a file is a finding only when the files are all of the environment's (`complete`).
import type { DeclaredTenant } from "../../../contract/declared-access";
import { bindingDifferences, type Finding } from "./finding";
import type { VaultInventory } from "./inventory";

/** A tenant's login role against its file: the backend its cluster has, and exactly the file's service accounts, namespaces, audience and alias source. */
export function tenantRoleAgainstFile(
  path: string,
  name: string,
  bindings: Readonly<Record<string, readonly string[]>>,
  file: DeclaredTenant | undefined,
  complete: boolean,
): Finding[] {
  const at = `auth/${path}/role/${name}`;
  if (!file)
    return complete
      ? [{ kind: "undeclared-role", path: at, detail: `no tenant file declares a tenant ${name}; it lets in ${describeBindings(bindings)}` }]
      : [];
  if (file.authPath !== path)
    return [{ kind: "undeclared-role", path: at, detail: `tenant ${name}'s file names the cluster of auth/${file.authPath}, not this one` }];
  const differ = bindingDifferences(bindings, file.bindings);
  return differ.length > 0
    ? [{ kind: "role-binding", path: at, detail: `lets in other identities than the tenant's file declares: ${differ.join("; ")}` }]
    : [];
}

const describeBindings = (b: Readonly<Record<string, readonly string[]>>) =>
  Object.entries(b)
    .map(([f, v]) => `${f} = ${v.join(", ")}`)
    .join("; ") || "anyone";

/** What only the tenant files say: each tenant's login role exists, and its database connections and roles are exactly the file's. */
export function tenantsAgainstFiles(inv: VaultInventory, files: Readonly<Record<string, DeclaredTenant>>, complete: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const [tenant, file] of Object.entries(files)) {
    // Only once the tenant's stack made its engines: a file whose stack is not applied yet (later in the same run) is not a deviation.
    if (inv.tenants[tenant] && inv.roles[file.authPath] && !inv.roles[file.authPath][tenant])
      findings.push({
        kind: "missing-role",
        path: `auth/${file.authPath}/role/${tenant}`,
        detail: "declared by the tenant's file but absent (apply the tenant's stack)",
      });
  }
  for (const [tenant, engines] of Object.entries(inv.tenants)) {
    const file = files[tenant];
    if (!file && !complete) continue;
    for (const [name, url] of Object.entries(engines.databaseConnectionUrls ?? {})) {
      const want = file?.databaseConnections[name];
      if (want !== url)
        findings.push({
          kind: "database-connection",
          path: `tenants/${tenant}/database/config/${name}`,
          detail:
            want === undefined
              ? `connects to ${url || "an unknown address"}; no tenant file declares this connection (Vault would send the stored password there)`
              : `connects to ${url || "an unknown address"}; the tenant's file declares ${want} (Vault would send the stored password there)`,
        });
    }
    for (const [name, statements] of Object.entries(engines.databaseRoleStatements ?? {})) {
      const want = file?.databaseRoles[name];
      if (!want || want.length !== statements.length || want.some((s, i) => s !== statements[i]))
        findings.push({
          kind: "database-statements",
          path: `tenants/${tenant}/database/roles/${name}`,
          detail: want
            ? "creates users with other statements than the tenant's file renders (config/postgres-engine-settings.ts)"
            : "no tenant file declares this database role",
        });
    }
  }
  return findings;
}
