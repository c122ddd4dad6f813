#!/usr/bin/env bash
# Idempotent set-up of what the tests and the notebooks need, on a Debian 12 machine, run as root:
#   - the repository's Go modules (`go mod download`);
#   - Jupyter from Debian packages (nbconvert + nbclient execute notebooks headlessly; requirejs/mathjax make the
#     exported HTML render offline); WITH_CHROMIUM=1 adds chromium for screenshots of that HTML;
#   - the GoNB Go kernel plus goimports and gopls (exact versions: the module proxy here refuses version lists);
#   - the GoNB kernelspec (`gonb --install --raw_error`).
# `scripts/setup.sh go` does only the first step: all that building and running the uniter command needs.
# Whatever is already present at the wanted version is skipped. Go itself (go.mod's version) must already be installed.
# notebooks/README.md says why each step is needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

what=${1:-all}
case "$what" in
  all | go) ;;
  *) echo "[setup] unknown argument $what: use no argument (everything) or go (Go modules only)" >&2; exit 2 ;;
esac

GONB_VERSION=${GONB_VERSION:-v0.11.5}   # newest gonb the proxy serves; `go install gonb@vX` fails (403 on its deprecation check)
GOIMPORTS_VERSION=${GOIMPORTS_VERSION:-v0.52.0}
GOPLS_VERSION=${GOPLS_VERSION:-v0.23.0} # gopls v0.24.0 needs go >= 1.27
export DEBIAN_FRONTEND=noninteractive

start=$SECONDS
t=$SECONDS
lap() { echo "[setup] $1 ($((SECONDS - t))s)"; t=$SECONDS; }

# --- Go must be there already. ---
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27; the go command fetches this toolchain from the module proxy
command -v go >/dev/null || { echo "[setup] go not found: install Go (see go.mod) under /usr/local/go first" >&2; exit 1; }
export GOBIN=${GOBIN:-$(go env GOPATH)/bin}
export PATH="$GOBIN:$PATH"

# --- The repository's modules (a no-op when the module cache has them). ---
go mod download
lap "go mod download"
if [ "$what" = go ]; then
  echo "[setup] done in $((SECONDS - start))s: $(go version | cut -d' ' -f3) and the Go modules"
  exit 0
fi

# --- 1. Jupyter from Debian. Always call /usr/bin/jupyter: it runs on /usr/bin/python3 (a pyenv python3 has no jupyter). ---
# Python packages read the files our Go writers produce (cross-writer format tests in data/features, data/txtdb).
pkgs=(jupyter-nbconvert jupyter-client python3-nbclient jupyter-nbformat libjs-requirejs libjs-mathjax
  python3-numpy python3-lmdb python3-msgpack python3-msgpack-numpy python3-lz4)
if [ "${WITH_CHROMIUM:-0}" = 1 ]; then pkgs+=(chromium); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "[setup] must be root to apt-get install: ${missing[*]}" >&2; exit 1; }
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  lap "apt: installed ${missing[*]}"
else
  lap "apt: all ${#pkgs[@]} packages present"
fi

# modversion BINARY MODULE prints the version of MODULE linked into BINARY on PATH, or nothing.
modversion() {
  local bin
  bin=$(command -v "$1" 2>/dev/null) || return 0
  go version -m "$bin" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

# --- 2. GoNB, goimports, gopls at exact versions. ---
if [ "$(modversion gonb github.com/janpfeifer/gonb)" != "$GONB_VERSION" ]; then
  # Resolve gonb in a throw-away module, then install from there (a plain `go install gonb@vX` gets 403).
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && go mod init gonbtools && go get "github.com/janpfeifer/gonb@$GONB_VERSION" &&
    go install github.com/janpfeifer/gonb) >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; echo "[setup] installing gonb $GONB_VERSION failed" >&2; exit 1; }
  rm -rf "$tmp"
  trap - EXIT
  lap "gonb $GONB_VERSION installed"
else
  lap "gonb $GONB_VERSION present"
fi
if [ "$(modversion goimports golang.org/x/tools)" != "$GOIMPORTS_VERSION" ]; then
  go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
  lap "goimports $GOIMPORTS_VERSION installed"
else
  lap "goimports $GOIMPORTS_VERSION present"
fi
if [ "$(modversion gopls golang.org/x/tools/gopls)" != "$GOPLS_VERSION" ]; then
  go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
  lap "gopls $GOPLS_VERSION installed"
else
  lap "gopls $GOPLS_VERSION present"
fi

# --- 3. GoNB kernelspec: ${JUPYTER_DATA_DIR:-~/.local/share/jupyter}/kernels/gonb/kernel.json. --raw_error puts
#        compiler errors into the cell's error output as plain text. The kernel inherits PATH/GO* from jupyter. ---
spec="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/gonb/kernel.json"
if ! { [ -f "$spec" ] && grep -qF "\"$GOBIN/gonb\"" "$spec" && grep -qF -- "-raw_error=true" "$spec"; }; then
  gonb --install --raw_error >/dev/null 2>&1 || { echo "[setup] gonb --install failed" >&2; exit 1; }
  lap "gonb kernelspec installed"
else
  lap "gonb kernelspec present"
fi
/usr/bin/jupyter kernelspec list 2>/dev/null | grep '^ *gonb ' >/dev/null || # no -q: an early exit would SIGPIPE jupyter under pipefail
  { echo "[setup] the gonb kernel is not visible to /usr/bin/jupyter" >&2; exit 1; }

echo "[setup] done in $((SECONDS - start))s: $(go version | cut -d' ' -f3), gonb $(gonb -V 2>/dev/null | tr -d '\n'), jupyter nbconvert $(/usr/bin/jupyter nbconvert --version 2>/dev/null)"
