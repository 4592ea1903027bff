// What the stacks declare about access to Vault, as plain data: the auth
// methods that may exist, the roles of the platform-owned ones, the policies
// they bind and whom they let in, and which cluster each tenant backend trusts. The verifier (in the sidecar and the
// `npm run verify` command) compares Vault with it; the vault stack ships it to
// the sidecar beside the policies. Tenant engines and roles follow conventions
// the verifier checks on its own (contract/tenant-policy.ts), so adding a
// tenant changes nothing here.
import {
  APPLY_ROLE,
  AUTH_PATHS,
  DEFAULT_TOKEN_AUDIENCE,
  GCP_AUTH_ROLE,
  kubernetesAuthPath,
  POLICY,
  SNAPSHOT_KSA,
  SNAPSHOT_ROLE,
} from "../contract/vault-names";
import { vaultAddress } from "./names";
import type { DeclaredAccess, DeclaredAuthMount } from "../contract/declared-access";
import type { EnvironmentConfig } from "./schema";

export function declaredAccess(env: EnvironmentConfig): DeclaredAccess {
  const mounts: DeclaredAuthMount[] = [{ path: "token", type: "token" }];
  for (const c of env.tenancy.clusters) {
    mounts.push({ path: kubernetesAuthPath(c.name), type: "kubernetes", tenantCluster: true, config: { kubernetes_host: c.apiServerUrl } });
  }
  mounts.push({
    path: AUTH_PATHS.inCluster,
    type: "kubernetes",
    roles: { [SNAPSHOT_ROLE]: [POLICY.snapshot] },
    bindings: {
      [SNAPSHOT_ROLE]: {
        bound_service_account_names: [SNAPSHOT_KSA],
        bound_service_account_namespaces: [env.vault.namespace],
        audience: [DEFAULT_TOKEN_AUDIENCE],
      },
    },
  });
  if (env.delivery.applyServiceAccounts.length > 0) {
    mounts.push({
      path: AUTH_PATHS.runner,
      type: "jwt",
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
  };
}
