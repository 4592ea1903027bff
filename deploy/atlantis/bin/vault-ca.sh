#!/usr/bin/env bash
# vault-ca.sh: prints the path of the CA file that verifies Vault's TLS
# certificate, for VAULT_CACERT (an Atlantis env step, or a CI step).
#
# - shared and tenant stacks, when the vault stack generates its TLS (it has
#   the vault_ca_certificate output): reads that output from the vault stack's
#   state in GCS (`gcloud storage cat`; the runner needs
#   roles/storage.objectViewer on the state bucket), writes it to
#   <stack dir>/vault-ca.pem and prints that path;
# - shared and tenant stacks otherwise (TLS from an existing secret): prints
#   $VAULT_GKE_VAULT_CACERT, or an empty line to trust the system's CAs;
# - platform and vault stacks (no Vault provider): prints an empty line.
#
# Prints exactly the value on stdout and nothing on stderr when it succeeds;
# on any failure exits non-zero with one line on stderr and nothing on stdout.
# Inputs: PROJECT_NAME, VAULT_GKE_DELIVERY or DIR (see lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

kind=$(stack_field kind)
case $kind in
  platform | vault) echo; exit 0 ;;
esac

vault_stack=$(env_field .stacks.vault)
vault_json=$(stack_json "$vault_stack")
if ! jq -e '.output.vault_ca_certificate' "$vault_json" >/dev/null; then
  printf '%s\n' "${VAULT_GKE_VAULT_CACERT:-}"
  exit 0
fi

bucket=$(env_field .vaultState.bucket)
object=$(env_field .vaultState.object)
state=$(gcloud storage cat "gs://$bucket/$object" 2>"$ERRFILE") ||
  die "cannot read the $vault_stack state gs://$bucket/$object ($(last_line "$ERRFILE")): apply $vault_stack first, and give this identity roles/storage.objectViewer on the state bucket"
pem=$(jq -er '.outputs.vault_ca_certificate.value | select(type == "string" and startswith("-----BEGIN CERTIFICATE-----"))' <<<"$state" 2>/dev/null) ||
  die "the $vault_stack state gs://$bucket/$object has no vault_ca_certificate output: apply $vault_stack first"

file="$SYNTH_OUTDIR/stacks/$PROJECT_NAME/vault-ca.pem"
printf '%s\n' "$pem" >"$file"
printf '%s\n' "$file"
