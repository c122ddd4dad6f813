// fma_peak measures the machine's float32 fused multiply-add peak: every thread runs chains of independent AVX-512
// (or AVX2) FMAs on registers, enough of them to hide the FMA latency, and the GFLOP/s (2 per multiply-add) of all
// threads together is printed. Built and run by experiments/bench/fma_peak.sh.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __AVX512F__
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define REDUCE _mm512_reduce_add_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
static float REDUCE(__m256 v) {
	float x[8];
	_mm256_storeu_ps(x, v);
	return x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];
}
#endif
#define CHAINS 12

int main(int argc, char **argv) {
	long iters = argc > 1 ? atol(argv[1]) : 200000000L;
	double best = 0;
	float sink = 0;
	for (int rep = 0; rep < 5; rep++) {
		double start = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
		{
			vec a = SET1(0.999999f), b = SET1(1e-7f);
			vec acc[CHAINS];
			for (int c = 0; c < CHAINS; c++) acc[c] = SET1((float)c);
			for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
				for (int c = 0; c < CHAINS; c++) acc[c] = FMA(acc[c], a, b);
			}
			vec s = acc[0];
			for (int c = 1; c < CHAINS; c++) s = ADD(s, acc[c]);
			sink += REDUCE(s);
		}
		double seconds = omp_get_wtime() - start;
		double gflops = 2.0 * LANES * CHAINS * (double)iters * omp_get_max_threads() / seconds / 1e9;
		if (gflops > best) best = gflops;
	}
	printf("threads=%d lanes=%d fma_peak_gflops=%.1f (sink %g)\n", omp_get_max_threads(), LANES, best, sink);
	return 0;
}
