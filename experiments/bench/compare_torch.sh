#!/usr/bin/env bash
# Times the UNITER-base VQA step in Go (uniter bench) and in PyTorch (tools/reference/torch_bench.py) back to back,
# ROUNDS times, and prints every measurement with the machine's load and the Go/PyTorch ratios of the medians.
#
#   experiments/bench/compare_torch.sh [train|forward] [ROUNDS] [extra uniter bench flags...]
#
# Needs Debian's python3-torch (/usr/bin/python3). Builds the Go binary with GOEXPERIMENT=simd -tags noxla.
# Other processes skew the timings: each round first waits (up to QUIET_WAIT seconds, default 120) until the other
# processes use less than 15% of the CPUs.
set -euo pipefail
mode=${1:-train}
rounds=${2:-3}
shift $(($# < 2 ? $# : 2))
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)/uniter
trap 'rm -rf "$(dirname "$bin")"' EXIT
GOEXPERIMENT=simd go build -tags noxla -o "$bin" ./tools/uniter

# busy prints the CPU share (percent of all CPUs) used over one second, by everything.
busy() {
	read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
	sleep 1
	read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
	local used=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
	local idle=$(((i2 + w2) - (i1 + w1)))
	echo $((100 * used / (used + idle)))
}
wait_quiet() {
	local deadline=$((SECONDS + ${QUIET_WAIT:-120}))
	while (($(busy) > 15 && SECONDS < deadline)); do sleep 2; done
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

go_times=() torch_times=()
for r in $(seq "$rounds"); do
	wait_quiet
	load=$(cut -d' ' -f1 /proc/loadavg)
	t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/reference/torch_bench.py --mode "$mode" \
		--warmup 2 --steps 5 2>/dev/null | field step_seconds)
	g=$(GOMLX_BACKEND=go:parallelism=-1 "$bin" bench --mode "$mode" --warmup 2 --steps 5 "$@" 2>/dev/null | field step_seconds)
	echo "round $r (load $load): torch $t s, go $g s"
	torch_times+=("$t") go_times+=("$g")
done
tm=$(printf '%s\n' "${torch_times[@]}" | median)
gm=$(printf '%s\n' "${go_times[@]}" | median)
echo "median torch=$tm go=$gm ratio_go_over_torch=$(awk -v g="$gm" -v t="$tm" 'BEGIN {printf "%.2f", g / t}')"
