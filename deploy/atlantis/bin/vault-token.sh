#!/usr/bin/env bash
# vault-token.sh plan|apply: prints the Vault token one Terraform run of the
# stack $PROJECT_NAME needs, for VAULT_TOKEN (an Atlantis env step, or a CI step).
#
#   plan,  shared or tenant stack: the read-only plan token, read from Secret
#          Manager <env>-vault-plan-token (JSON, format vault-gke/plan-token/v1,
#          field .token). It can write nothing in Vault.
#   apply, tenant stack: a fresh login at auth/runner, role provisioner, with a
#          Google-signed ID token minted now, whose audience is the Vault address
#          and which carries the email of the apply service account
#          (gcloud auth print-identity-token --audiences=<address> --include-email
#          --impersonate-service-account=<$VAULT_GKE_APPLY_SERVICE_ACCOUNT, or the
#          environment's only apply service account>). The token lives minutes;
#          revoke-token.sh revokes it after the apply.
#   apply, shared stack: an empty line. It enables auth methods and decides which
#          API servers Vault trusts: an admin applies it with their own login, and
#          the runners' apply.sh applies nothing there.
#   platform and vault stacks: an empty line (no Vault provider).
#
# Prints exactly the token on stdout and nothing on stderr when it succeeds;
# on any failure exits non-zero with one line on stderr and nothing on stdout.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh), VAULT_CACERT
# (from vault-ca.sh; empty: the system's CAs), VAULT_GKE_APPLY_SERVICE_ACCOUNT.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

phase=${1:-}
case $phase in
  plan | apply) ;;
  *) die "usage: vault-token.sh plan|apply (got '${phase}')" ;;
esac

kind=$(stack_field kind)
case $kind in
  platform | vault) echo; exit 0 ;;
esac

env_name=$(stack_field environment)
address=$(env_field .vaultAddress)

# apply, shared stack: no credential. apply.sh applies nothing there (an admin applies it).
if [ "$phase" = apply ] && [ "$kind" = shared ]; then
  echo
  exit 0
fi

if [ "$phase" = plan ]; then
  project=$(env_field .project)
  secret=$(env_field .planTokenSecret)
  record=$(gcloud secrets versions access latest --project="$project" --secret="$secret" 2>"$ERRFILE") ||
    die "cannot read the plan token from Secret Manager $project/$secret ($(last_line "$ERRFILE")): grant this identity roles/secretmanager.secretAccessor on that secret (delivery.planServiceAccounts), and check that the bootstrap sidecar has stored it"
  token=$(jq -er 'select(.format == "vault-gke/plan-token/v1") | .token | select(type == "string" and length > 0)' <<<"$record" 2>/dev/null) ||
    die "$project/$secret does not hold a plan token record (format vault-gke/plan-token/v1 with a token); see the bootstrap sidecar's log in environment $env_name"
  printf '%s\n' "$token"
  exit 0
fi

# apply, tenant stack: a per-run login, with an ID token minted right now (Google's ID tokens
# live an hour: one minted before a long deploy would be expired by the last tenant).
auth_path=$(env_field .runnerAuthPath)
role=$(env_field .applyRole)
# Always impersonated: gcloud puts the email claim that auth/runner binds on into the token only
# for an impersonated service account; a GKE pod's own (Workload Identity) token may lack it.
sa=${VAULT_GKE_APPLY_SERVICE_ACCOUNT:-}
if [ -z "$sa" ]; then
  declared=$(env_field '.applyServiceAccounts | length')
  [ "$declared" = 1 ] ||
    die "VAULT_GKE_APPLY_SERVICE_ACCOUNT is not set and environment $env_name declares $declared apply service accounts: set it to the one of delivery.applyServiceAccounts this runner impersonates (it needs roles/iam.serviceAccountOpenIdTokenCreator on it)"
  sa=$(env_field '.applyServiceAccounts[0]')
fi
jwt=$(gcloud auth print-identity-token "--audiences=$address" --include-email "--impersonate-service-account=$sa" 2>"$ERRFILE") ||
  die "cannot get a Google ID token of $sa for audience $address ($(last_line "$ERRFILE")): this runner's identity needs roles/iam.serviceAccountOpenIdTokenCreator on $sa, one of delivery.applyServiceAccounts"
[[ $jwt =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] ||
  die "gcloud printed something that is not an ID token for audience $address; check the gcloud installation and account"

curl_tls=()
if [ -n "${VAULT_CACERT:-}" ]; then curl_tls=(--cacert "$VAULT_CACERT"); fi
# The JWT goes in the body through stdin (printf is a shell builtin), never on a command line.
response=$(printf '{"role":"%s","jwt":"%s"}' "$role" "$jwt" |
  curl --silent --show-error --max-time 30 "${curl_tls[@]}" --request POST --header 'Content-Type: application/json' \
    --data-binary @- --write-out '\n%{http_code}' "$address/v1/auth/$auth_path/login" 2>"$ERRFILE") ||
  die "cannot reach Vault at $address ($(last_line "$ERRFILE")): check the address, the network path and VAULT_CACERT"
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ]; then
  reason=$(jq -r '(.errors // []) | join("; ")' <<<"$body" 2>/dev/null || true)
  die "login at $address/v1/auth/$auth_path/login (role $role) refused with HTTP $status${reason:+: $reason}: the runner's service account must be in delivery.applyServiceAccounts and the shared stack ($(env_field .stacks.shared)) applied by an admin"
fi
token=$(jq -er '.auth.client_token | select(type == "string" and length > 0)' <<<"$body" 2>/dev/null) ||
  die "Vault answered the login at $address without a client token; check the $auth_path auth method"
printf '%s\n' "$token"
