# provisioner: the apply credential. A runner gets it for one approved apply by
# logging in at auth/runner (role provisioner) with a Google-signed ID token of
# an apply service account; it lives at most 20 minutes and is never stored.
# It manages what the tenant stacks declare, and Vault refuses everything else:
# - tenant engines under tenants/<tenant>/: created, never tuned or removed
#   (removing a tenant's engines destroys its data: that is an admin's destroy);
# - transit keys: created with safe settings only (never exportable, no
#   plaintext backup, no deletion), never deleted;
# - KV settings, database roles, and database connections at the address the
#   tenant's file declares (rendered at the end);
# - login roles on the registered clusters' backends (listed below, rendered
#   from tenancy.clusters), and nothing else of any auth method: no enabling,
#   no configuration, no tuning;
# - no policy at all: the sidecar renders every tenant-* policy from the
#   tenant's engines.
# It reads no secret data. What Vault's ACLs cannot refuse (a login role may
# name any policy; a mount's settings at creation) the verifier reports.

# Its own token (it has no default policy): the provider looks it up and makes
# a child token for the run (same policies, 20 minutes); the runner revokes it
# when the apply is done
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/create" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
# Its own policy: before a tenant stack's apply, the runner waits until the
# rules pinning that stack's database connections are in it (wait-for-pins.sh)
path "sys/policies/acl/provisioner" {
  capabilities = ["read"]
}

# Tenant engines: create and read, never tune (sys/mounts/<path>/tune is not
# granted) and never delete; each path takes only its own engine type (no
# kubernetes, pki or ssh engine where a tenant's KV is expected)
path "sys/mounts/tenants/+/kv" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type" = ["kv"]
    "*"    = []
  }
}
path "sys/mounts/tenants/+/transit" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type" = ["transit"]
    "*"    = []
  }
}
path "sys/mounts/tenants/+/database" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type" = ["database"]
    "*"    = []
  }
}

# KV v2: engine settings only, never data or metadata of secrets
path "tenants/+/kv/config" {
  capabilities = ["create", "read", "update"]
}

# Transit: keys with safe settings only; no delete, export, backup, trim or rotate
path "tenants/+/transit/keys/+" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type"                  = []
    "convergent_encryption" = [false]
    "derived"               = [false]
    "exportable"            = [false]
    "allow_plaintext_backup" = [false]
    "auto_rotate_period"    = []
    "key_size"              = []
    "parameter_set"         = []
    "hybrid_key_type_ec"    = []
    "hybrid_key_type_pqc"   = []
  }
}
path "tenants/+/transit/keys/+/config" {
  capabilities = ["update"]
  allowed_parameters = {
    "exportable"             = [false]
    "allow_plaintext_backup" = [false]
    "deletion_allowed"       = [false]
    "min_decryption_version" = []
    "min_encryption_version" = []
    # The Vault provider 5.x sends this misspelling when it creates a key.
    "min_encryption_versoin" = []
    "auto_rotate_period"     = []
  }
}

# Database: connections and roles, never issued credentials (creds/*).
# A connection is written only where a tenant file declares it, and only with
# the address that file declares (rendered at the end, one rule per
# connection): a write that pointed it at another server, even without the
# password, would have Vault send the password it holds there. Here: read and
# delete only (a plan refreshes, a destroy removes).
path "tenants/+/database/config/+" {
  capabilities = ["read", "delete"]
}
path "tenants/+/database/roles/+" {
  capabilities = ["create", "read", "update", "delete"]
}

# Login roles on the registered clusters' Kubernetes backends (appended below
# for each cluster in the environment's tenancy.clusters), with the settings a
# tenant stack sends and nothing else: no period (a periodic token would outlive
# the backend's ceiling), no legacy policies field, no other token settings.
# Which policies a role binds cannot be restricted: the verifier reports any
# role that binds more than tenant-<role>.
