# snapshot: held by the snapshot CronJob's tokens only (Kubernetes service
# account vault-snapshot in Vault's own namespace, logging in at auth/in-cluster
# with role snapshot). It can read a Raft snapshot and nothing else: no secret,
# policy or auth configuration. Its tokens also get the built-in default policy
# (the job revokes its token with auth/token/revoke-self, which that allows).
# A snapshot is sealed data: it is useless without the unseal or KMS keys,
# which this identity never holds.
path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}
