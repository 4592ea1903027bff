#!/usr/bin/env bash
# apply.sh: the apply step of every project (instead of Atlantis' built-in one,
# which would apply the shared stack's plan too).
#   shared stack: applies nothing. With no changes in its plan (see
#     admin-changes.sh) it succeeds, so the tenants that depend on it go on;
#     with changes it fails (the pre-workflow hook already refused the apply).
#   any other stack: terraform apply of the plan Atlantis made, then removes the
#     plan file, as Atlantis' own apply step does (a plain `atlantis apply`
#     applies every plan file it finds). A tenant stack first waits until
#     Vault's provisioner policy pins its database connections (wait-for-pins.sh).
# Inputs (Atlantis run step): PROJECT_NAME, DIR, PLANFILE, and what the
# providers need (VAULT_TOKEN, VAULT_CACERT, TF_VAR_*, Google credentials).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[ -f "${PLANFILE:-}" ] || die "no plan of $PROJECT_NAME to apply: comment 'atlantis plan' first"
if [ "$(stack_field kind)" = shared ]; then
  count=$(cat "$DIR/.vault-gke-admin-changes" 2>/dev/null) || die "$PROJECT_NAME's plan has no recorded change count: comment 'atlantis plan' again"
  [ "$count" = 0 ] ||
    die "$PROJECT_NAME has $count change(s) that only an admin applies: an admin runs 'npx cdktf deploy $PROJECT_NAME', then comment 'atlantis plan' and 'atlantis apply'"
  rm -f "$PLANFILE"
  echo "vault-gke: $PROJECT_NAME has no changes; nothing applied (an admin applies this stack)"
  exit 0
fi
# A tenant stack's database connections are writable only once Vault's provisioner policy pins their addresses.
"$(dirname "$0")/wait-for-pins.sh"
TF_IN_AUTOMATION=1 terraform apply -input=false -no-color "$PLANFILE"
rm -f "$PLANFILE"
