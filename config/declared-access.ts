// What the stacks declare about access to Vault, as plain data: the auth
// methods that may exist, their backends' settings (issuer, keys, API server,
// CA), the roles of the platform-owned ones, the policies they bind and whom
// they let in, and the audit devices. The verifier (in the sidecar and the
// `npm run verify` command) compares Vault with it; the vault stack ships it to
// the sidecar beside the policies. Tenant engines and roles follow conventions
// the sidecar's verifier checks on its own (contract/tenant-policy.ts), so
// adding a tenant changes nothing the vault stack ships; the runners' verifier
// also gets the tenant files (declaredTenants): each login role's bindings,
// each database connection's address and each database role's statements.
import {
  APPLY_ROLE,
  AUTH_PATHS,
  DEFAULT_TOKEN_AUDIENCE,
  GCP_AUTH_ROLE,
  IN_CLUSTER_API_SERVER,
  kubernetesAuthPath,
  POLICY,
  SNAPSHOT_KSA,
  SNAPSHOT_ROLE,
} from "../contract/vault-names";
import { AUDIT_DEVICES } from "../contract/audit-devices";
import { vaultAddress } from "./names";
import { caDigest, type DeclaredAccess, type DeclaredAuthMount, type DeclaredTenant } from "../contract/declared-access";
import { postgresEngineProps, postgresEngineSettings } from "./postgres-engine-settings";
import type { EnvironmentConfig } from "./schema";
import type { TenantConfig } from "./tenant-schema";

/** What every Kubernetes backend must not have: keys of its own (pem_keys would let whoever holds the private key sign tokens it accepts). */
const NO_OWN_KEYS = { pem_keys: [] as string[] };

/** What the tenant files declare, by tenant: login role bindings, database connection addresses and role statements. */
export function declaredTenants(tenants: readonly TenantConfig[]): Record<string, DeclaredTenant> {
  const out: Record<string, DeclaredTenant> = {};
  for (const t of tenants) {
    const pg = t.engines.postgres;
    const settings = pg ? postgresEngineSettings(postgresEngineProps(pg)) : undefined;
    out[t.name] = {
      authPath: kubernetesAuthPath(t.cluster),
      bindings: {
        bound_service_account_names: t.serviceAccounts,
        bound_service_account_namespaces: t.namespaces,
        audience: [t.audience],
        alias_name_source: ["serviceaccount_uid"],
      },
      databaseConnections: settings ? { [settings.connectionName]: settings.connectionUrl } : {},
      databaseRoles: settings ? { [settings.roleName]: settings.creationStatements } : {},
    };
  }
  return out;
}

/**
 * What the stacks declare; with `tenants` (the runners' verifier) also what each tenant file declares, and whether
 * they are all of the environment's (`complete`, default true).
 */
export function declaredAccess(env: EnvironmentConfig, tenants?: readonly TenantConfig[], complete = true): DeclaredAccess {
  const mounts: DeclaredAuthMount[] = [{ path: "token", type: "token" }];
  for (const c of env.tenancy.clusters) {
    mounts.push({
      path: kubernetesAuthPath(c.name),
      type: "kubernetes",
      tenantCluster: true,
      // Vault runs in another cluster: the registered API server and CA, never its own pod's token and CA.
      config: { kubernetes_host: c.apiServerUrl, kubernetes_ca_cert: caDigest(c.caCertificate), disable_local_ca_jwt: true, ...NO_OWN_KEYS },
    });
  }
  mounts.push({
    path: AUTH_PATHS.inCluster,
    type: "kubernetes",
    // Its own cluster: the API server's in-cluster address, with the pod's own CA and token.
    config: { kubernetes_host: IN_CLUSTER_API_SERVER, kubernetes_ca_cert: "", disable_local_ca_jwt: false, ...NO_OWN_KEYS },
    roles: { [SNAPSHOT_ROLE]: [POLICY.snapshot] },
    bindings: {
      [SNAPSHOT_ROLE]: {
        bound_service_account_names: [SNAPSHOT_KSA],
        bound_service_account_namespaces: [env.vault.namespace],
        audience: [DEFAULT_TOKEN_AUDIENCE],
        alias_name_source: ["serviceaccount_uid"],
      },
    },
  });
  if (env.delivery.applyServiceAccounts.length > 0) {
    mounts.push({
      path: AUTH_PATHS.runner,
      type: "jwt",
      // Keys only from the issuer's discovery document: a key of someone's own would sign them an apply token.
      config: {
        oidc_discovery_url: env.delivery.runnerIssuer,
        bound_issuer: env.delivery.runnerIssuer,
        jwks_url: "",
        jwt_validation_pubkeys: [],
        oidc_discovery_ca_pem: "",
        jwks_ca_pem: "",
      },
      roles: { [APPLY_ROLE]: [POLICY.provisioner] },
      bindings: { [APPLY_ROLE]: { bound_audiences: [vaultAddress(env)], "bound_claims.email": env.delivery.applyServiceAccounts } },
    });
  }
  if (env.vault.distribution === "vault" && env.gcpAuth.adminServiceAccounts.length > 0) {
    const roles: Record<string, string[]> = { [GCP_AUTH_ROLE.admin]: [POLICY.admin] };
    const bindings: Record<string, Record<string, readonly string[]>> = { [GCP_AUTH_ROLE.admin]: { bound_service_accounts: env.gcpAuth.adminServiceAccounts } };
    if (env.gcpAuth.breakGlassServiceAccounts.length > 0) {
      roles[GCP_AUTH_ROLE.breakGlass] = [POLICY.admin, POLICY.breakGlass];
      bindings[GCP_AUTH_ROLE.breakGlass] = { bound_service_accounts: env.gcpAuth.breakGlassServiceAccounts };
    }
    mounts.push({ path: AUTH_PATHS.gcp, type: "gcp", roles, bindings });
  }
  return {
    format: "vault-gke/declared-access/v1",
    environment: env.name,
    authMounts: mounts,
    maxTenantTtlSec: env.tenancy.maxTokenTtl,
    systemPolicies: Object.values(POLICY),
    auditDevices: AUDIT_DEVICES.map((d) => ({ path: d.path, type: "file" as const, filePath: d.path === "stdout" ? d.filePath : undefined })),
    ...(tenants ? { tenants: declaredTenants(tenants), tenantFilesComplete: complete } : {}),
  };
}
