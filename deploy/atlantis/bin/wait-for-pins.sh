#!/usr/bin/env bash
# wait-for-pins.sh: before a tenant stack's apply (apply.sh calls it), waits
# until the provisioner policy in Vault pins each database connection the
# stack writes to the address the stack sends it. A tenant file that adds or
# moves a database changes the vault stack's provisioner policy too; Atlantis
# applies the vault stack first, and the sidecar writes the new policy into
# Vault on its next pass after the kubelet updates the policies ConfigMap
# (about a minute). Without this wait, Vault would refuse the connection write
# halfway through the tenant's apply.
# Does nothing for other stacks, or for a tenant stack without a database.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh), VAULT_TOKEN
# (the run's apply token: it may read its own policy), VAULT_CACERT, and
# VAULT_GKE_PIN_WAIT_SECONDS (default 300).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[ "$(stack_field kind)" = tenant ] || exit 0
tenant=$(stack_field tenant)
connections=$(jq -c '[(.resource.vault_database_secret_backend_connection // {}) | to_entries[] | .value | {name, url: .postgresql.connection_url}]' "$(stack_json "$PROJECT_NAME")")
[ "$(jq length <<<"$connections")" -gt 0 ] || exit 0
[ -n "${VAULT_TOKEN:-}" ] || die "VAULT_TOKEN is not set: run vault-token.sh apply first"
wait_seconds=${VAULT_GKE_PIN_WAIT_SECONDS:-300}
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "VAULT_GKE_PIN_WAIT_SECONDS is '$wait_seconds'; give whole seconds, such as 300"
address=$(env_field .vaultAddress)
curl_tls=()
if [ -n "${VAULT_CACERT:-}" ]; then curl_tls=(--cacert "$VAULT_CACERT"); fi

# The connections whose pinned rule (as policies/index.ts renders it) is not in the policy text on stdin.
unpinned() {
  jq -r --arg t "$tenant" --argjson connections "$connections" '
    (.data.policy // "") as $policy
    | $connections[] as $c
    | select($policy | contains("path \"tenants/\($t)/database/config/\($c.name)\" {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\"]\n  allowed_parameters = {\n    \"plugin_name\"    = [\"postgresql-database-plugin\"]\n    \"connection_url\" = [\($c.url | tojson)]\n") | not)
    | "tenants/\($t)/database/config/\($c.name)"'
}

deadline=$((SECONDS + wait_seconds))
while :; do
  # The token goes in a header through curl's config on stdin, never on a command line.
  if body=$(printf 'header = "X-Vault-Token: %s"\n' "$VAULT_TOKEN" |
    curl --config - --silent --show-error --fail --max-time 15 "${curl_tls[@]}" "$address/v1/sys/policies/acl/provisioner" 2>"$ERRFILE"); then
    missing=$(unpinned <<<"$body" | paste -sd, -)
    [ -n "$missing" ] || exit 0
    reason="the provisioner policy in Vault does not pin $missing to the address this stack sends yet"
  else
    reason="reading the provisioner policy failed ($(last_line "$ERRFILE"))"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    die "$reason after ${wait_seconds}s; nothing of $PROJECT_NAME was applied. The vault stack's policies reach Vault on the sidecar's next pass after the kubelet updates the vault-policies ConfigMap: check that the vault stack was applied and the sidecar's log ('policies written'), then comment 'atlantis apply' again"
  fi
  echo "vault-gke: $reason; waiting (up to ${wait_seconds}s)"
  sleep 5
done
