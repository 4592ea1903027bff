# generate-root: held by the bootstrap sidecar after the initial root token is
# revoked. OpenBao (since 2.5.3) turns the unauthenticated sys/generate-root
# endpoints off; its authenticated replacement needs a token with this policy
# and a quorum of key shares. On its own this token can only start or cancel
# an attempt: the key shares live in Secret Manager.
path "sys/generate-root-token/attempt" {
  capabilities = ["read", "update", "delete"]
}
path "sys/generate-root-token/update" {
  capabilities = ["update"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
