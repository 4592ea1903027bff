// Loads every environment and its tenants, reporting the problems of all files
// at once, before anything is synthesized (so nothing is half-written).
import { join } from "node:path";
import { ConfigError, loadEnvironments } from "./load";
import { loadTenants } from "./load-tenants";
import type { EnvironmentConfig } from "./schema";
import type { TenantConfig } from "./tenant-schema";

export interface EnvironmentWithTenants {
  readonly env: EnvironmentConfig;
  readonly tenants: readonly TenantConfig[];
}

export function loadProject(environmentsDir: string, tenantsDir: string): EnvironmentWithTenants[] {
  const envs = loadEnvironments(environmentsDir);
  const problems: string[] = [];
  const out: EnvironmentWithTenants[] = [];
  for (const env of envs) {
    try {
      out.push({ env, tenants: loadTenants(join(tenantsDir, env.name), env) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
