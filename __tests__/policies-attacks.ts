// The attacks of policies.int.test.ts, replayed with the plan and the apply credential (each must be refused),
// on the OpenBao of policies-fixture.ts.
import { CLUSTER } from "./policies-fixture";

/** The attacks the least-privilege issue reproduced, as requests; each must be refused. */
export const ATTACKS: { name: string; method: string; path: string; body?: unknown; refusedWith?: number }[] = [
  { name: "(1) enable userpass at kubernetes-backdoor", method: "POST", path: "sys/auth/kubernetes-backdoor", body: { type: "userpass" } },
  { name: "(1) enable any auth method anywhere", method: "POST", path: "sys/auth/ops", body: { type: "approle" } },
  {
    name: '(2) write tenant-x with path "*"',
    method: "PUT",
    path: "sys/policies/acl/tenant-x",
    body: { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' },
  },
  {
    name: "(2) rewrite an existing tenant policy",
    method: "PUT",
    path: "sys/policies/acl/tenant-a",
    body: { policy: 'path "tenants/b/*" { capabilities = ["read"] }' },
  },
  {
    name: "(3) point a registered cluster's backend at another API server",
    method: "POST",
    path: `auth/kubernetes-${CLUSTER}/config`,
    body: { kubernetes_host: "https://evil.example" },
  },
  {
    name: "(4) log tenants' secret values in plain text (mount tune)",
    method: "POST",
    path: "sys/mounts/tenants/a/kv/tune",
    body: { audit_non_hmac_response_keys: ["data"] },
  },
  { name: "(4) raise a tenant engine's lease ceiling", method: "POST", path: "sys/mounts/tenants/a/kv/tune", body: { max_lease_ttl: "8760h" } },
  {
    name: "(4) log pods' login JWTs (auth tune)",
    method: "POST",
    path: `sys/mounts/auth/kubernetes-${CLUSTER}/tune`,
    body: { audit_non_hmac_request_keys: ["jwt"] },
  },
  {
    name: "(4) the same through sys/auth/<path>/tune",
    method: "POST",
    path: `sys/auth/kubernetes-${CLUSTER}/tune`,
    body: { audit_non_hmac_request_keys: ["jwt"] },
  },
  { name: "(4) raise an auth backend's token ceiling", method: "POST", path: `sys/mounts/auth/kubernetes-${CLUSTER}/tune`, body: { max_lease_ttl: "8760h" } },
  { name: "(5) make a transit key exportable", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { exportable: true } },
  { name: "(5) allow a plaintext backup", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { allow_plaintext_backup: true } },
  { name: "(5) allow deleting a key", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { deletion_allowed: true } },
  {
    name: "(5) the same settings spelled as strings",
    method: "PUT",
    path: "tenants/a/transit/keys/k/config",
    body: { exportable: "true", deletion_allowed: "1" },
  },
  { name: "(5) create an exportable key", method: "PUT", path: "tenants/a/transit/keys/leaky", body: { type: "aes256-gcm96", exportable: true } },
  { name: "(5) delete a key", method: "DELETE", path: "tenants/a/transit/keys/k" },
  { name: "(5) export a key", method: "GET", path: "tenants/a/transit/export/encryption-key/k" },
  { name: "(5) back up a key", method: "GET", path: "tenants/a/transit/backup/k" },
  { name: "remount a tenant engine elsewhere", method: "POST", path: "sys/remount", body: { from: "tenants/a/kv", to: "tenants/x/kv" } },
  { name: "delete a tenant's KV engine (its data)", method: "DELETE", path: "sys/mounts/tenants/b/kv" },
  {
    name: "(3) swap the keys the runner backend trusts",
    method: "POST",
    path: "auth/runner/config",
    body: {
      jwt_validation_pubkeys: ["-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"],
      bound_issuer: "https://accounts.google.com",
    },
  },
  {
    name: "(3) point Vault's own cluster backend at another API server",
    method: "POST",
    path: "auth/in-cluster/config",
    body: { kubernetes_host: "https://203.0.113.9" },
  },
  { name: "(3) configure the admins' GCP backend", method: "POST", path: "auth/gcp/config", body: { credentials: "{}" } },
  {
    name: "bind a runner login to another identity",
    method: "PUT",
    path: "auth/runner/role/provisioner",
    body: { bound_claims: { email: ["attacker@example.com"] }, token_policies: ["admin"] },
  },
  {
    name: "add a role on Vault's own cluster backend",
    method: "PUT",
    path: "auth/in-cluster/role/x",
    body: { bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"], token_policies: ["admin"] },
  },
  { name: "write the admin policy", method: "PUT", path: "sys/policies/acl/admin", body: { policy: 'path "*" { capabilities = ["sudo", "update"] }' } },
  { name: "write its own policy", method: "PUT", path: "sys/policies/acl/provisioner", body: { policy: 'path "*" { capabilities = ["sudo", "update"] }' } },
  // Vault answers 400 here: a child token's policies must be a subset of its parent's.
  { name: "create a token with the admin policy", method: "POST", path: "auth/token/create", body: { policies: ["admin"] }, refusedWith: 400 },
  { name: "create an orphan token", method: "POST", path: "auth/token/create-orphan", body: { policies: ["provisioner"], period: "768h" } },
  { name: "mount an engine outside tenants/", method: "POST", path: "sys/mounts/secret", body: { type: "kv" } },
  { name: "take a Raft snapshot", method: "GET", path: "sys/storage/raft/snapshot" },
  // Found in the attacker's review of this design, on a real OpenBao:
  // (Pointing a connection elsewhere without its password is not refusable: README, threat model.)
  {
    name: "create a MySQL connection (its TLS key would be readable)",
    method: "PUT",
    path: "tenants/a/database/config/my",
    body: { plugin_name: "mysql-database-plugin", connection_url: "{{username}}:{{password}}@tcp(127.0.0.1:1)/", password: "x", verify_connection: false },
  },
  { name: "mount a Kubernetes engine where a tenant's KV goes", method: "POST", path: "sys/mounts/tenants/x/kv", body: { type: "kubernetes" } },
  { name: "mount a PKI engine where a tenant's database engine goes", method: "POST", path: "sys/mounts/tenants/x/database", body: { type: "pki" } },
  {
    name: "give a tenant login role a period (tokens outliving the ceiling)",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: {
      bound_service_account_names: ["api"],
      bound_service_account_namespaces: ["a"],
      audience: "vault",
      token_policies: ["tenant-a"],
      token_period: "3600s",
    },
  },
  {
    name: "bind policies through the legacy policies field",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: { bound_service_account_names: ["api"], bound_service_account_namespaces: ["a"], audience: "vault", policies: ["admin"] },
  },
  {
    name: "bind by namespace selector",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: { bound_service_account_names: ["*"], bound_service_account_namespace_selector: "{}", audience: "vault", token_policies: ["tenant-a"] },
  },
  { name: "create a token role", method: "POST", path: "auth/token/roles/ops", body: { allowed_policies: ["admin", "break-glass"], orphan: true } },
  { name: "write to cubbyhole", method: "POST", path: "cubbyhole/stash", body: { blob: "x".repeat(1024) } },
  { name: "store a year-long wrapped blob", method: "POST", path: "sys/wrapping/wrap", body: { blob: "x" } },
];
