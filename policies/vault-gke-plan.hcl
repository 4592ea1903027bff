# vault-gke-plan: the read-only plan token. The bootstrap sidecar keeps it in
# Secret Manager (<env>-vault-plan-token) for runners' plans: pull-request CI
# before anyone approved, and Atlantis' plan steps. Pull-request code can reach
# it, so it reads configuration only: no secret data, no issued credential, no
# key material, and no write anywhere (it cannot even create a child token:
# plans run with TERRAFORM_VAULT_SKIP_CHILD_TOKEN=true). The verifier reads
# with it too.

# Mounts and auth methods, and their settings
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/tenants/+/+" {
  capabilities = ["read"]
}
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/mounts/auth/+" {
  capabilities = ["read"]
}
path "sys/mounts/auth/+/tune" {
  capabilities = ["read"]
}

# Tenant engines' settings (never data, credentials or key material)
path "tenants/+/kv/config" {
  capabilities = ["read"]
}
path "tenants/+/transit/keys/" {
  capabilities = ["list"]
}
path "tenants/+/transit/keys/+" {
  capabilities = ["read"]
}
path "tenants/+/database/config/+" {
  capabilities = ["read"]
}
path "tenants/+/database/roles/" {
  capabilities = ["list"]
}
path "tenants/+/database/roles/+" {
  capabilities = ["read"]
}

# Auth methods' configuration and roles (Vault never returns reviewer JWTs or keys here)
path "auth/+/config" {
  capabilities = ["read"]
}
path "auth/+/role/" {
  capabilities = ["list"]
}
path "auth/+/role/+" {
  capabilities = ["read"]
}

# Policies
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}

# Its own token: look it up (plans and the verifier check it) and renew it (the
# sidecar does). It is minted without the default policy, so it cannot revoke
# itself or write cubbyhole or wrapping storage.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
# Token roles and KV settings, for the verifier
path "auth/token/roles/" {
  capabilities = ["list"]
}
path "auth/token/roles/+" {
  capabilities = ["read"]
}
path "tenants/+/database/config/" {
  capabilities = ["list"]
}
# Raft autopilot's settings: a refresh of the shared stack reads them
path "sys/storage/raft/autopilot/configuration" {
  capabilities = ["read"]
}

# The audit devices the verifier compares (listing them needs sudo; enabling one is another path, not granted)
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
