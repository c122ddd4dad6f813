#!/usr/bin/env bash
# The main job on the embedded default: fetch the Go modules (scripts/setup.sh go), build the uniter command and train the
# small UNITER on the synthetic VQA set (generated on first use in the real VQA/COCO formats), train_val. It ends by
# printing the final evaluation as name=value pairs; the run directory (config.yaml, metrics.jsonl, checkpoints) is
# under ./save/synthetic_vqa. Extra key=value arguments are passed on as config overrides.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh go
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27; the go command fetches this toolchain from the module proxy
export GOMLX_BACKEND="${GOMLX_BACKEND:-go:parallelism=-1}"
mkdir -p bin
GOEXPERIMENT=simd go build -tags noxla -o bin/uniter ./tools/uniter
exec bin/uniter run config=experiments/synthetic/vqa.yaml run_type=train_val dataset=synthetic_vqa model=uniter "$@"
