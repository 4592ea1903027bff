#!/usr/bin/env bash
# changed-stacks.sh BASE_OUTDIR HEAD_OUTDIR: prints, as one JSON array, the
# stacks of the HEAD synth whose cdk.tf.json is new or differs from the BASE
# synth's (every stack when BASE_OUTDIR holds no synth). Removed stacks are
# not listed: the check-removals step decides about those.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: changed-stacks.sh BASE_OUTDIR HEAD_OUTDIR" >&2; exit 2; }
base=$1
head=$2
[ -f "$head/manifest.json" ] || { echo "changed-stacks.sh: $head/manifest.json is missing; synthesize the pull request first" >&2; exit 1; }
changed=()
while IFS= read -r stack; do
  if ! cmp -s "$base/stacks/$stack/cdk.tf.json" "$head/stacks/$stack/cdk.tf.json"; then changed+=("$stack"); fi
done < <(jq -r '.stacks | keys[]' "$head/manifest.json")
if [ ${#changed[@]} -eq 0 ]; then echo '[]'; else printf '%s\n' "${changed[@]}" | jq -Rnc '[inputs]'; fi
