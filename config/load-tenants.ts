// Reads tenants/<env>/*.yaml. Each file is validated like an environment file
// (file, line, field, value, fix), against the environment: its cluster must be
// one the platform team registered, and no TTL may exceed the environment's
// maximum; then the rule that spans files: no two tenants claim one namespace
// of one cluster.
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

/** Before tenancy.clusters existed, tenant files described their cluster; that is now the platform team's call. */
function movedClusterFields(data: unknown, file: string, locate: (path: (string | number)[]) => string, env: EnvironmentConfig): string | undefined {
  const cluster = (data as { cluster?: unknown } | null)?.cluster;
  if (!cluster || typeof cluster !== "object") return undefined;
  const name = (cluster as { name?: unknown }).name;
  const fields = Object.keys(cluster).filter((k) => k !== "name");
  return `${file}${locate(["cluster"])}: cluster: got a cluster description (${fields.join(", ") || "an object"}); a tenant file cannot choose the API server or CA that Vault trusts: clusters are registered by the platform team in environments/${env.name}.yaml (tenancy.clusters), so write cluster: ${typeof name === "string" ? name : "<registered name>"}`;
}

export function loadTenantFile(file: string, env: EnvironmentConfig): LoadedTenant {
  const { data, locate } = readYamlFile(file);
  const moved = movedClusterFields(data, file, locate, env);
  if (moved) throw new ConfigError([moved]);
  const tenant = validate(tenantSchema, data, file, locate, { hints: HINTS, documentedIn: "tenants/README.md" });
  requireNameMatchesFile(file, tenant.name, locate);
  const problems: string[] = [];
  const at = (path: (string | number)[]) => `${file}${locate(path)}: ${formatPath(path)}`;
  const registered = env.tenancy.clusters.map((c) => c.name);
  if (!registered.includes(tenant.cluster)) {
    problems.push(
      `${at(["cluster"])}: got "${tenant.cluster}"; no such cluster is registered in environments/${env.name}.yaml (tenancy.clusters: ${registered.join(", ") || "none"}); use a registered name, or ask the platform team to register the cluster`,
    );
  }
  const max = env.tenancy.maxTokenTtl;
  for (const field of ["tokenTtl", "tokenMaxTtl"] as const) {
    if (tenant[field] > max) {
      problems.push(
        `${at([field])}: got ${formatTtl(tenant[field])}; it is above the environment's tenancy.maxTokenTtl (${formatTtl(max)}); use ${formatTtl(max)} or less`,
      );
    }
  }
  if (tenant.tokenTtl > tenant.tokenMaxTtl)
    problems.push(`${at(["tokenTtl"])}: got ${formatTtl(tenant.tokenTtl)}; it cannot exceed tokenMaxTtl (${formatTtl(tenant.tokenMaxTtl)})`);
  const pg = tenant.engines.postgres;
  if (pg && pg.defaultTtl > pg.maxTtl)
    problems.push(
      `${at(["engines", "postgres", "defaultTtl"])}: got ${formatTtl(pg.defaultTtl)}; it cannot exceed engines.postgres.maxTtl (${formatTtl(pg.maxTtl)})`,
    );
  if (pg && pg.maxTtl > max)
    problems.push(
      `${at(["engines", "postgres", "maxTtl"])}: got ${formatTtl(pg.maxTtl)}; it is above the environment's tenancy.maxTokenTtl (${formatTtl(max)}); use ${formatTtl(max)} or less`,
    );
  for (const field of ["namespaces", "serviceAccounts"] as const) {
    tenant[field].forEach((value, i) => {
      if (isWildcard(value) && !tenant.allowWildcards) {
        problems.push(
          `${at([field, i])}: got "*"; a wildcard lets every ${field === "namespaces" ? "namespace" : "service account"} of the cluster log in as this tenant: list names, or set allowWildcards: true to mean it`,
        );
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
  const claims = new Map<string, LoadedTenant>();
  for (const l of loaded) {
    const cluster = l.tenant.cluster;
    for (const ns of l.tenant.namespaces) {
      const key = `${cluster}/${ns}`;
      const other = claims.get(key) ?? (isWildcard(ns) ? [...claims.entries()].find(([k]) => k.startsWith(`${cluster}/`))?.[1] : claims.get(`${cluster}/*`));
      if (other && other !== l) {
        problems.push(
          `${l.file}: namespaces: namespace "${ns}" of cluster "${cluster}" is already claimed by tenant ${other.tenant.name} (${other.file}); a namespace belongs to one tenant: choose another namespace`,
        );
      }
      claims.set(key, l);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded.map((l) => l.tenant);
}
