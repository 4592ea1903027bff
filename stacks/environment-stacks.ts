import type { App } from "cdktf";
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
  const vault = new VaultStack(app, names.vault, { env, platform });
  const shared = new SharedStack(app, names.shared, { env });
  const tenants = new Map<string, TenantStack>();
  for (const tenant of [...tenantConfigs].sort((a, b) => a.name.localeCompare(b.name))) {
    tenants.set(tenant.name, new TenantStack(app, tenantStackName(env, tenant.name), { env, tenant }));
  }
  return { platform, vault, shared, tenants };
}
