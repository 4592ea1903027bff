// The Vault API requests the Terraform Vault provider (5.6.0, the version the
// cdktf bindings pin) sends when it creates, updates and destroys a tenant
// stack's resources, read from the provider's source: resource_mount.go,
// resource_kv_secret_backend_v2.go, resource_transit_secret_backend_key.go
// (including its misspelt min_encryption_versoin on create),
// resource_database_secret_backend_connection.go / _role.go and
// resource_kubernetes_auth_backend_role.go. The policy tests replay them with
// each runner credential: the apply credential must be able to make them, the
// plan credential must be refused every one.

export interface ProviderRequest {
  /** What Terraform does, for the test's name. */
  readonly what: string;
  readonly method: "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Why the apply credential is refused this one by design (destroying a tenant's keys or data is an admin's). */
  readonly adminOnly?: string;
}

export function tenantStackRequests(tenant: string, cluster: string): ProviderRequest[] {
  const t = `tenants/${tenant}`;
  const mount = (engine: string, type: string, extra: Record<string, unknown> = {}) => ({
    what: `create the ${engine} engine`,
    method: "POST" as const,
    path: `sys/mounts/${t}/${engine}`,
    body: {
      type,
      description: `${engine} of tenant ${tenant}`,
      config: { default_lease_ttl: "", max_lease_ttl: "", force_no_cache: false, audit_non_hmac_request_keys: null, audit_non_hmac_response_keys: null, listing_visibility: "", passthrough_request_headers: null, allowed_response_headers: null, plugin_version: "" },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      ...extra,
    },
  });
  return [
    mount("kv", "kv", { options: { version: "2" } }),
    { what: "configure KV v2", method: "PUT", path: `${t}/kv/config`, body: { max_versions: 10, cas_required: false, delete_version_after: "0s" } },
    mount("transit", "transit"),
    { what: "create a transit key", method: "PUT", path: `${t}/transit/keys/orders`, body: { convergent_encryption: false, derived: false, type: "aes256-gcm96", auto_rotate_period: 0, key_size: 0 } },
    {
      what: "configure the transit key (create)",
      method: "PUT",
      path: `${t}/transit/keys/orders/config`,
      body: { min_decryption_version: 1, min_encryption_versoin: 0, deletion_allowed: false, exportable: false, allow_plaintext_backup: false, auto_rotate_period: 0 },
    },
    {
      what: "configure the transit key (update)",
      method: "PUT",
      path: `${t}/transit/keys/orders/config`,
      body: { min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false, exportable: false, allow_plaintext_backup: false, auto_rotate_period: 0 },
    },
    mount("database", "database", { config: { default_lease_ttl: "", max_lease_ttl: "3600s" } }),
    {
      what: "configure the PostgreSQL connection",
      method: "PUT",
      path: `${t}/database/config/postgres`,
      body: { plugin_name: "postgresql-database-plugin", allowed_roles: ["app"], verify_connection: false, connection_url: "postgresql://{{username}}:{{password}}@db.invalid:5432/app?sslmode=verify-full", username: "vault_admin", password: "plan-placeholder" },
    },
    {
      what: "create the database role",
      method: "PUT",
      path: `${t}/database/roles/app`,
      body: { db_name: "postgres", creation_statements: ["CREATE ROLE \"{{name}}\""], revocation_statements: ["DROP ROLE \"{{name}}\""], default_ttl: 900, max_ttl: 3600 },
    },
    {
      what: "create the login role",
      method: "PUT",
      path: `auth/kubernetes-${cluster}/role/${tenant}`,
      body: { bound_service_account_names: [`${tenant}-api`], bound_service_account_namespaces: [tenant], audience: "vault", token_policies: [`tenant-${tenant}`], token_ttl: 1800, token_max_ttl: 3600, token_type: "service", alias_name_source: "serviceaccount_uid" },
    },
    { what: "remove the login role", method: "DELETE", path: `auth/kubernetes-${cluster}/role/${tenant}` },
    { what: "remove the database role", method: "DELETE", path: `${t}/database/roles/app` },
    { what: "remove the PostgreSQL connection", method: "DELETE", path: `${t}/database/config/postgres` },
    { what: "delete the transit key", method: "DELETE", path: `${t}/transit/keys/orders`, adminOnly: "a deleted key's ciphertexts are lost" },
    { what: "remove the database engine", method: "DELETE", path: `sys/mounts/${t}/database`, adminOnly: "offboarding is an admin's destroy" },
    { what: "remove the transit engine", method: "DELETE", path: `sys/mounts/${t}/transit`, adminOnly: "removing the engine destroys the keys" },
    { what: "remove the KV engine", method: "DELETE", path: `sys/mounts/${t}/kv`, adminOnly: "removing the engine destroys the secrets" },
  ];
}
