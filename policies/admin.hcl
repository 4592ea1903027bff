# admin: operators who log in through GCP auth (role admin, their Google
# service accounts). Daily operation only: auth methods, secrets engines,
# operators' own policies (named ops-*), leases, Raft health and snapshots,
# step-down. They get no standing read of tenants' secret data. What can lose
# data, hide requests or rewrite the limits of the automation (restoring a
# snapshot, removing a Raft peer, sealing, the policies vault-gke owns, the
# auth methods the stacks declare, audit devices) is in break-glass.hcl, which
# no daily login carries; disabling audit is in neither (root from
# generate-root only). Whoever may write policies and auth roles can grant
# themselves anything through them: Vault cannot refuse that for the auth
# methods an operator adds without taking daily work away, so the verifier
# reports each such route (an undeclared auth method, a declared role bound to
# other identities or policies, a token role); README: threat model.

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
# The auth methods the stacks declare decide who logs in as the automation and
# as tenants: their mount, configuration (issuer, keys, API server, CA,
# reviewer) and roles are read-only here. A new key for auth/runner would let
# an admin sign its own apply token; a wider tenant role would let any pod in.
# The shared stack writes them with a break-glass login (break-glass.hcl).
path "sys/auth/runner" {
  capabilities = ["read"]
}
path "sys/auth/runner/*" {
  capabilities = ["read"]
}
path "sys/auth/in-cluster" {
  capabilities = ["read"]
}
path "sys/auth/in-cluster/*" {
  capabilities = ["read"]
}
path "sys/auth/gcp" {
  capabilities = ["read"]
}
path "sys/auth/gcp/*" {
  capabilities = ["read"]
}
path "sys/auth/kubernetes-*" {
  capabilities = ["read"]
}
path "auth/runner/*" {
  capabilities = ["read", "list"]
}
path "auth/in-cluster/*" {
  capabilities = ["read", "list"]
}
path "auth/gcp/*" {
  capabilities = ["read", "list"]
}
path "auth/kubernetes-*" {
  capabilities = ["read", "list"]
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

# Policies: operators' own, named ops-<name>. Every other name is read-only
# here: the policies vault-gke owns (the sidecar writes them from policies/ and
# renders tenant-* from each tenant's engines; changing them by hand is
# break-glass) under any spelling, because Vault lowercases and trims a policy
# name after the ACL matched the path as written (sys/policies/acl/Admin
# rewrites admin), while a path under ops- can only name an ops- policy.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read", "list"]
}
path "sys/policies/acl/ops-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Audit devices: list only. Adding one is not daily work and can leak: a
# socket or file device with log_raw receives every client token in plain
# text. The sidecar enables the shipped devices with root; disabling one is in
# no policy.
path "sys/audit" {
  capabilities = ["read", "sudo"]
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
# Autopilot: its state (the rolling upgrade reads it) and its settings, read only:
# with cleanup_dead_servers on, autopilot would remove peers for whoever set it,
# and removing a peer is break-glass.
path "sys/storage/raft/autopilot/state" {
  capabilities = ["read"]
}
path "sys/storage/raft/autopilot/configuration" {
  capabilities = ["read"]
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
