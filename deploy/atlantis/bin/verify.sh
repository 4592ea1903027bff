#!/usr/bin/env bash
# verify.sh: after an approved apply of a tenant or shared stack, runs the
# verifier (`npm run verify`, the same check the sidecar runs every 5 minutes)
# with the read-only plan token: one line per finding, and exit 1 when Vault
# holds access that no stack declares (a role bound to another policy, an
# edited tenant policy, an undeclared auth method, ...). An Atlantis run step
# or a CI step, after the apply (and after revoke-token.sh).
# Does nothing for the platform and vault stacks.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh), VAULT_CACERT,
# what vault-token.sh plan needs (gcloud credentials that may read the plan
# token), and VAULT_GKE_REPO (the repository's root; default: the folder above
# the synth's output, as in Atlantis and CI).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

kind=$(stack_field kind)
case "$kind" in
  tenant | shared) ;;
  *) exit 0 ;;
esac
environment=$(stack_field environment)
address=$(env_field .vaultAddress)
token=$("$(dirname "$0")/vault-token.sh" plan)
# The synth's folder (ci-cdktf.out or cdktf.out) sits at the repository's root.
cd "${VAULT_GKE_REPO:-$SYNTH_OUTDIR/..}"
# After one project's apply, only that tenant's file is compared (none after the shared stack's): other pull
# requests' tenants may be applied and not merged yet, and this run's later tenants are not applied yet. The
# scheduled verify.yml compares every file on main.
if [ "$kind" = tenant ]; then only=$(stack_field tenant); else only=none; fi
VAULT_GKE_VERIFY_TENANTS="${VAULT_GKE_VERIFY_TENANTS:-$only}" VAULT_TOKEN="$token" VAULT_ADDR="$address" npm run --silent verify -- "$environment"
