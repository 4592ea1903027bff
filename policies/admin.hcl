# admin: operators who log in through GCP auth (their Google service accounts).
# They run Vault: auth methods, secrets engines, policies, audit, leases, Raft
# snapshots and step-down. They get no standing read of tenants' secret data.

# Auth methods and their configuration and roles
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/auth/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "auth/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Secrets engines (mounts) and their tuning
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Policies
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Audit devices (where the server allows them through the API)
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
path "sys/audit/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}

# Leases: look up and revoke
path "sys/leases/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

# Raft: peers, snapshots, autopilot
path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}
path "sys/storage/raft/remove-peer" {
  capabilities = ["update"]
}
path "sys/storage/raft/snapshot" {
  capabilities = ["read", "update"]
}
path "sys/storage/raft/snapshot-force" {
  capabilities = ["update"]
}
path "sys/storage/raft/autopilot/*" {
  capabilities = ["read", "update"]
}

# Leadership and health
path "sys/step-down" {
  capabilities = ["update", "sudo"]
}
path "sys/leader" {
  capabilities = ["read"]
}
path "sys/seal-status" {
  capabilities = ["read"]
}
path "sys/metrics" {
  capabilities = ["read"]
}

# Their own token
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
