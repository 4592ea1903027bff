#!/usr/bin/env bash
# deploy-tenants.sh ENVIRONMENT: `cdktf deploy` of the environment's tenant
# stacks, one at a time from the existing synth (cdktf.out), each with:
#   VAULT_CACERT              the vault stack's CA (vault-ca.sh),
#   VAULT_TOKEN               a fresh login at auth/runner (vault-token.sh apply) with an
#                             ID token minted right before it (the job may outlast an hour),
#   TF_VAR_postgres_password  the tenant's password, when its stack declares it,
# and revokes the login after the deploy, whether it succeeded or not. Never
# the shared stack. Stops at the first failing tenant.
# Inputs: VAULT_GKE_DELIVERY; gcloud credentials and VAULT_GKE_APPLY_SERVICE_ACCOUNT (see vault-token.sh).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: deploy-tenants.sh ENVIRONMENT" >&2; exit 2; }
bin="$(cd "$(dirname "$0")/../../deploy/atlantis/bin" && pwd)"
jq -e --arg e "$1" '.environments[$e]' "$VAULT_GKE_DELIVERY" >/dev/null ||
  { echo "deploy-tenants.sh: no environment '$1' in $VAULT_GKE_DELIVERY" >&2; exit 1; }
mapfile -t stacks < <(jq -er --arg e "$1" '.environments[$e].stacks.tenants[]' "$VAULT_GKE_DELIVERY")
for stack in "${stacks[@]}"; do
  export PROJECT_NAME=$stack
  # Exported at once: the login below must already trust the vault stack's CA.
  VAULT_CACERT=$("$bin/vault-ca.sh")
  export VAULT_CACERT
  VAULT_TOKEN=$("$bin/vault-token.sh" apply)
  echo "::add-mask::$VAULT_TOKEN"
  TF_VAR_postgres_password=$("$bin/postgres-password.sh" apply)
  if [ -n "$TF_VAR_postgres_password" ]; then echo "::add-mask::$TF_VAR_postgres_password"; fi
  export VAULT_TOKEN TF_VAR_postgres_password
  status=0
  # Its database connections are writable once Vault's provisioner policy pins them (the vault stack, deployed before).
  { "$bin/wait-for-pins.sh" && npx cdktf deploy --skip-synth --auto-approve "$stack"; } || status=$?
  "$bin/revoke-token.sh"
  unset VAULT_TOKEN TF_VAR_postgres_password
  if [ "$status" -ne 0 ]; then
    echo "::error::cdktf deploy $stack failed (exit $status)"
    exit "$status"
  fi
done
echo "deployed ${#stacks[@]} tenant stack(s) of $1"
# What Vault's ACLs cannot refuse, checked once after the applies (with the read-only plan token).
if [ "${#stacks[@]}" -gt 0 ]; then
  # Every tenant file: this job deployed them all from main.
  VAULT_GKE_VERIFY_TENANTS=all PROJECT_NAME=${stacks[0]} "$bin/verify.sh"
fi
