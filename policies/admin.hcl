# admin: operators who log in through GCP auth (role admin, their Google
# service accounts). Daily operation only: auth methods, secrets engines,
# operators' own policies, leases, Raft health and snapshots, step-down. They
# get no standing read of tenants' secret data. What can lose data or rewrite
# the limits of the automation (restoring a snapshot, removing a Raft peer,
# sealing, the policies vault-gke owns) is in break-glass.hcl, which no daily
# login carries; disabling audit is in neither (root from generate-root only).
# Whoever may write policies and auth roles can grant themselves anything
# through them: Vault cannot refuse that without taking daily work away, so the
# verifier reports each such route (an undeclared auth method, a declared role
# bound to other identities or policies, a token role); README: threat model.

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
# Token roles can mint tokens with any policies (break-glass included) and no
# parent: reading them is daily work, writing or using one is not.
path "auth/token/roles" {
  capabilities = ["list"]
}
path "auth/token/roles/*" {
  capabilities = ["read", "list"]
}
path "auth/token/create/*" {
  capabilities = ["deny"]
}
# An orphan token outlives the login it came from (up to the system's 32-day
# ceiling); a child token dies with the admin's own 30-minute token.
path "auth/token/create-orphan" {
  capabilities = ["deny"]
}

# Secrets engines (mounts) and their tuning
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Policies: operators' own. The policies vault-gke owns are read-only here: the
# sidecar writes them from policies/ and renders tenant-* from each tenant's
# engines; changing them by hand is break-glass.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "sys/policies/acl/admin" {
  capabilities = ["read"]
}
path "sys/policies/acl/break-glass" {
  capabilities = ["read"]
}
path "sys/policies/acl/provisioner" {
  capabilities = ["read"]
}
path "sys/policies/acl/generate-root" {
  capabilities = ["read"]
}
path "sys/policies/acl/default" {
  capabilities = ["read"]
}
path "sys/policies/acl/snapshot" {
  capabilities = ["read"]
}
path "sys/policies/acl/vault-gke-*" {
  capabilities = ["read", "list"]
}
path "sys/policies/acl/tenant-*" {
  capabilities = ["read", "list"]
}

# Audit devices: list and add (where the server allows them through the API);
# disabling one is break-glass.
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
path "sys/audit/*" {
  capabilities = ["create", "read", "update", "sudo"]
}

# Leases: look up and revoke
path "sys/leases/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

# Raft: peers, snapshots (taking one; restoring is break-glass), autopilot
path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}
path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
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
