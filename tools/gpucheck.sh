#!/usr/bin/env bash
# GPU check: benchmarks UNITER-base (batch 8, 60 text + 36 regions) on an NVIDIA GPU through XLA/PJRT with JAX's
# CUDA plugin, in float32 and in bfloat16 mixed precision, and prints examples/s. One command, under 5 minutes:
#
#   tools/gpucheck.sh /abs/path/to/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so
#
# The plugin is loaded by absolute path (no download). When the plugin sits in JAX's layout
# (<site-packages>/jax_plugins/xla_cuda*/), the CUDA libraries of <site-packages>/nvidia/cu13 (or cu12) are
# added to LD_LIBRARY_PATH and XLA_FLAGS. The uniter binary must be built WITHOUT -tags noxla (cgo); the script
# builds it when Go is available, or uses $UNITER_BIN (a binary built elsewhere with
# `GOEXPERIMENT=simd go build -o uniter ./tools/uniter`). Environment: STEPS (timed steps, default 10),
# RUN_TIMEOUT (seconds per run, default 70; there are four runs), GPUCHECK_NO_GPU_OK=1 (go on without a visible
# GPU, to test the script itself on a CPU machine).
set -euo pipefail

die() {
	echo "gpucheck: $*" >&2
	exit 1
}

plugin=${1:-}
[[ -n $plugin ]] || die "missing argument: the absolute path of the PJRT CUDA plugin (e.g. .../site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so)"
[[ $plugin == /* ]] || die "the plugin path must be absolute (a relative name makes go-xla search and auto-install): $plugin"
[[ -f $plugin ]] || die "PJRT plugin not found: $plugin"
if [[ -z ${GPUCHECK_NO_GPU_OK:-} ]] && ! command -v nvidia-smi >/dev/null 2>&1 && ! ls /dev/nvidia* >/dev/null 2>&1; then
	die "no NVIDIA GPU visible (no nvidia-smi, no /dev/nvidia*)"
fi

cd "$(dirname "$0")/.."
bin=${UNITER_BIN:-}
if [[ -z $bin ]]; then
	command -v go >/dev/null 2>&1 || die "Go is not installed here: build the binary elsewhere and pass it as UNITER_BIN"
	bin=$(mktemp -d)/uniter
	echo "# building $bin (with XLA, cgo)"
	GOEXPERIMENT=simd go build -o "$bin" ./tools/uniter || die "build failed (the XLA backend needs cgo and a C compiler)"
fi
[[ -x $bin ]] || die "not an executable: $bin"

# CUDA libraries shipped with JAX's wheels (nvidia-*-cu13 / cu12) next to jax_plugins/.
site=$(dirname "$(dirname "$(dirname "$plugin")")")
for cu in cu13 cu12; do
	if [[ -d $site/nvidia/$cu ]]; then
		export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_cuda_data_dir=$site/nvidia/$cu"
		export LD_LIBRARY_PATH="$site/nvidia/$cu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		break
	fi
done
export GOPJRT_CUDA_CHECKS=0 GOMLX_NO_AUTO_INSTALL=1 TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

status=0
for run in "train float32" "train bfloat16" "forward float32" "forward bfloat16"; do
	read -r mode dtype <<<"$run"
	echo "# $mode $dtype"
	if out=$(timeout "${RUN_TIMEOUT:-70}" "$bin" bench --model base --batch 8 --text-len 60 --regions 36 --mode "$mode" \
		--dtype "$dtype" --steps "${STEPS:-10}" --warmup 3 --backend "xla:$plugin" 2>&1); then
		echo "$out" | grep -v '^$' | tail -3
		last=$(echo "$out" | tail -1)
		echo "RESULT $mode $dtype examples_per_s=$(sed -n 's/.*examples_per_s=\([0-9.]*\).*/\1/p' <<<"$last")"
	else
		echo "$out" | tail -5
		echo "RESULT $mode $dtype FAILED"
		status=1
		grep -q 'creating GoMLX backend' <<<"$out" && die "the XLA backend could not be created from $plugin (see above)"
	fi
done
exit $status
