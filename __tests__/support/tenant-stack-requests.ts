// The Vault API requests the Terraform Vault provider (5.6.0, the version the
// cdktf bindings pin) sends when it applies, refreshes and destroys a tenant
// stack, read from the provider's source (internal/provider/meta.go,
// resource_mount.go, resource_kv_secret_backend_v2.go,
// resource_transit_secret_backend_key.go with its misspelt
// min_encryption_versoin on create, resource_database_secret_backend_connection.go
// / _role.go, resource_kubernetes_auth_backend_role.go) and checked against what
// that provider, built from its v5.6.0 tag, sent to OpenBao when it applied and
// destroyed the example's payments stack. The policy tests replay them with each
// runner credential: the apply credential must be able to make them, the plan
// credential must be refused every write and allowed every read (a plan
// refreshes). tenant-stack-requests.test.ts keeps the table in step with the
// synthesized tenant stacks: each request names the resource it comes from and
// which of the attributes the stack sets it carries, to which parameter.

/** The request's URL path carries the attribute (a mount's path, a key's name). */
export const IN_PATH = "(path)";

export interface ResourceMapping {
  /** The Terraform resource type, or "provider.vault" for the provider block (its child token). */
  readonly type: string;
  /** Which resources of the type, by literal attributes (vault_mount by its type). @default all */
  readonly where?: Readonly<Record<string, string>>;
  /**
   * Each attribute the tenant stack sets on those resources (nested blocks
   * flattened with a dot: postgresql.username) -> the request parameter that
   * carries it (dotted into nested objects: config.max_lease_ttl), or IN_PATH.
   * A map attribute (options) is carried whole.
   */
  readonly carries?: Readonly<Record<string, string>>;
  /** Attributes that never reach Vault as such, and why. */
  readonly terraformOnly?: Readonly<Record<string, string>>;
}

export interface ProviderRequest {
  /** What Terraform does, for the test's name. */
  readonly what: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Why the apply credential is refused this one by design (destroying a tenant's keys or data is an admin's). */
  readonly adminOnly?: string;
  readonly from: ResourceMapping;
}

/** The postgres password of the replay: the plan runs with a placeholder, the apply with Secret Manager's. */
export const PLACEHOLDER_PASSWORD = "plan-placeholder";

/**
 * A tenant's stack as the provider sends it: every engine (KV, transit key
 * `transitKey`, PostgreSQL), and its login role on the cluster's backend.
 */
