import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { vaultAddress } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import type { TenantConfig } from "../config/tenant-schema";
import { AdminGcpAuth } from "../constructs/admin-gcp-auth";
import { KubernetesAuthBackend } from "../constructs/kubernetes-auth-backend";
import { TokenReviewer } from "../constructs/token-reviewer";
import { VaultTenant } from "../constructs/vault-tenant";
import { useGcsBackend } from "./backend";
import { googleProviderFor, kubernetesProviderFor } from "./cluster-providers";

export interface TenantsStackProps {
  readonly env: EnvironmentConfig;
  readonly tenants: readonly TenantConfig[];
}

/**
 * Tenant auth and secrets engines, applied with the provisioner token the
 * bootstrap sidecar stored (VAULT_TOKEN in the runner's environment, never in
 * code or files). Only this stack changes when a tenant file is added.
 */
export class TenantsStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: TenantsStackProps) {
    super(scope, id);
    const { env, tenants } = props;
    useGcsBackend(this, env, id);
    googleProviderFor(this, env.project, env.region);
    new VaultProvider(this, "vault", {
      address: vaultAddress(env),
      skipTlsVerify: false,
      // The provider's child token lives 20 minutes at most.
      maxLeaseTtlSeconds: 1200,
      tokenName: `vault-gke-${env.name}-tenants`,
    });

    if (env.gcpAuth.adminServiceAccounts.length > 0) {
      new AdminGcpAuth(this, "admin-gcp-auth", {
        adminServiceAccounts: env.gcpAuth.adminServiceAccounts,
        tokenTtlSec: env.gcpAuth.tokenTtl,
        tokenMaxTtlSec: env.gcpAuth.tokenMaxTtl,
      });
    }

    const backends = new Map<string, KubernetesAuthBackend>();
    for (const tenant of [...tenants].sort((a, b) => a.name.localeCompare(b.name))) {
      const c = tenant.cluster;
      let backend = backends.get(c.name);
      if (!backend) {
        const provider = kubernetesProviderFor(this, `k8s-${c.name}`, { host: c.apiServerUrl, caCertificatePem: c.caCertificate }, c.name);
        const reviewer = new TokenReviewer(this, `reviewer-${c.name}`, { provider });
        backend = new KubernetesAuthBackend(this, `kubernetes-${c.name}`, {
          clusterName: c.name,
          apiServerUrl: c.apiServerUrl,
          caCertificatePem: c.caCertificate,
          reviewerJwt: reviewer.jwt,
          maxTokenTtlSec: env.tenancy.maxTokenTtl,
        });
        backends.set(c.name, backend);
      }
      const pg = tenant.engines.postgres;
      const password = pg
        ? new TerraformVariable(this, `postgres_password_${tenant.name.replace(/-/g, "_")}`, {
            type: "string",
            sensitive: true,
            description: `PostgreSQL password of ${pg.username} for tenant ${tenant.name} (set TF_VAR_postgres_password_${tenant.name.replace(/-/g, "_")} in the runner)`,
          })
        : undefined;
      new VaultTenant(this, `tenant-${tenant.name}`, {
        tenant: tenant.name,
        authBackendPath: backend.path,
        serviceAccounts: tenant.serviceAccounts,
        namespaces: tenant.namespaces,
        tokenTtlSec: tenant.tokenTtl,
        tokenMaxTtlSec: tenant.tokenMaxTtl,
        kvMaxVersions: tenant.engines.kv.maxVersions,
        transitKeys: tenant.engines.transit?.keys,
        postgres:
          pg && password
            ? {
                host: pg.host,
                port: pg.port,
                database: pg.database,
                username: pg.username,
                schema: pg.schema,
                access: pg.access,
                sslMode: pg.sslMode,
                defaultTtlSec: pg.defaultTtl,
                maxTtlSec: pg.maxTtl,
                password: password.stringValue,
              }
            : undefined,
      });
    }
  }
}
