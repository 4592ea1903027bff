#!/usr/bin/env bash
# pre-workflow-hook.sh: the Atlantis server's pre-workflow hook for vault-gke.
# Baked into the server image from main (/opt/vault-gke/bin); never run from a
# pull request's clone. Atlantis runs hooks BEFORE it checks any plan or apply
# requirement, with the server's whole environment (its apply identity), so no
# pull-request code may run here before a human approved that exact code:
#
# 1. Approval gate (GitHub API, read-only token): pull request $PULL_NUM must
#    have an APPROVED review of exactly $HEAD_COMMIT by a reviewer whose
#    permission on the repository is write or admin (asked per reviewer: the
#    review's author association does not tell), and no such reviewer's latest
#    review may request changes. Atlantis' own `approved` requirement also
#    counts approvals of older commits; this does not.
# 2. Only then: synth.sh (beside this script) installs the packages without
#    lifecycle scripts (cached per lock file, outside the clone) and
#    synthesizes into ci-cdktf.out/ (a folder git does not ignore, as Atlantis'
#    CDKTF guidance asks), with a minimal environment (no server secret in the
#    variables; the code still runs as the server's user, after approval), its
#    output kept in a log file on the server, not in pull-request comments.
#    A commit already synthesized (plan, then apply) is not synthesized again;
#    an apply never synthesizes (it applies the plans of the synth they came from).
# 3. Before an apply: refuses while the shared stack's plan has changes (only an
#    admin applies it; admin-changes.sh counted them at plan time), so a plain
#    `atlantis apply` never applies part of a pull request.
#
# Prints one line. Exits non-zero with one line on stderr when it refuses or
# fails; run the server with --fail-on-pre-workflow-hook-error.
#
# Inputs (Atlantis): DIR (the clone), PULL_NUM, HEAD_COMMIT, BASE_REPO_OWNER,
# BASE_REPO_NAME, COMMAND_NAME, OUTPUT_STATUS_FILE (optional). Server environment:
# VAULT_GKE_GITHUB_TOKEN (read-only: "Pull requests: read" and "Metadata: read"
# on this repository), VAULT_GKE_CACHE_DIR (see synth.sh),
# VAULT_GKE_GITHUB_API_URL (default https://api.github.com).
set -euo pipefail
shopt -s inherit_errexit

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

status_line() {
  echo "$1"
  if [ -n "${OUTPUT_STATUS_FILE:-}" ]; then echo "$1" >"$OUTPUT_STATUS_FILE"; fi
}

