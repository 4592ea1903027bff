#!/usr/bin/env bash
# synth.sh: installs the repository's packages and synthesizes it into
# ci-cdktf.out/, for the commit the Atlantis clone ($DIR, or the repository
# that holds the current project dir) is at now. Used by the pre-workflow hook
# after its approval gate, and by the first step of every plan and apply: the
# clone can move after the hook (Atlantis merges a moved main again before it
# plans), and a plan must never run on the synth of another commit.
#
#   synth.sh ensure  synthesize unless ci-cdktf.out/ already holds this commit's synth
#   synth.sh check   only check: exit 1 with one line when it does not, or when the base
#                    branch moved since the merge the plans were made of (apply)
#
# Only run after an approval of the pull request's head commit was checked:
# this runs the repository's code. It runs it with a minimal environment (no
# server secret in the variables), its output kept in a log on the server.
#
# node_modules is not installed into the clone: `npm ci --ignore-scripts` runs
# once per lock file into VAULT_GKE_CACHE_DIR (default: ~/.cache/vault-gke),
# read-only afterwards, and the clone gets a symbolic link to it. So a plan
# with a known lock file installs nothing, and deleting a clone (Atlantis does
# it before it answers the webhook of a closed pull request) removes a link,
# not 1.5 GB of packages. Entries unused for 7 days are removed.
#
# Prints one line. Exits non-zero with one line on stderr when it fails.
set -euo pipefail

SYNTH_DIR=ci-cdktf.out
die() {
  printf 'vault-gke: %s\n' "$*" >&2
  exit 1
}

mode=${1:-ensure}
case $mode in ensure | check) ;; *) die "usage: synth.sh ensure|check (got '$mode')" ;; esac

# The repository's root: $DIR for the hook; for a step, the clone that holds the project dir.
repo=$(git -C "${DIR:-.}" rev-parse --show-toplevel 2>/dev/null) || die "${DIR:-$PWD} is not inside a git clone"
cd "$repo"
commit=$(git rev-parse HEAD)
marker="$SYNTH_DIR/.vault-gke-synthesized-commit"
if [ "$mode" = check ]; then
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$commit" ] ||
    die "$SYNTH_DIR does not hold the synth of ${commit:0:12}, the commit this clone is at now (it moved after the plan): comment 'atlantis plan' again, then 'atlantis apply'"
  # Atlantis merges the pull request into the base branch (checkout strategy merge) and does not
  # merge again before an apply: a plan made before the base branch moved is a plan of another
  # merge than the one the pull request now makes. Refuse it.
  if [ -n "${BASE_BRANCH_NAME:-}" ] && git rev-parse -q --verify HEAD^2 >/dev/null; then
    git fetch -q origin "refs/heads/$BASE_BRANCH_NAME" 2>/dev/null ||
      die "cannot fetch $BASE_BRANCH_NAME to check that the plan is of the current merge; not applying"
    base=$(git rev-parse FETCH_HEAD)
    [ "$base" = "$(git rev-parse HEAD^1)" ] ||
      die "$BASE_BRANCH_NAME moved to ${base:0:12} after the plan (planned on the merge with ${commit:0:12}'s first parent $(git rev-parse --short=12 HEAD^1)): comment 'atlantis plan' again, then 'atlantis apply'; nothing was applied"
    echo "$SYNTH_DIR already synthesized for ${commit:0:12}, the merge with $BASE_BRANCH_NAME's tip"
    exit 0
  fi
  echo "$SYNTH_DIR already synthesized for ${commit:0:12}"
  exit 0
fi
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$commit" ]; then
  echo "$SYNTH_DIR already synthesized for ${commit:0:12}"
  exit 0
fi

log="$repo/.vault-gke-hook.log"
: >"$log"
# Approved pull-request code runs from here on, with no server secret in its variables: only what npm and the synth need.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/home/atlantis}" "LANG=C.UTF-8" "CHECKPOINT_DISABLE=1" "CDKTF_OUTDIR=$repo/$SYNTH_DIR")
for v in npm_config_registry npm_config_cache HTTPS_PROXY HTTP_PROXY NO_PROXY; do
  if [ -n "${!v:-}" ]; then clean_env+=("$v=${!v}"); fi
done

# --- node_modules, once per lock file ---------------------------------------------
[ -f package-lock.json ] || die "package-lock.json is missing at ${commit:0:12}: commit the lock file that npm writes"
cache=${VAULT_GKE_CACHE_DIR:-${HOME:-/home/atlantis}/.cache/vault-gke}/node_modules
mkdir -p "$cache"
# The lock file and every package.json npm reads (the root's and its workspaces').
manifests=(package.json package-lock.json)
while IFS= read -r ws; do manifests+=("$ws/package.json"); done < <(jq -r '.workspaces // [] | .[]' package.json)
key=$(cat "${manifests[@]}" | sha256sum | cut -c1-32)
entry="$cache/$key"
if [ ! -d "$entry/node_modules" ]; then
  staging=$(mktemp -d "$cache/.install-XXXXXX")
  for f in "${manifests[@]}"; do mkdir -p "$staging/$(dirname "$f")" && cp "$f" "$staging/$f"; done
  (cd "$staging" && "${clean_env[@]}" npm ci --ignore-scripts --no-audit --no-fund) >>"$log" 2>&1 || {
    rm -rf "$staging"
    die "npm ci --ignore-scripts failed for ${commit:0:12}; run it locally to see why (the server keeps the output in $log)"
  }
  mkdir -p "$staging/node_modules" && chmod -R a-w "$staging/node_modules"
  # Another run may have installed the same lock file meanwhile: keep the first.
  mv -T "$staging" "$entry" 2>/dev/null || { chmod -R u+w "$staging" && rm -rf "$staging"; }
  find "$cache" -mindepth 1 -maxdepth 1 -type d -name '[0-9a-f]*' -mtime +7 -exec sh -c 'chmod -R u+w "$1" && rm -rf "$1"' _ {} \; 2>/dev/null || true
fi
touch "$entry"
if [ -e node_modules ] && [ ! -L node_modules ]; then rm -rf node_modules; fi
ln -sfn "$entry/node_modules" node_modules

# --- the synth ------------------------------------------------------------------
# Plans already made in this clone were made from the synth of another commit: they go with it,
# and this plan fails, so no plain `atlantis apply` can apply one project's new plan without the others'.
stale_plans=0
if [ -d "$SYNTH_DIR" ]; then stale_plans=$(find "$SYNTH_DIR" -name '*.tfplan' | wc -l); fi
rm -rf "$SYNTH_DIR"
"${clean_env[@]}" npm run --ignore-scripts --silent synth >>"$log" 2>&1 ||
  die "the synth failed for ${commit:0:12}; run 'npm ci --ignore-scripts && npm run synth' locally to see why (the server keeps the output in $log)"
[ -f "$SYNTH_DIR/manifest.json" ] && [ -f "$SYNTH_DIR/vault-gke-delivery.json" ] ||
  die "the synth wrote no $SYNTH_DIR/manifest.json and vault-gke-delivery.json for ${commit:0:12}; check CDKTF_OUTDIR handling in main.ts"
echo "$commit" >"$marker"
if [ "$stale_plans" -gt 0 ]; then
  die "this clone moved to ${commit:0:12} while the pull request was being planned (main moved), so the $stale_plans plan(s) already made came from another commit and were removed: comment 'atlantis plan' again"
fi
echo "synthesized $(jq '.stacks | length' "$SYNTH_DIR/manifest.json") stacks of ${commit:0:12} into $SYNTH_DIR"
