#!/usr/bin/env bash
# Measures the float32 FMA peak of this machine (tools/reference/fma_peak.c: independent AVX-512 FMA chains per thread) with 1 thread
# and with every CPU, the reference for the matrix products' share of peak that `uniter bench` and BenchmarkDotGeneral
# report. Needs gcc with OpenMP (Debian's gcc). Other processes lower the result: run it on an idle machine.
#
#   experiments/bench/fma_peak.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)/fma_peak
trap 'rm -rf "$(dirname "$bin")"' EXIT
gcc -O2 -march=native -fopenmp -o "$bin" tools/reference/fma_peak.c
for threads in 1 $(nproc); do
	OMP_NUM_THREADS=$threads "$bin" "${1:-200000000}"
done
