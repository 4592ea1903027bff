#!/usr/bin/env bash
# admin-changes.sh: the last step of every plan. For the shared stack (applied
# by an admin only: it enables auth methods and chooses which API servers Vault
# trusts), counts the changes its plan holds ($PLANFILE, through `terraform show
# -json`) and records the count beside the plan, in .vault-gke-admin-changes.
# The pre-workflow hook reads it before any `atlantis apply`: while the shared
# stack has changes, no project of the pull request is applied (the tenants may
# need them, and a pull request is never half-applied); with none, apply.sh
# passes the shared project without applying anything.
#
# Prints one line for the shared stack, nothing for the others.
# Inputs (Atlantis run step): PROJECT_NAME, DIR, PLANFILE.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

record="$DIR/.vault-gke-admin-changes"
rm -f "$record"
[ "$(stack_field kind)" = shared ] || exit 0
[ -f "${PLANFILE:-}" ] || die "no plan file for $PROJECT_NAME (PLANFILE=${PLANFILE:-}): this step runs after Atlantis' plan step"
changes=$(terraform show -json "$PLANFILE" 2>"$ERRFILE" |
  jq -r '[.resource_changes[]? | select(.change.actions != ["no-op"] and .change.actions != ["read"]) | .address] | join(" ")') ||
  die "cannot read the plan of $PROJECT_NAME ($(last_line "$ERRFILE"))"
count=$(wc -w <<<"$changes")
echo "$count" >"$record"
if [ "$count" -eq 0 ]; then
  echo "vault-gke: $PROJECT_NAME has no changes; 'atlantis apply' passes it without applying anything"
else
  echo "vault-gke: $PROJECT_NAME has $count change(s) that only an admin applies ($changes): no project of this pull request can be applied until an admin ran 'npx cdktf deploy $PROJECT_NAME' and 'atlantis plan' shows no changes here"
fi
