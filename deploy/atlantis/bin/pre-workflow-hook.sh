#!/usr/bin/env bash
# pre-workflow-hook.sh: the Atlantis server's pre-workflow hook for vault-gke.
# Baked into the server image from main (/opt/vault-gke/bin); never run from a
# pull request's clone. Atlantis runs hooks BEFORE it checks any plan or apply
# requirement, with the server's whole environment (its apply identity), so no
# pull-request code may run here before a human approved that exact code:
#
# 1. Approval gate (GitHub API, read-only token): pull request $PULL_NUM must
#    have an APPROVED review of exactly $HEAD_COMMIT by a reviewer with write
#    access (author association OWNER, MEMBER or COLLABORATOR), and no such
#    reviewer's latest review may request changes. Atlantis' own `approved`
#    requirement also counts approvals of older commits; this does not.
# 2. Only then: `npm ci --ignore-scripts` (no lifecycle scripts) and one synth
#    into ci-cdktf.out/ (a folder git does not ignore, as Atlantis' CDKTF
#    guidance asks), both with a minimal environment (no server secret in the
#    variables; the code still runs as the server's user, after approval), their
#    output kept in a log file on the server, not in pull-request comments.
#    A commit already synthesized (plan, then apply) is not synthesized again.
#
# Prints one line. Exits non-zero with one line on stderr when it refuses or
# fails; run the server with --fail-on-pre-workflow-hook-error.
#
# Inputs (Atlantis): DIR (the clone), PULL_NUM, HEAD_COMMIT, BASE_REPO_OWNER,
# BASE_REPO_NAME, OUTPUT_STATUS_FILE (optional). Server environment:
# VAULT_GKE_GITHUB_TOKEN (read-only: "Pull requests: read" on this repository),
# VAULT_GKE_GITHUB_API_URL (default https://api.github.com).
set -euo pipefail

SYNTH_DIR=ci-cdktf.out
MARKER="$SYNTH_DIR/.vault-gke-synthesized-commit"
TRUSTED='["OWNER","MEMBER","COLLABORATOR"]'

die() {
  printf 'vault-gke: %s\n' "$*" >&2
  exit 1
}

for v in DIR PULL_NUM HEAD_COMMIT BASE_REPO_OWNER BASE_REPO_NAME; do
  [ -n "${!v:-}" ] || die "$v is not set: this script is Atlantis' pre-workflow hook"
done
[ -n "${VAULT_GKE_GITHUB_TOKEN:-}" ] ||
  die "VAULT_GKE_GITHUB_TOKEN is not set: give the Atlantis server a read-only GitHub token (Pull requests: read) for the approval gate"
api=${VAULT_GKE_GITHUB_API_URL:-https://api.github.com}
api=${api%/}

# --- 1. the approval gate -----------------------------------------------------
errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT
reviews='[]'
page=1
while :; do
  url="$api/repos/$BASE_REPO_OWNER/$BASE_REPO_NAME/pulls/$PULL_NUM/reviews?per_page=100&page=$page"
  # The token goes in a header through curl's config on stdin, never on a command line.
  response=$(printf 'header = "Authorization: Bearer %s"\n' "$VAULT_GKE_GITHUB_TOKEN" |
    curl --config - --silent --show-error --max-time 20 --header 'Accept: application/vnd.github+json' \
      --header 'X-GitHub-Api-Version: 2022-11-28' --write-out '\n%{http_code}' "$url" 2>"$errfile") ||
    die "cannot read the reviews of pull request #$PULL_NUM ($(tail -n 1 "$errfile")); not running anything before an approval of $HEAD_COMMIT can be checked"
  status=${response##*$'\n'}
  body=${response%$'\n'*}
  [ "$status" = 200 ] ||
    die "GitHub answered HTTP $status for the reviews of pull request #$PULL_NUM; not running anything before an approval of $HEAD_COMMIT can be checked (is VAULT_GKE_GITHUB_TOKEN valid?)"
  jq -e 'type == "array"' <<<"$body" >/dev/null 2>&1 ||
    die "GitHub's answer for the reviews of pull request #$PULL_NUM is not a list; not running anything"
  reviews=$(jq -c --argjson more "$body" '. + $more' <<<"$reviews")
  [ "$(jq 'length' <<<"$body")" -eq 100 ] || break
  page=$((page + 1))
done

# Each trusted reviewer's latest review that decides (APPROVED, CHANGES_REQUESTED, DISMISSED), in API order.
decisions=$(jq -c --argjson trusted "$TRUSTED" '
  reduce (.[] | select((.state == "APPROVED" or .state == "CHANGES_REQUESTED" or .state == "DISMISSED")
                       and (.author_association as $a | $trusted | index($a)))) as $r
    ({}; .[$r.user.login] = {state: $r.state, commit: $r.commit_id})' <<<"$reviews")
blockers=$(jq -r '[to_entries[] | select(.value.state == "CHANGES_REQUESTED") | "@" + .key] | join(", ")' <<<"$decisions")
[ -z "$blockers" ] || die "changes requested by $blockers: waiting for an approval of $HEAD_COMMIT"
approvers=$(jq -r --arg head "$HEAD_COMMIT" '[to_entries[] | select(.value.state == "APPROVED" and .value.commit == $head) | "@" + .key] | join(", ")' <<<"$decisions")
[ -n "$approvers" ] || die "waiting for an approval of $HEAD_COMMIT (approve the pull request at its latest commit, then comment 'atlantis plan')"

# --- 2. install and synthesize once --------------------------------------------
cd "$DIR"
commit=$(git rev-parse HEAD)
status_line() {
  echo "$1"
  if [ -n "${OUTPUT_STATUS_FILE:-}" ]; then echo "$1" >"$OUTPUT_STATUS_FILE"; fi
}
if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$commit" ]; then
  status_line "approved at ${HEAD_COMMIT:0:12} by $approvers; $SYNTH_DIR already synthesized"
  exit 0
fi

log="$DIR/.vault-gke-hook.log"
rm -rf "$SYNTH_DIR"
# Approved pull-request code runs from here on, with no server secret in its variables: only what npm and the synth need.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/home/atlantis}" "LANG=C.UTF-8" "CHECKPOINT_DISABLE=1" "CDKTF_OUTDIR=$DIR/$SYNTH_DIR")
for v in npm_config_registry npm_config_cache HTTPS_PROXY HTTP_PROXY NO_PROXY; do
  if [ -n "${!v:-}" ]; then clean_env+=("$v=${!v}"); fi
done
"${clean_env[@]}" npm ci --ignore-scripts --no-audit --no-fund >"$log" 2>&1 ||
  die "npm ci --ignore-scripts failed for ${HEAD_COMMIT:0:12}; run it locally to see why (the server keeps the output in $log)"
"${clean_env[@]}" npm run --ignore-scripts --silent synth >>"$log" 2>&1 ||
  die "the synth failed for ${HEAD_COMMIT:0:12}; run 'npm ci --ignore-scripts && npm run synth' locally to see why (the server keeps the output in $log)"
[ -f "$SYNTH_DIR/manifest.json" ] && [ -f "$SYNTH_DIR/vault-gke-delivery.json" ] ||
  die "the synth wrote no $SYNTH_DIR/manifest.json and vault-gke-delivery.json for ${HEAD_COMMIT:0:12}; check CDKTF_OUTDIR handling in main.ts"
echo "$commit" >"$MARKER"
status_line "approved at ${HEAD_COMMIT:0:12} by $approvers; synthesized $(jq '.stacks | length' "$SYNTH_DIR/manifest.json") stacks into $SYNTH_DIR"
