import type { App } from "cdktf";
import { join } from "node:path";
import { ConfigError } from "../config/load";
import type { EnvironmentWithTenants } from "../config/load-project";
import { stackNames, tenantStackName } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import type { TenantConfig } from "../config/tenant-schema";
import { PlatformStack } from "./platform-stack";
import { SharedStack } from "./shared-stack";
import { TenantStack } from "./tenant-stack";
import { VaultStack } from "./vault-stack";

export interface EnvironmentStacks {
  readonly platform: PlatformStack;
  readonly vault: VaultStack;
  readonly shared: SharedStack;
  /** One stack per tenant, by tenant name. */
  readonly tenants: ReadonlyMap<string, TenantStack>;
}

/** An environment's stacks: <env>-platform, <env>-vault, <env>-shared and <env>-tenant-<name> per tenant. */
export function buildEnvironmentStacks(app: App, env: EnvironmentConfig, tenantConfigs: readonly TenantConfig[] = []): EnvironmentStacks {
  const names = stackNames(env);
  const platform = new PlatformStack(app, names.platform, { env });
  const vault = new VaultStack(app, names.vault, { env, platform, tenants: tenantConfigs });
  const shared = new SharedStack(app, names.shared, { env });
  const tenants = new Map<string, TenantStack>();
  for (const tenant of [...tenantConfigs].sort((a, b) => a.name.localeCompare(b.name))) {
    tenants.set(tenant.name, new TenantStack(app, tenantStackName(env, tenant.name), { env, tenant }));
  }
  return { platform, vault, shared, tenants };
}

/**
 * Every environment's stacks. A construct that refuses a combination the schema
 * let through is a user's mistake all the same: it is reported like a config
 * error, against the environment's file (<environmentsDir>/<name>.yaml) with the
 * construct's message (the value and the fix) and no stack trace, after every
 * environment was tried and before anything is written.
 */
export function buildProjectStacks(app: App, project: readonly EnvironmentWithTenants[], environmentsDir: string): void {
  const problems: string[] = [];
  for (const { env, tenants } of project) {
    try {
      buildEnvironmentStacks(app, env, tenants);
    } catch (error) {
      if (!(error instanceof Error) || error instanceof ConfigError) throw error;
      problems.push(`${join(environmentsDir, `${env.name}.yaml`)}: ${error.message} (the schema should have refused this: please report it)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
