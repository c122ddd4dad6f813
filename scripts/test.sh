#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run): set-up (scripts/setup.sh): gofmt check, go vet, the tests of the
# forked GoMLX backend (third_party/compute), then every test of the project including
# the notebooks (NOTEBOOK_TESTS=1: missing jupyter/gonb fails instead of skipping). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh # idempotent: installs Jupyter, the GoNB kernel and the test tools on a fresh machine
export PATH="/usr/local/go/bin:$PATH"
export PATH="${GOBIN:-$(go env GOPATH)/bin}:$PATH" # goimports and gopls, which the gonb kernel calls
# SIMD matmul in the pure-Go backend; the default worker pool can deadlock, hence parallelism=-1 (gomlx-notes §6).
export GOEXPERIMENT=simd GOMLX_BACKEND=go:parallelism=-1

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"
  echo "$unformatted"
  exit 1
fi
echo "== go vet"
go vet -tags noxla ./...
echo "== go test"
# The fork of GoMLX's backend (third_party/README.md): the packages the project changed, with their upstream tests.
(cd third_party/compute && go vet ./internal/gobackend/fusion/ ./internal/gobackend/dot/sgemm/ ./internal/fastmath/ &&
  go test -timeout 15m ./internal/fastmath/ ./internal/gobackend/...)
NOTEBOOK_TESTS=1 go test -tags noxla -timeout 30m ./...
echo "== model, runner and CLI tests again with every product and element-wise chain on the fast CPU kernels"
GOMLX_FUSE_MIN_SIZE=1 GOMLX_DOT_SGEMM_MIN_SIZE=1 go test -tags noxla -count=1 ./uniter/ ./experiments/... ./tools/uniter/
