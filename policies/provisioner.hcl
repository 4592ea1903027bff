# provisioner: the token Atlantis/CI uses to apply the tenants stack. It manages
# exactly what that stack declares (tenant auth methods, the admins' GCP auth,
# tenant secrets engines and their roles, tenant policies) and nothing more:
# it never reads secret data, and it can write only policies named tenant-*,
# so it cannot rewrite its own policy or the admin policy.

# The child token the Vault provider creates for each run
path "auth/token/create" {
  capabilities = ["create", "update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Auth methods: tenant Kubernetes backends (kubernetes-<tenant>) and the admins' GCP backend
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/auth/kubernetes-*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/gcp" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/mounts/auth/kubernetes-*" {
  capabilities = ["read", "update"]
}
path "sys/mounts/auth/gcp" {
  capabilities = ["read", "update"]
}
# Everything inside the tenant Kubernetes backends: their config and roles.
# (Vault's "+" matches a whole path segment only, so the prefix glob is the narrowest form.)
path "auth/kubernetes-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "auth/gcp/config" {
  capabilities = ["create", "read", "update", "delete"]
}
path "auth/gcp/role/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Tenant secrets engines live under tenants/<tenant>/
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/tenants/*" {
  capabilities = ["create", "read", "update", "delete"]
}
# KV v2: engine settings only, never data or metadata of secrets
path "tenants/+/kv/config" {
  capabilities = ["create", "read", "update"]
}
# Transit: key definitions only (key material is never exportable), no encrypt/decrypt
path "tenants/+/transit/keys/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
# Database: connections and roles, never issued credentials (creds/*)
path "tenants/+/database/config/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "tenants/+/database/roles/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Tenant policies only
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/tenant-*" {
  capabilities = ["create", "read", "update", "delete"]
}
