import { DatabaseSecretBackendConnection } from "@cdktf/provider-vault/lib/database-secret-backend-connection";
import { DatabaseSecretBackendRole } from "@cdktf/provider-vault/lib/database-secret-backend-role";
import { KubernetesAuthBackendRole } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-role";
import { KvSecretBackendV2 } from "@cdktf/provider-vault/lib/kv-secret-backend-v2";
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { TransitSecretBackendKey } from "@cdktf/provider-vault/lib/transit-secret-backend-key";
import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { postgresEngineSettings, type PostgresEngineProps } from "../config/postgres-engine-settings";
import { tenantMountPaths, tenantPolicyName } from "../contract/tenant-policy";

export interface VaultTenantProps {
  readonly tenant: string;
  /** The registered cluster's Kubernetes auth backend path (kubernetes-<cluster>; the shared stack owns it). */
  readonly authBackendPath: string;
  /** The audience the pods' projected service account tokens must carry. */
  readonly audience: string;
  /**
   * Ceiling of the database engine's leases, fixed when the engine is created
   * (the apply credential cannot tune it later): the environment's maximum.
   */
  readonly databaseMaxLeaseTtlSec: number;
  /** Service accounts allowed to log in; "*" only after the config's explicit opt-in. */
  readonly serviceAccounts: readonly string[];
  readonly namespaces: readonly string[];
  /** Lifetime of the tenant's tokens. */
  readonly tokenTtlSec: number;
  /** Longest life of the tenant's tokens with renewals. */
  readonly tokenMaxTtlSec: number;
  /** Versions the KV engine keeps per secret. */
  readonly kvMaxVersions: number;
  /** @default none */
  readonly transitKeys?: readonly string[];
  /**
   * Dynamic PostgreSQL credentials; the admin password is write-only (never in
   * the state). `passwordVersion` goes up when the password changes. @default none
   */
  readonly postgres?: PostgresEngineProps & { readonly password: string; readonly passwordVersion: number };
}

/**
 * One tenant: a KV v2 area, optional transit keys and PostgreSQL credentials,
 * all under tenants/<tenant>/, and the Kubernetes auth role that grants the
 * tenant-<tenant> policy to the tenant's pods. The policy itself is rendered by
 * the bootstrap sidecar from these engines (contract/tenant-policy.ts): the
 * apply credential writes no policy.
 */
export class VaultTenant extends Construct {
  readonly policyName: string;

  constructor(scope: Construct, id: string, props: VaultTenantProps) {
    super(scope, id);
    const { tokenTtlSec, tokenMaxTtlSec } = props;
    if (tokenTtlSec > tokenMaxTtlSec) throw new Error(`tokenTtlSec (${tokenTtlSec}) cannot exceed tokenMaxTtlSec (${tokenMaxTtlSec})`);
    if (props.serviceAccounts.length === 0 || props.namespaces.length === 0) throw new Error("serviceAccounts and namespaces must each list at least one name");
    if (!props.audience.trim()) throw new Error("audience is empty; pods must present a token minted for Vault (for example audience vault)");
    const paths = tenantMountPaths(props.tenant);

    const kv = new Mount(this, "kv", { path: paths.kv, type: "kv", options: { version: "2" }, description: `KV v2 of tenant ${props.tenant}` });
    new KvSecretBackendV2(this, "kv-config", { mount: kv.path, maxVersions: props.kvMaxVersions });

    if (props.transitKeys && props.transitKeys.length > 0) {
      const transit = new Mount(this, "transit", { path: paths.transit, type: "transit", description: `transit of tenant ${props.tenant}` });
      for (const key of props.transitKeys) {
        new TransitSecretBackendKey(this, `transit-key-${key}`, {
          backend: transit.path,
          name: key,
          type: "aes256-gcm96",
          exportable: false,
          allowPlaintextBackup: false,
          deletionAllowed: false,
        });
      }
    }

    if (props.postgres) {
      const pg = postgresEngineSettings(props.postgres);
      const db = new Mount(this, "database", {
        path: paths.database,
        type: "database",
        description: `database credentials of tenant ${props.tenant}`,
        maxLeaseTtlSeconds: props.databaseMaxLeaseTtlSec,
      });
      const connection = new DatabaseSecretBackendConnection(this, "postgres", {
        backend: db.path,
        name: pg.connectionName,
        allowedRoles: [pg.roleName],
        verifyConnection: true,
        postgresql: {
          connectionUrl: pg.connectionUrl,
          username: props.postgres.username,
          // Write-only: sent to Vault, never stored in the Terraform state. Bump the version to rotate.
          passwordWo: props.postgres.password,
          // Vault accepts a connection only with its password (the apply credential's policy
          // requires it), so any change of the connection sends the password again: the
          // version follows the connection's settings and the declared password version.
          passwordWoVersion: connectionVersion(pg.connectionUrl, props.postgres.username, props.postgres.passwordVersion),
        },
      });
      new DatabaseSecretBackendRole(this, "postgres-role", {
        backend: db.path,
        name: pg.roleName,
        dbName: connection.name,
        creationStatements: pg.creationStatements,
        revocationStatements: pg.revocationStatements,
        defaultTtl: pg.defaultTtlSec,
        maxTtl: pg.maxTtlSec,
      });
    }

    this.policyName = tenantPolicyName(props.tenant);
    new KubernetesAuthBackendRole(this, "login-role", {
      backend: props.authBackendPath,
      roleName: props.tenant,
      boundServiceAccountNames: [...props.serviceAccounts],
      boundServiceAccountNamespaces: [...props.namespaces],
      audience: props.audience,
      tokenPolicies: [this.policyName],
      // Without Vault's default policy: it would let a tenant's pod renew and look up any lease by its id.
      tokenNoDefaultPolicy: true,
      tokenTtl: tokenTtlSec,
      tokenMaxTtl: tokenMaxTtlSec,
      tokenType: "service",
      aliasNameSource: "serviceaccount_uid",
    });
  }
}

/** A positive number that changes with the connection's settings or its password version. */
export function connectionVersion(connectionUrl: string, username: string, passwordVersion: number): number {
  return parseInt(
    createHash("sha256")
      .update(JSON.stringify([connectionUrl, username, passwordVersion]))
      .digest("hex")
      .slice(0, 12),
    16,
  );
}
