// Reads tenants/<env>/*.yaml. Each file is validated like an environment file
// (file, line, field, value, fix), against the environment: its cluster must be
// one the platform team registered, and no TTL may exceed the environment's
// maximum; then the rule that spans files: no two tenants claim one namespace
// of one cluster. A tenant's secrets (the External Secrets Operator's objects)
// read only its own KV mount, into namespaces it names, at a bounded refresh.
import { existsSync } from "node:fs";
import { ConfigError, formatPath, loadAll, readYamlFile, requireNameMatchesFile, validate } from "./load";
import type { EnvironmentConfig } from "./schema";
import { isWildcard, MIN_SECRET_REFRESH_SEC, tenantSchema, type TenantConfig } from "./tenant-schema";

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

/** The rules of secrets[]: its own mount, a namespace it names, a refresh between 1m and the environment's maximum, a service account it lists, each Secret once. */
function secretProblems(tenant: TenantConfig, maxRefresh: number, at: (path: (string | number)[]) => string): string[] {
  const problems: string[] = [];
  // tenantMountPaths(name).kv (contract/tenant-policy.ts), spelt here: importing it would add that file to every Atlantis project's when_modified.
  const mount = `tenants/${tenant.name}/kv`;
  const seen = new Map<string, number>();
  tenant.secrets.forEach((secret, i) => {
    const owner = /^tenants\/([^/]+)\//.exec(secret.path)?.[1];
    const rest = secret.path.startsWith(`${mount}/`) ? secret.path.slice(mount.length + 1) : undefined;
    if (rest === undefined) {
      const whose = owner && owner !== tenant.name ? `; that is tenant ${owner}'s` : "";
      problems.push(`${at(["secrets", i, "path"])}: got "${secret.path}"${whose}; a tenant reads only its own KV mount (${mount}): write ${mount}/<secret>`);
    } else if (/^(data|metadata)(\/|$)/.test(rest)) {
      problems.push(
        `${at(["secrets", i, "path"])}: got "${secret.path}"; write the secret's path without the API's ${rest.split("/")[0]}/ segment: ${mount}/${rest.split("/").slice(1).join("/") || "<secret>"}`,
      );
    }
    const named = tenant.namespaces.filter((ns) => !isWildcard(ns));
    if (!named.includes(secret.namespace)) {
      problems.push(
        `${at(["secrets", i, "namespace"])}: got "${secret.namespace}"; it is not one of this tenant's namespaces (${named.join(", ") || 'only "*"'}), and a wildcard does not count: use one of them, or list it under namespaces`,
      );
    }
    if (secret.refreshInterval < MIN_SECRET_REFRESH_SEC)
      problems.push(
        `${at(["secrets", i, "refreshInterval"])}: got ${formatTtl(secret.refreshInterval)}; each refresh is a login to Vault, so it is at least ${formatTtl(MIN_SECRET_REFRESH_SEC)}: use ${formatTtl(MIN_SECRET_REFRESH_SEC)} or more`,
      );
    if (secret.refreshInterval > maxRefresh)
      problems.push(
        `${at(["secrets", i, "refreshInterval"])}: got ${formatTtl(secret.refreshInterval)}; it is above the environment's tenancy.maxTokenTtl (${formatTtl(maxRefresh)}), so a changed or revoked value would stay in the cluster longer than a token lives: use ${formatTtl(maxRefresh)} or less`,
      );
    const accounts = tenant.serviceAccounts.filter((sa) => !isWildcard(sa));
    if (secret.serviceAccount !== undefined && !accounts.includes(secret.serviceAccount) && !tenant.serviceAccounts.some(isWildcard))
      problems.push(
        `${at(["secrets", i, "serviceAccount"])}: got "${secret.serviceAccount}"; the tenant's role lets only its serviceAccounts log in (${accounts.join(", ")}): use one of them, or list it under serviceAccounts`,
      );
    if (secret.serviceAccount === undefined && accounts.length === 0)
      problems.push(`${at(["secrets", i, "serviceAccount"])}: is required when serviceAccounts is only "*"; name the service account the operator logs in as`);
    const key = `${secret.namespace}/${secret.name}`;
    const first = seen.get(key);
    if (first !== undefined)
      problems.push(
        `${at(["secrets", i, "name"])}: got "${secret.name}"; secrets[${first}] already names Secret ${secret.name} in namespace ${secret.namespace}: give each Secret its own name`,
      );
    else seen.set(key, i);
  });
  return problems;
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
  problems.push(...secretProblems(tenant, max, at));
  const cluster = env.tenancy.clusters.find((c) => c.name === tenant.cluster);
  if (tenant.secrets.length > 0 && cluster && !cluster.externalSecretsOperator)
    problems.push(
      `${at(["secrets"])}: declares ${tenant.secrets.length} secret(s), but cluster ${tenant.cluster} is not registered with the External Secrets Operator (environments/${env.name}.yaml, tenancy.clusters[].externalSecretsOperator is false): its objects would never sync there; ask the platform team to install it and set externalSecretsOperator: true (docs/operator-guide.md), or remove secrets`,
    );
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
