# shellcheck shell=bash
# Shared by the vault-gke runner scripts (sourced, never run): finds the stack
# that Atlantis ($PROJECT_NAME) or a CI job is working on in the synthesized
# delivery manifest, and fails loudly. Prints nothing itself.
#
# Inputs: PROJECT_NAME (the stack), and VAULT_GKE_DELIVERY (the manifest's
# path) or DIR (Atlantis: the project dir ci-cdktf.out/stacks/<stack>, so the
# manifest is ../../vault-gke-delivery.json).

# die MESSAGE: one line on stderr, exit 1. Messages name the thing and the fix, never a secret.
die() {
  printf 'vault-gke: %s\n' "$*" >&2
  exit 1
}

[ -n "${PROJECT_NAME:-}" ] || die "PROJECT_NAME is not set: run this from an Atlantis step or set it to the stack name"
if [ -z "${VAULT_GKE_DELIVERY:-}" ]; then
  [ -n "${DIR:-}" ] || die "neither VAULT_GKE_DELIVERY nor DIR is set: point VAULT_GKE_DELIVERY at <synth outdir>/vault-gke-delivery.json"
  VAULT_GKE_DELIVERY="$DIR/../../vault-gke-delivery.json"
fi
[ -f "$VAULT_GKE_DELIVERY" ] || die "$VAULT_GKE_DELIVERY is missing: synthesize first (npm run synth writes it)"
# The synthesized folder: <outdir>/stacks/<stack>/cdk.tf.json beside the manifest.
SYNTH_OUTDIR=$(cd "$(dirname "$VAULT_GKE_DELIVERY")" && pwd)

# stack_field NAME: a field of this stack's entry (.stacks[PROJECT_NAME]).
stack_field() {
  jq -er --arg s "$PROJECT_NAME" --arg f "$1" '.stacks[$s][$f] // empty' "$VAULT_GKE_DELIVERY" ||
    die "$PROJECT_NAME has no '$1' in $VAULT_GKE_DELIVERY: is it a stack of this synth? (npm run synth, then npm run atlantis)"
}

# env_field JQ_PATH: a field of this stack's environment (.environments[env]), e.g. env_field .vaultAddress
env_field() {
  local env
  env=$(stack_field environment)
  jq -er --arg e "$env" ".environments[\$e]$1 // empty" "$VAULT_GKE_DELIVERY" ||
    die "environment $env has no $1 in $VAULT_GKE_DELIVERY; rerun the synth"
}

# stack_json NAME: the synthesized Terraform JSON of a stack.
stack_json() {
  local file="$SYNTH_OUTDIR/stacks/$1/cdk.tf.json"
  [ -f "$file" ] || die "$file is missing; rerun the synth"
  printf '%s\n' "$file"
}

# last_line FILE: the last non-empty line of FILE (a tool's error), for one-line messages.
last_line() {
  grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 || true
}

ERRFILE=$(mktemp)
trap 'rm -f "$ERRFILE"' EXIT
