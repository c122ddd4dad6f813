#!/usr/bin/env bash
# GPU check: UNITER-base training (VQA, 60 text tokens + 36 regions) on an NVIDIA GPU through XLA/PJRT with JAX's
# CUDA plugin, at batch 32 and 128, in float32 (TF32 matrix products, XLA's default on CUDA), in bfloat16 mixed
# precision (float32 master weights and AdamW state, bfloat16 matrix products and attention) and in bfloat16 with
# cuDNN flash attention (attention dropout 0); then the embedded default (experiments/synthetic/vqa.yaml, train_val)
# end to end. It prints examples/s, the step time, the compile time (apart) and MFU per run, and the default's wall
# time and accuracy:
#
#   tools/gpucheck.sh /abs/path/to/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so
#
# The plugin is loaded by absolute path (no download). When it sits in JAX's layout (<site-packages>/jax_plugins/
# xla_cuda*/), the CUDA libraries of <site-packages>/nvidia/cu13 (or cu12) go into LD_LIBRARY_PATH and XLA_FLAGS.
# The uniter binary must be built WITHOUT -tags noxla (cgo); the script builds it when Go is available, or uses
# $UNITER_BIN. Environment: STEPS (timed steps, default 10), RUN_TIMEOUT (seconds per benchmark, default 180),
# DEFAULT_TIMEOUT (seconds for the embedded default, default 900), BATCHES (default "32 128"), SKIP_DEFAULT=1 (no
# embedded default run), PEAK_BF16_TFLOPS / PEAK_TF32_TFLOPS (dense peaks for MFU; known cards are looked up by
# name), DRY_RUN=1 (check the arguments, build, set up the environment and print every command, run none),
# GPUCHECK_NO_GPU_OK=1 (go on without a visible GPU: tests the script on a CPU machine).
set -euo pipefail

die() {
	echo "gpucheck: $*" >&2
	exit 1
}

plugin=${1:-}
[[ -n $plugin ]] || die "missing argument: the absolute path of the PJRT CUDA plugin (e.g. .../site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so)"
[[ $plugin == /* ]] || die "the plugin path must be absolute (a relative name makes go-xla search and auto-install): $plugin"
[[ -f $plugin ]] || die "PJRT plugin not found: $plugin"
gpu_name=""
if command -v nvidia-smi >/dev/null 2>&1; then
	gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
elif [[ -z ${GPUCHECK_NO_GPU_OK:-} ]] && ! ls /dev/nvidia* >/dev/null 2>&1; then
	die "no NVIDIA GPU visible (no nvidia-smi, no /dev/nvidia*)"
fi

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} # go.mod needs Go 1.27
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
backend="xla:$plugin"
echo "# backend $backend; XLA_FLAGS=${XLA_FLAGS:-}; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

# Dense tensor-core peaks (TFLOP/s) of known cards for MFU: bf16, tf32.
peaks() {
	case $1 in
	*H100*PCIe*) echo "756 378" ;;
	*H100* | *H200* | *GH200*) echo "989 495" ;;
	*A100*) echo "312 156" ;;
	*L40S*) echo "362 183" ;;
	*L4*) echo "121 60" ;;
	*A10*) echo "125 62" ;;
	*) echo "? ?" ;;
	esac
}
read -r peak_bf16 peak_tf32 <<<"$(peaks "$gpu_name")"
peak_bf16=${PEAK_BF16_TFLOPS:-$peak_bf16}
peak_tf32=${PEAK_TF32_TFLOPS:-$peak_tf32}
echo "# MFU peaks (dense TFLOP/s): bf16 $peak_bf16, tf32 $peak_tf32 (card: ${gpu_name:-unknown})"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2" | tail -1; }

status=0
for batch in ${BATCHES:-32 128}; do
	for run in "float32" "bfloat16" "bfloat16 --fused-attention"; do
		read -r dtype extra <<<"$run"
		label="batch $batch $dtype${extra:+ flash}"
		cmd=("$bin" bench --backend "$backend" --model base --mode train --batch "$batch" --text-len 60 --regions 36
			--dtype "$dtype" --steps "${STEPS:-10}" --warmup 2 $extra)
		if [[ -n ${DRY_RUN:-} ]]; then
			echo "DRY_RUN $label: timeout ${RUN_TIMEOUT:-180} ${cmd[*]}"
			continue
		fi
		echo "# $label"
		if out=$(timeout "${RUN_TIMEOUT:-180}" "${cmd[@]}" 2>&1); then
			echo "$out" | grep '^#' | tail -2
			last=$(echo "$out" | tail -1)
			gflops=$(field gflops "$last")
			peak=$peak_tf32
			[[ $dtype == bfloat16 ]] && peak=$peak_bf16
			mfu=$(awk -v g="$gflops" -v p="$peak" 'BEGIN { if (p == "?") print "?"; else printf "%.1f%%", 100 * g / (p * 1000) }')
			echo "RESULT $label: examples_per_s=$(field examples_per_s "$last") step_s=$(field step_seconds "$last")" \
				"compile_s=$(field compile_seconds "$last") gflops=$gflops mfu=$mfu"
		else
			echo "$out" | tail -5
			echo "RESULT $label: FAILED"
			status=1
			grep -q 'creating GoMLX backend' <<<"$out" && die "the XLA backend could not be created from $plugin (see above)"
		fi
	done
done

if [[ -z ${SKIP_DEFAULT:-} ]]; then
	cmd=("$bin" run config=experiments/synthetic/vqa.yaml run_type=train_val dataset=synthetic_vqa model=uniter
		env.save_dir="$(mktemp -d)")
	if [[ -n ${DRY_RUN:-} ]]; then
		echo "DRY_RUN embedded default: GOMLX_BACKEND=$backend timeout ${DEFAULT_TIMEOUT:-900} ${cmd[*]}"
		exit 0
	fi
	echo "# embedded default (experiments/synthetic/vqa.yaml, train_val)"
	start=$(date +%s.%N)
	if out=$(GOMLX_BACKEND=$backend timeout "${DEFAULT_TIMEOUT:-900}" "${cmd[@]}" 2>&1); then
		wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
		echo "$out" | tail -3
		echo "RESULT embedded default: wall_s=$wall $(echo "$out" | tail -1)"
	else
		echo "$out" | tail -5
		echo "RESULT embedded default: FAILED"
		status=1
	fi
fi
exit $status
