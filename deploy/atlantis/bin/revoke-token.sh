#!/usr/bin/env bash
# revoke-token.sh: after an approved apply of a tenant stack, revokes the
# apply token that vault-token.sh apply obtained (VAULT_TOKEN), so it does not
# outlive the run (it would expire within its 15 minutes anyway). An Atlantis
# run step or a CI step.
#
# Prints one line saying what it did. A failed revocation is reported, not
# fatal: the apply already happened, and the token expires by itself.
# Does nothing for other stacks or without VAULT_TOKEN.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh), VAULT_TOKEN, VAULT_CACERT.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

kind=$(stack_field kind)
if [ "$kind" != tenant ] || [ -z "${VAULT_TOKEN:-}" ]; then
  exit 0
fi
address=$(env_field .vaultAddress)
curl_tls=()
if [ -n "${VAULT_CACERT:-}" ]; then curl_tls=(--cacert "$VAULT_CACERT"); fi
# The token goes in a header through curl's config on stdin, never on a command line.
if printf 'header = "X-Vault-Token: %s"\n' "$VAULT_TOKEN" |
  curl --config - --silent --show-error --fail --max-time 15 "${curl_tls[@]}" --request PUT \
    --output /dev/null "$address/v1/auth/token/revoke-self" 2>"$ERRFILE"; then
  echo "vault-gke: revoked this run's apply token"
else
  echo "vault-gke: could not revoke this run's apply token ($(last_line "$ERRFILE")); it expires by itself within 15 minutes"
fi
