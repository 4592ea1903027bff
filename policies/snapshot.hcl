# snapshot: held by the snapshot CronJob's tokens only (Kubernetes service
# account vault-snapshot in Vault's own namespace, logging in at auth/in-cluster
# with role snapshot). It can read a Raft snapshot and nothing else: no secret,
# policy or auth configuration. Its tokens do not get the built-in default
# policy (which would let it renew or look up any lease by its id): it may look
# its own token up, and the job revokes it when it is done.
# A snapshot is sealed data: it is useless without the unseal or KMS keys,
# which this identity never holds.
path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