# --- 1. the approval gate -----------------------------------------------------
errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT
# gh_get PATH WHAT [NOT_FOUND_BODY]: the JSON body of GET $api/PATH; dies (naming WHAT) on any
# failure, except that a 404 answers NOT_FOUND_BODY when one is given.
gh_get() {
  local response status
  # The token goes in a header through curl's config on stdin, never on a command line.
  response=$(printf 'header = "Authorization: Bearer %s"\n' "$VAULT_GKE_GITHUB_TOKEN" |
    curl --config - --silent --show-error --max-time 20 --header 'Accept: application/vnd.github+json' \
      --header 'X-GitHub-Api-Version: 2022-11-28' --write-out '\n%{http_code}' "$api/$1" 2>"$errfile") ||
    die "cannot read $2 ($(tail -n 1 "$errfile")); not running anything before an approval of $HEAD_COMMIT can be checked"
  status=${response##*$'\n'}
  if [ "$status" = 404 ] && [ -n "${3:-}" ]; then
    printf '%s\n' "$3"
    return 0
  fi
  [ "$status" = 200 ] ||
    die "GitHub answered HTTP $status for $2; not running anything before an approval of $HEAD_COMMIT can be checked (is VAULT_GKE_GITHUB_TOKEN valid?)"
  printf '%s\n' "${response%$'\n'*}"
}

reviews='[]'
page=1
while :; do
  body=$(gh_get "repos/$BASE_REPO_OWNER/$BASE_REPO_NAME/pulls/$PULL_NUM/reviews?per_page=100&page=$page" "the reviews of pull request #$PULL_NUM")
  jq -e 'type == "array"' <<<"$body" >/dev/null 2>&1 ||
    die "GitHub's answer for the reviews of pull request #$PULL_NUM is not a list; not running anything"
  reviews=$(jq -c --argjson more "$body" '. + $more' <<<"$reviews")
  [ "$(jq 'length' <<<"$body")" -eq 100 ] || break
  page=$((page + 1))
done

# Each reviewer's latest review that decides (APPROVED, CHANGES_REQUESTED, DISMISSED), in API order.
decisions=$(jq -c '
  reduce (.[] | select(.state == "APPROVED" or .state == "CHANGES_REQUESTED" or .state == "DISMISSED")) as $r
    ({}; .[$r.user.login] = {state: $r.state, commit: $r.commit_id})' <<<"$reviews")
# Only reviewers with write access count. A review's author_association does not say that
# (MEMBER: any member of the organization; COLLABORATOR: any granted role, read included),
# so each deciding reviewer's permission on the repository is asked (needs "Metadata: read").
writers() {
  local login permission out=""
  for login in "$@"; do
    [[ $login =~ ^[A-Za-z0-9][A-Za-z0-9-]*(\[bot\])?$ ]] || continue
    # 404: not a collaborator at all. Any other failure refuses (a blocker's permission must be known).
    permission=$(gh_get "repos/$BASE_REPO_OWNER/$BASE_REPO_NAME/collaborators/$login/permission" "@$login's permission on $BASE_REPO_OWNER/$BASE_REPO_NAME" '{}')
    permission=$(jq -r '.permission // "none"' <<<"$permission" 2>/dev/null || echo none)
    case $permission in admin | write) out+="${out:+, }@$login" ;; esac
  done
  printf '%s\n' "$out"
}
mapfile -t requesting < <(jq -r 'to_entries[] | select(.value.state == "CHANGES_REQUESTED") | .key' <<<"$decisions")
blockers=$(writers "${requesting[@]}")
[ -z "$blockers" ] || die "changes requested by $blockers: waiting for an approval of $HEAD_COMMIT"
mapfile -t approving < <(jq -r --arg head "$HEAD_COMMIT" 'to_entries[] | select(.value.state == "APPROVED" and .value.commit == $head) | .key' <<<"$decisions")
approvers=$(writers "${approving[@]}")
[ -n "$approvers" ] || die "waiting for an approval of $HEAD_COMMIT by a reviewer with write access (approve the pull request at its latest commit, then comment 'atlantis plan')"

# --- 2. install and synthesize, unless this commit already is ----------------------
# An apply applies the plans of the synth they were made from: it never synthesizes.
mode=ensure
if [ "${COMMAND_NAME:-}" = apply ]; then mode=check; fi
synth=$("$(dirname "$0")/synth.sh" "$mode")

# --- 3. before an apply: no admin-only change is pending ------------------------------
# A plain `atlantis apply` applies every plan in order and goes on after a failure; while the
# shared stack (admin only) has changes, the tenants may need them: refuse before anything runs.
if [ "$mode" = check ]; then
  cd "$DIR"
  pending=()
  # One jq for all stacks: a synth may hold 10,000 tenant stacks.
  while IFS= read -r stack; do
    stack_dir="ci-cdktf.out/stacks/$stack/"
    compgen -G "$stack_dir*.tfplan" >/dev/null || continue
    count=$(cat "$stack_dir.vault-gke-admin-changes" 2>/dev/null || echo "an unknown number of")
    [ "$count" = 0 ] || pending+=("$stack ($count change(s))")
  done < <(jq -r '.stacks | to_entries[] | select(.value.kind == "shared") | .key' ci-cdktf.out/vault-gke-delivery.json)
  if [ "${#pending[@]}" -gt 0 ]; then
    die "nothing was applied: ${pending[*]} must first be applied by an admin ('npx cdktf deploy <stack>' with an admin login, see the operator guide); then comment 'atlantis plan' and 'atlantis apply'"
  fi
fi
status_line "approved at ${HEAD_COMMIT:0:12} by $approvers; $synth"
