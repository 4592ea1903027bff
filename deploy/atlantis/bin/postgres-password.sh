#!/usr/bin/env bash
# postgres-password.sh plan|apply: prints the value of TF_VAR_postgres_password
# for one Terraform run of the stack $PROJECT_NAME (an Atlantis env step, or a
# CI step). The tenant stack declares it as an ephemeral variable: it is sent
# to Vault as a write-only attribute and never stored in a plan or the state.
#
#   a tenant stack that declares variable postgres_password:
#     plan:  the placeholder "plan-placeholder" (plans never see the password);
#     apply: the latest version of Secret Manager <env>-tenant-postgres-<tenant>,
#            which holds the password itself (no JSON, no trailing newline);
#   any other stack: an empty line.
#
# Prints exactly the value on stdout and nothing on stderr when it succeeds;
# on any failure exits non-zero with one line on stderr and nothing on stdout.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PLACEHOLDER=plan-placeholder

phase=${1:-}
case $phase in
  plan | apply) ;;
  *) die "usage: postgres-password.sh plan|apply (got '${phase}')" ;;
esac

kind=$(stack_field kind)
if [ "$kind" != tenant ] || ! jq -e '.variable.postgres_password' "$(stack_json "$PROJECT_NAME")" >/dev/null; then
  echo
  exit 0
fi
if [ "$phase" = plan ]; then
  printf '%s\n' "$PLACEHOLDER"
  exit 0
fi

project=$(env_field .project)
secret="$(env_field .postgresPasswordSecretPrefix)$(stack_field tenant)"
password=$(gcloud secrets versions access latest --project="$project" --secret="$secret" 2>"$ERRFILE") ||
  die "cannot read tenant $(stack_field tenant)'s PostgreSQL password from Secret Manager $project/$secret ($(last_line "$ERRFILE")): create the secret with the password of the tenant's database user, and run this apply as one of delivery.applyServiceAccounts"
[ -n "$password" ] || die "Secret Manager $project/$secret is empty: add a version holding the PostgreSQL password"
[ "$password" != "$PLACEHOLDER" ] || die "Secret Manager $project/$secret holds the plan placeholder, not a password: add a version holding the real password"
printf '%s\n' "$password"
