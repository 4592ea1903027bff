// Reads tenants/<env>/*.yaml. Each file is validated like an environment file
// (file, line, field, value, fix); then the rules that span files: no two
// tenants claim one namespace of one cluster, a cluster is described the same
// way by every tenant on it, and no TTL exceeds the environment's maximum.
import { existsSync } from "node:fs";
import { ConfigError, formatPath, loadAll, readYamlFile, requireNameMatchesFile, validate } from "./load";
import type { EnvironmentConfig } from "./schema";
import { isWildcard, tenantSchema, type TenantConfig } from "./tenant-schema";

export interface LoadedTenant {
  readonly file: string;
  readonly tenant: TenantConfig;
}

const HINTS = {
  engines: "unknown engine; choose from kv, transit and postgres (tenants/README.md documents them)",
};

function formatTtl(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

export function loadTenantFile(file: string, env: EnvironmentConfig): LoadedTenant {
  const { data, locate } = readYamlFile(file);
  const tenant = validate(tenantSchema, data, file, locate, { hints: HINTS, documentedIn: "tenants/README.md" });
  requireNameMatchesFile(file, tenant.name, locate);
  const problems: string[] = [];
  const at = (path: (string | number)[]) => `${file}${locate(path)}: ${formatPath(path)}`;
  const max = env.tenancy.maxTokenTtl;
  for (const field of ["tokenTtl", "tokenMaxTtl"] as const) {
    if (tenant[field] > max) {
      problems.push(`${at([field])}: got ${formatTtl(tenant[field])}; it is above the environment's tenancy.maxTokenTtl (${formatTtl(max)}); use ${formatTtl(max)} or less`);
    }
  }
  if (tenant.tokenTtl > tenant.tokenMaxTtl) problems.push(`${at(["tokenTtl"])}: got ${formatTtl(tenant.tokenTtl)}; it cannot exceed tokenMaxTtl (${formatTtl(tenant.tokenMaxTtl)})`);
  const pg = tenant.engines.postgres;
  if (pg && pg.defaultTtl > pg.maxTtl) problems.push(`${at(["engines", "postgres", "defaultTtl"])}: got ${formatTtl(pg.defaultTtl)}; it cannot exceed engines.postgres.maxTtl (${formatTtl(pg.maxTtl)})`);
  if (pg && pg.maxTtl > max) problems.push(`${at(["engines", "postgres", "maxTtl"])}: got ${formatTtl(pg.maxTtl)}; it is above the environment's tenancy.maxTokenTtl (${formatTtl(max)}); use ${formatTtl(max)} or less`);
  for (const field of ["namespaces", "serviceAccounts"] as const) {
    tenant[field].forEach((value, i) => {
      if (isWildcard(value) && !tenant.allowWildcards) {
        problems.push(`${at([field, i])}: got "*"; a wildcard lets every ${field === "namespaces" ? "namespace" : "service account"} of the cluster log in as this tenant: list names, or set allowWildcards: true to mean it`);
      }
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { file, tenant };
}

/** Every tenant of an environment (none when tenants/<env>/ does not exist). */
export function loadTenants(dir: string, env: EnvironmentConfig): TenantConfig[] {
  if (!existsSync(dir)) return [];
  const loaded = loadAll(dir, (file) => loadTenantFile(file, env));
  const problems: string[] = [];
  const clusters = new Map<string, LoadedTenant>();
  const claims = new Map<string, LoadedTenant>();
  for (const l of loaded) {
    const { cluster } = l.tenant;
    const first = clusters.get(cluster.name);
    if (!first) clusters.set(cluster.name, l);
    else if (first.tenant.cluster.apiServerUrl !== cluster.apiServerUrl || first.tenant.cluster.caCertificate.trim() !== cluster.caCertificate.trim()) {
      problems.push(`${l.file}: cluster: cluster "${cluster.name}" has another apiServerUrl or caCertificate in ${first.file}; describe the cluster the same way in both files, or give it another name`);
    }
    for (const ns of l.tenant.namespaces) {
      const key = `${cluster.name}/${ns}`;
      const other = claims.get(key) ?? (isWildcard(ns) ? [...claims.entries()].find(([k]) => k.startsWith(`${cluster.name}/`))?.[1] : claims.get(`${cluster.name}/*`));
      if (other && other !== l) {
        problems.push(`${l.file}: namespaces: namespace "${ns}" of cluster "${cluster.name}" is already claimed by tenant ${other.tenant.name} (${other.file}); a namespace belongs to one tenant: choose another namespace`);
      }
      claims.set(key, l);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded.map((l) => l.tenant);
}
