# break-glass: what daily operation never needs, for emergencies only. A login
# carries it only through auth/gcp role break-glass, bound to Google service
# accounts nobody may impersonate until a second person grants it for the
# incident (or through a short-lived root from generate-root with a quorum of
# key holders). Every request is in the audit log, and disabling an audit
# device is not granted here either (it takes root from generate-root); alert on
# any login with this policy (README: break glass). Logins get admin and
# break-glass together.

# Restore a snapshot (overwrites every secret) and remove Raft peers
path "sys/storage/raft/snapshot" {
  capabilities = ["read", "update"]
}
path "sys/storage/raft/snapshot-force" {
  capabilities = ["update"]
}
path "sys/storage/raft/remove-peer" {
  capabilities = ["update"]
}
# Autopilot's settings (the shared stack declares them; cleanup_dead_servers removes peers)
path "sys/storage/raft/autopilot/configuration" {
  capabilities = ["read", "update"]
}

# The policies vault-gke owns (the sidecar writes them back from policies/ when
# its policies change, and renders tenant-* again). Listed by name: a rule for
# an exact path outranks admin.hcl's read-only wildcard.
path "sys/policies/acl/admin" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/break-glass" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/provisioner" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/generate-root" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/default" {
  capabilities = ["create", "read", "update"]
}
path "sys/policies/acl/snapshot" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/vault-gke-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "sys/policies/acl/tenant-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# The auth methods the stacks declare (read-only in admin.hcl): changes of the
# shared stack to them are applied with this login. The same paths as
# admin.hcl's, so these capabilities join those rules.
path "sys/auth/runner" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/runner/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/in-cluster" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/in-cluster/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/gcp" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/gcp/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/auth/kubernetes-*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "auth/runner/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "auth/in-cluster/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "auth/gcp/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "auth/kubernetes-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Seal the vault, rotate the encryption key, rekey
path "sys/seal" {
  capabilities = ["update", "sudo"]
}
path "sys/rotate" {
  capabilities = ["update", "sudo"]
}
path "sys/rekey/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "sys/rekey-recovery-key/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
