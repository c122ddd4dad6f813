#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run): set-up (scripts/setup.sh): gofmt check, go vet, then every
# test of the project including the notebooks (NOTEBOOK_TESTS=1: missing jupyter/gonb fails instead of skipping).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh # idempotent: installs Jupyter, the GoNB kernel and the test tools on a fresh machine
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27; the go command fetches this toolchain from the module proxy
export PATH="${GOBIN:-$(go env GOPATH)/bin}:$PATH" # goimports and gopls, which the gonb kernel calls
# SIMD matmul in the pure-Go backend; the default worker pool can deadlock, hence parallelism=-1 (gomlx-notes §6).
export GOEXPERIMENT=simd GOMLX_BACKEND=go:parallelism=-1

echo "== gofmt"
# Upstream's files in third_party/compute keep upstream's formatting.
unformatted=$(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^third_party/compute/' | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"
  echo "$unformatted"
  exit 1
fi
echo "== go vet"
go vet -tags noxla ./...
echo "== go test"
NOTEBOOK_TESTS=1 go test -tags noxla -timeout 30m ./...
