// The External Secrets Operator's objects for one tenant, rendered from its
// tenant file: per namespace and service account a SecretStore that logs in to
// the environment's Vault with the tenant's own role (Kubernetes auth on the
// tenant cluster's backend, a token for the role's audience) and reads only
// the tenant's KV mount, and per declared secret an ExternalSecret that keeps a
// Kubernetes Secret in sync. Pure: `npm run external-secrets` writes them as
// manifests for the tenant's own GitOps (ESO is a precondition on the tenant
// cluster; docs/operator-guide.md). The loader has already refused another
// tenant's path, a namespace the tenant does not name and a refresh out of bounds.
import { kubernetesAuthPath } from "../contract/vault-names";
import { tenantMountPaths } from "../contract/tenant-policy";
import { vaultAddress } from "./names";
import type { EnvironmentConfig } from "./schema";
import { isWildcard, type TenantConfig, type TenantSecret } from "./tenant-schema";

/** ESO's served API (v0.16 and later). */
export const ESO_API_VERSION = "external-secrets.io/v1";

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: Record<string, unknown>;
}

/** The service account a secret's store logs in as: its own, or the tenant's first named one. */
export function secretServiceAccount(tenant: TenantConfig, secret: TenantSecret): string {
  const account = secret.serviceAccount ?? tenant.serviceAccounts.find((sa) => !isWildcard(sa));
  if (!account) throw new Error(`tenant ${tenant.name}: secret ${secret.name} names no service account and serviceAccounts has none`);
  return account;
}

export function secretStoreName(tenant: string, serviceAccount: string): string {
  return `vault-${tenant}-${serviceAccount}`;
}

/** A Go duration ESO parses: 90s, 5m, 1h. */
function goDuration(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/**
 * The SecretStores, then the ExternalSecrets, of one tenant (none without secrets).
 * `vaultCaPem`: the CA that verifies Vault's certificate (the vault stack's
 * vault_ca_certificate output); undefined trusts the operator's system CAs.
 */
export function renderExternalSecrets(tenant: TenantConfig, env: EnvironmentConfig, vaultCaPem?: string): KubernetesObject[] {
  const labels = { "app.kubernetes.io/managed-by": "vault-gke", "vault-gke/environment": env.name, "vault-gke/tenant": tenant.name };
  const stores = new Map<string, KubernetesObject>();
  const externalSecrets: KubernetesObject[] = [];
  for (const secret of tenant.secrets) {
    const account = secretServiceAccount(tenant, secret);
    const store = secretStoreName(tenant.name, account);
    const key = `${secret.namespace}/${store}`;
    if (!stores.has(key)) {
      stores.set(key, {
        apiVersion: ESO_API_VERSION,
        kind: "SecretStore",
        metadata: { name: store, namespace: secret.namespace, labels },
        spec: {
          provider: {
            vault: {
              server: vaultAddress(env),
              path: tenantMountPaths(tenant.name).kv,
              version: "v2",
              ...(vaultCaPem === undefined ? {} : { caBundle: Buffer.from(vaultCaPem).toString("base64") }),
              auth: {
                kubernetes: {
                  mountPath: kubernetesAuthPath(tenant.cluster),
                  role: tenant.name,
                  serviceAccountRef: { name: account, audiences: [tenant.audience] },
                },
              },
            },
          },
        },
      });
    }
    const inMount = secret.path.slice(tenantMountPaths(tenant.name).kv.length + 1);
    externalSecrets.push({
      apiVersion: ESO_API_VERSION,
      kind: "ExternalSecret",
      metadata: { name: secret.name, namespace: secret.namespace, labels },
      spec: {
        refreshInterval: goDuration(secret.refreshInterval),
        secretStoreRef: { kind: "SecretStore", name: store },
        target: { name: secret.name, creationPolicy: "Owner", deletionPolicy: "Retain" },
        data: Object.entries(secret.keys).map(([secretKey, property]) => ({ secretKey, remoteRef: { key: inMount, property } })),
      },
    });
  }
  return [...stores.values(), ...externalSecrets];
}
