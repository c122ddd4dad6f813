#!/usr/bin/env bash
# Times the UNITER-base VQA step in Go (uniter bench) and in PyTorch (tools/reference/torch_bench.py) back to back,
# ROUNDS times, and prints every measurement with the machine's load and the Go/PyTorch ratios of the medians.
#
#   experiments/bench/compare_torch.sh [train|forward] [ROUNDS] [extra uniter bench flags...]
#
# Needs Debian's python3-torch and libopenblas0-openmp (/usr/bin/python3). Builds the Go binary with
# GOEXPERIMENT=simd -tags noxla. Other processes skew the timings: each round first waits (up to QUIET_WAIT seconds,
# default 120) until the CPUs are less than 15% busy, and every measurement is printed with the share of the CPUs
# other processes used meanwhile ("others"); the last line gives the medians of all rounds and, where there are such
# rounds, of those where others stayed at or under 10% on both sides.
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
# counters prints the CPU jiffies used by everything, idle, and used by this shell and its finished children.
counters() {
	read -r _ u n s i w q sq _ </proc/stat
	echo $((u + n + s + q + sq)) $((i + w)) "$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)"
}
# others prints the percentage of the CPUs used by other processes between two counters outputs.
others() {
	read -r b1 i1 m1 <<<"$1"
	read -r b2 i2 m2 <<<"$2"
	echo $((100 * ((b2 - b1) - (m2 - m1)) / ((b2 - b1) + (i2 - i1) + 1)))
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

go_times=() torch_times=() quiet_go=() quiet_torch=()
for r in $(seq "$rounds"); do
	wait_quiet
	load=$(cut -d' ' -f1 /proc/loadavg)
	c0=$(counters)
	t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/reference/torch_bench.py --mode "$mode" \
		--warmup 2 --steps 5 2>/dev/null | field step_seconds)
	c1=$(counters)
	g=$(GOMLX_BACKEND=go:parallelism=-1 "$bin" bench --mode "$mode" --warmup 2 --steps 5 "$@" 2>/dev/null | field step_seconds)
	c2=$(counters)
	ot=$(others "$c0" "$c1") og=$(others "$c1" "$c2")
	echo "round $r (load $load): torch $t s (others ${ot}%), go $g s (others ${og}%)"
	torch_times+=("$t") go_times+=("$g")
	if ((ot <= 10 && og <= 10)); then
		quiet_torch+=("$t") quiet_go+=("$g")
	fi
done
report() {
	local tm gm
	tm=$(printf '%s\n' "${@:2:$1}" | median)
	gm=$(printf '%s\n' "${@:$(($1 + 2))}" | median)
	echo "torch=$tm go=$gm ratio_go_over_torch=$(awk -v g="$gm" -v t="$tm" 'BEGIN {printf "%.2f", g / t}')"
}
line="median of ${#go_times[@]} rounds: $(report ${#torch_times[@]} "${torch_times[@]}" "${go_times[@]}")"
if ((${#quiet_go[@]} > 0)); then
	line+="; of the ${#quiet_go[@]} quiet rounds: $(report ${#quiet_torch[@]} "${quiet_torch[@]}" "${quiet_go[@]}")"
fi
echo "$line"