export function tenantStackRequests(tenant: string, cluster: string, transitKey = "orders"): ProviderRequest[] {
  const t = `tenants/${tenant}`;
  const key = `${t}/transit/keys/${transitKey}`;
  const role = `auth/kubernetes-${cluster}/role/${tenant}`;
  const mount = (
    engine: "kv" | "transit" | "database",
    description: string,
    extra: { options?: Record<string, string>; maxLeaseTtl?: string } = {},
  ): ProviderRequest => ({
    what: `create the ${engine} engine`,
    method: "POST",
    path: `sys/mounts/${t}/${engine}`,
    body: {
      type: engine,
      description: `${description} of tenant ${tenant}`,
      config: { options: null, default_lease_ttl: "0s", max_lease_ttl: extra.maxLeaseTtl ?? "0s", force_no_cache: false },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      options: extra.options ?? {},
    },
    from: {
      type: "vault_mount",
      where: { type: engine },
      carries: {
        path: IN_PATH,
        type: "type",
        description: "description",
        ...(extra.options ? { options: "options" } : {}),
        ...(extra.maxLeaseTtl ? { max_lease_ttl_seconds: "config.max_lease_ttl" } : {}),
      },
    },
  });
  const readMount = (engine: string): ProviderRequest => ({
    what: `read the ${engine} engine back`,
    method: "GET",
    path: `sys/mounts/${t}/${engine}`,
    from: { type: "vault_mount", where: { type: engine } },
  });
  const keyConfig = { deletion_allowed: false, exportable: false, allow_plaintext_backup: false, min_decryption_version: 1, auto_rotate_period: 0 };
  const keyConfigCarries = {
    backend: IN_PATH,
    name: IN_PATH,
    deletion_allowed: "deletion_allowed",
    exportable: "exportable",
    allow_plaintext_backup: "allow_plaintext_backup",
  };
  return [
    { what: "look up its own token", method: "GET", path: "auth/token/lookup-self", from: { type: "provider.vault" } },
    {
      what: "make the run's child token",
      method: "POST",
      path: "auth/token/create",
      body: {
        ttl: "1200s",
        explicit_max_ttl: "1200s",
        display_name: `vault-gke-example-tenant-${tenant}`,
        num_uses: 0,
        renewable: false,
        type: "",
        entity_alias: "",
      },
      from: {
        type: "provider.vault",
        // max_lease_ttl_seconds is the explicit_max_ttl too.
        carries: { max_lease_ttl_seconds: "ttl", token_name: "display_name" },
        terraformOnly: { address: "where every request goes", skip_tls_verify: "the client's TLS verification" },
      },
    },
    mount("kv", "KV v2", { options: { version: "2" } }),
    readMount("kv"),
    {
      what: "configure KV v2",
      method: "PUT",
      path: `${t}/kv/config`,
      body: { cas_required: false, delete_version_after: 0, max_versions: 10 },
      from: { type: "vault_kv_secret_backend_v2", carries: { mount: IN_PATH, max_versions: "max_versions" } },
    },
    { what: "read the KV v2 settings back", method: "GET", path: `${t}/kv/config`, from: { type: "vault_kv_secret_backend_v2" } },
    mount("transit", "transit"),
    readMount("transit"),
    {
      what: "create a transit key",
      method: "PUT",
      path: key,
      body: { auto_rotate_period: 0, convergent_encryption: false, derived: false, key_size: 0, type: "aes256-gcm96" },
      from: { type: "vault_transit_secret_backend_key", carries: { backend: IN_PATH, name: IN_PATH, type: "type" } },
    },
    {
      what: "configure the transit key (create)",
      method: "PUT",
      path: `${key}/config`,
      body: { ...keyConfig, min_encryption_versoin: 0 },
      from: { type: "vault_transit_secret_backend_key", carries: keyConfigCarries },
    },
    { what: "read the transit key back", method: "GET", path: key, from: { type: "vault_transit_secret_backend_key" } },
    {
      what: "configure the transit key (update)",
      method: "PUT",
      path: `${key}/config`,
      body: { ...keyConfig, min_encryption_version: 0 },
      from: { type: "vault_transit_secret_backend_key", carries: keyConfigCarries },
    },
    mount("database", "database credentials", { maxLeaseTtl: "3600s" }),
    readMount("database"),
    {
      what: "configure the PostgreSQL connection",
      method: "PUT",
      path: `${t}/database/config/postgres`,
      body: {
        plugin_name: "postgresql-database-plugin",
        allowed_roles: "app",
        // The stack verifies the connection; nothing listens at db.invalid for the replay.
        verify_connection: false,
        connection_url: "postgresql://{{username}}:{{password}}@db.invalid:5432/app?sslmode=verify-full",
        username: "vault_admin",
        password: PLACEHOLDER_PASSWORD,
        password_authentication: "password",
        disable_escaping: false,
        max_open_connections: 2,
      },
      from: {
        type: "vault_database_secret_backend_connection",
        carries: {
          backend: IN_PATH,
          name: IN_PATH,
          allowed_roles: "allowed_roles",
          verify_connection: "verify_connection",
          "postgresql.connection_url": "connection_url",
          "postgresql.username": "username",
          "postgresql.password_wo": "password",
        },
        terraformOnly: { "postgresql.password_wo_version": "a new value makes the provider send password_wo again (it is never stored)" },
      },
    },
    {
      what: "read the PostgreSQL connection back",
      method: "GET",
      path: `${t}/database/config/postgres`,
      from: { type: "vault_database_secret_backend_connection" },
    },
    {
      what: "create the database role",
      method: "PUT",
      path: `${t}/database/roles/app`,
      body: {
        db_name: "postgres",
        creation_statements: ['CREATE ROLE "{{name}}"'],
        revocation_statements: ['DROP ROLE "{{name}}"'],
        default_ttl: 900,
        max_ttl: 3600,
      },
      from: {
        type: "vault_database_secret_backend_role",
        carries: {
          backend: IN_PATH,
          name: IN_PATH,
          db_name: "db_name",
          creation_statements: "creation_statements",
          revocation_statements: "revocation_statements",
          default_ttl: "default_ttl",
          max_ttl: "max_ttl",
        },
      },
    },
    { what: "read the database role back", method: "GET", path: `${t}/database/roles/app`, from: { type: "vault_database_secret_backend_role" } },
    {
      what: "create the login role",
      method: "PUT",
      path: role,
      body: {
        alias_name_source: "serviceaccount_uid",
        audience: "vault",
        bound_service_account_names: [`${tenant}-api`],
        // The provider sends it on every create and update, empty when unset.
        bound_service_account_namespace_selector: "",
        bound_service_account_namespaces: [tenant],
        token_max_ttl: 3600,
        token_no_default_policy: true,
        token_policies: [`tenant-${tenant}`],
        token_ttl: 1800,
        token_type: "service",
      },
      from: {
        type: "vault_kubernetes_auth_backend_role",
        carries: {
          backend: IN_PATH,
          role_name: IN_PATH,
          bound_service_account_names: "bound_service_account_names",
          bound_service_account_namespaces: "bound_service_account_namespaces",
          audience: "audience",
          token_policies: "token_policies",
          token_no_default_policy: "token_no_default_policy",
          token_ttl: "token_ttl",
          token_max_ttl: "token_max_ttl",
          token_type: "token_type",
          alias_name_source: "alias_name_source",
        },
      },
    },
    { what: "read the login role back", method: "GET", path: role, from: { type: "vault_kubernetes_auth_backend_role" } },
    { what: "remove the login role", method: "DELETE", path: role, from: { type: "vault_kubernetes_auth_backend_role" } },
    { what: "remove the database role", method: "DELETE", path: `${t}/database/roles/app`, from: { type: "vault_database_secret_backend_role" } },
    {
      what: "remove the PostgreSQL connection",
      method: "DELETE",
      path: `${t}/database/config/postgres`,
      from: { type: "vault_database_secret_backend_connection" },
    },
    {
      what: "delete the transit key",
      method: "DELETE",
      path: key,
      adminOnly: "a deleted key's ciphertexts are lost",
      from: { type: "vault_transit_secret_backend_key" },
    },
    {
      what: "remove the database engine",
      method: "DELETE",
      path: `sys/mounts/${t}/database`,
      adminOnly: "offboarding is an admin's destroy",
      from: { type: "vault_mount", where: { type: "database" } },
    },
    {
      what: "remove the transit engine",
      method: "DELETE",
      path: `sys/mounts/${t}/transit`,
      adminOnly: "removing the engine destroys the keys",
      from: { type: "vault_mount", where: { type: "transit" } },
    },
    {
      what: "remove the KV engine",
      method: "DELETE",
      path: `sys/mounts/${t}/kv`,
      adminOnly: "removing the engine destroys the secrets",
      from: { type: "vault_mount", where: { type: "kv" } },
    },
  ];
}

/** The requests that change something (what a plan must never be able to make). */
export const isWrite = (r: ProviderRequest) => r.method !== "GET";
