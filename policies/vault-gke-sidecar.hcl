# vault-gke-sidecar: the bootstrap sidecar's own token (in Secret Manager, read
# only by the Vault pods' Google identity). It renders every tenant-* policy
# from that tenant's engines, so no runner credential ever writes a policy, and
# it runs the verifier on a schedule. Everything it reads the plan token reads
# too; it writes tenant-* policies and nothing else.

path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/mounts/auth/+/tune" {
  capabilities = ["read"]
}
path "tenants/+/transit/keys/" {
  capabilities = ["list"]
}
path "tenants/+/database/roles/" {
  capabilities = ["list"]
}
# Which cluster or issuer each backend trusts (the verifier compares it; Vault never returns reviewer JWTs or keys here)
path "auth/+/config" {
  capabilities = ["read"]
}
path "auth/+/role/" {
  capabilities = ["list"]
}
path "auth/+/role/+" {
  capabilities = ["read"]
}
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}
path "sys/policies/acl/tenant-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
# The sidecar logs the Raft peers when Vault's state changes.
path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}

# Its own token (minted without the default policy)
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
# What else the verifier checks: token roles, KV settings, database connections and roles, audit devices
path "auth/token/roles/" {
  capabilities = ["list"]
}
path "auth/token/roles/+" {
  capabilities = ["read"]
}
path "tenants/+/kv/config" {
  capabilities = ["read"]
}
path "tenants/+/database/config/" {
  capabilities = ["list"]
}
path "tenants/+/database/config/+" {
  capabilities = ["read"]
}
path "tenants/+/database/roles/+" {
  capabilities = ["read"]
}
# The audit devices (listing them needs sudo; enabling one is another path, not granted)
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
