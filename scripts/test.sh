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
# SIMD matmul in the pure-Go backend; the default worker pool can deadlock, hence parallelism=-1.
export GOEXPERIMENT=simd GOMLX_BACKEND=go:parallelism=-1

echo "== third_party/compute = upstream + patch"
bash scripts/vendor-compute.sh check
echo "== gofmt"
# Upstream's files in third_party/compute keep upstream's formatting; the files of our patch are checked.
unformatted=$({
  git ls-files --cached --others --exclude-standard '*.go' | grep -v '^third_party/compute/'
  bash scripts/vendor-compute.sh files | grep '\.go$'
} | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"
  echo "$unformatted"
  exit 1
fi
echo "== go vet (pure-Go build, and the XLA build: cgo, no device needed to compile)"
go vet -tags noxla ./...
go build ./... && go vet ./...
echo "== go test"
NOTEBOOK_TESTS=1 go test -tags noxla -timeout 30m ./...
echo "== the XLA build's device-free paths (plugin loading by absolute path, its errors)"
go test ./internal/backend/
echo "== the patched compute backend: our kernels' tests, then upstream's backend suite through them (every"
echo "   element-wise chain fused, whatever its size)"
(cd third_party/compute && go vet ./internal/gobackend/fastcpu/... ./gobackend/fastcpu/ &&
  go test ./internal/gobackend/fastcpu/... ./gobackend/fastcpu/ && GOMLX_FUSE_MIN_SIZE=1 go test ./gobackend/)
