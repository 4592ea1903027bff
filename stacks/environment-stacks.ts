import type { App } from "cdktf";
import { stackNames } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import type { TenantConfig } from "../config/tenant-schema";
import { PlatformStack } from "./platform-stack";
import { TenantsStack } from "./tenants-stack";
import { VaultStack } from "./vault-stack";

export interface EnvironmentStacks {
  readonly platform: PlatformStack;
  readonly vault: VaultStack;
  readonly tenants: TenantsStack;
}

/** The three stacks of one environment: <env>-platform, <env>-vault, <env>-tenants. */
export function buildEnvironmentStacks(app: App, env: EnvironmentConfig, tenantConfigs: readonly TenantConfig[] = []): EnvironmentStacks {
  const names = stackNames(env);
  const platform = new PlatformStack(app, names.platform, { env });
  const vault = new VaultStack(app, names.vault, { env, platform });
  const tenants = new TenantsStack(app, names.tenants, { env, tenants: tenantConfigs });
  return { platform, vault, tenants };
}
