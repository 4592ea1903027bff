import { TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { kubernetesAuthPath } from "../contract/vault-names";
import { postgresEngineProps } from "../config/postgres-engine-settings";
import type { EnvironmentConfig } from "../config/schema";
import type { TenantConfig } from "../config/tenant-schema";
import { VaultTenant } from "../constructs/vault-tenant";
import { useGcsBackend } from "./backend";
import { vaultProviderFor } from "./vault-provider";

export interface TenantStackProps {
  readonly env: EnvironmentConfig;
  readonly tenant: TenantConfig;
}

/** The Terraform variable of a tenant stack's PostgreSQL admin password (ephemeral: never in a plan or the state). */
export const POSTGRES_PASSWORD_VARIABLE = "postgres_password";

/**
 * One tenant's engines and login role, in a stack of its own: a tenant's pull
 * request locks and plans only this stack, and adding a tenant changes no other
 * stack. Applied with the provisioner credential; everything it references in
 * Vault (the cluster's auth backend) is a name the shared stack owns.
 */
export class TenantStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: TenantStackProps) {
    super(scope, id);
    const { env, tenant } = props;
    useGcsBackend(this, env, id);
    vaultProviderFor(this, env, `vault-gke-${id}`);
    // Ephemeral variables and write-only attributes need Terraform 1.10 or later (older
    // versions refuse `ephemeral` on their own). No required_version here: checkov's
    // Terraform JSON parser cannot read a terraform block that has one.

    const pg = tenant.engines.postgres;
    const password = pg
      ? new TerraformVariable(this, POSTGRES_PASSWORD_VARIABLE, {
          type: "string",
          sensitive: true,
          description: `PostgreSQL password of ${pg.username} for tenant ${tenant.name}: TF_VAR_${POSTGRES_PASSWORD_VARIABLE}, from Secret Manager at apply; any placeholder at plan (write-only, never stored)`,
        })
      : undefined;
    // Not stored in the plan file: the plan runs with a placeholder, the apply gets the real password.
    password?.addOverride("ephemeral", true);

    new VaultTenant(this, `tenant-${tenant.name}`, {
      tenant: tenant.name,
      authBackendPath: kubernetesAuthPath(tenant.cluster),
      audience: tenant.audience,
      serviceAccounts: tenant.serviceAccounts,
      namespaces: tenant.namespaces,
      tokenTtlSec: tenant.tokenTtl,
      tokenMaxTtlSec: tenant.tokenMaxTtl,
      kvMaxVersions: tenant.engines.kv.maxVersions,
      transitKeys: tenant.engines.transit?.keys,
      databaseMaxLeaseTtlSec: env.tenancy.maxTokenTtl,
      postgres:
        pg && password
          ? {
              ...postgresEngineProps(pg),
              password: password.stringValue,
              passwordVersion: pg.passwordVersion,
            }
          : undefined,
    });
  }

  /**
   * cdktf resolves every element once before synthesis to discover cross-stack
   * references. A tenant stack has none (it names the shared stack's backend by
   * path, never by reference) and its backend is set in the constructor, so
   * that pass is skipped: at 1,000 tenants it is a fifth of the synth
   * (BENCHMARKS.md). A test keeps tenant stacks free of cross-stack references.
   */
  override prepareStack(): void {}
}
