//go:build amd64 && goexperiment.simd

package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"
)

func naive(p *Problem) []float32 {
	out := make([]float32, p.Batch*p.M*p.N)
	for b := range p.Batch {
		for i := range p.M {
			for j := range p.N {
				var s float64
				for k := range p.K {
					var r float32
					if p.TransposedRHS {
						r = p.RHS[b*p.N*p.K+j*p.K+k]
					} else {
						r = p.RHS[b*p.K*p.N+k*p.N+j]
					}
					s += float64(p.LHS[b*p.M*p.K+i*p.K+k]) * float64(r)
				}
				out[b*p.M*p.N+i*p.N+j] = float32(s)
			}
		}
	}
	return out
}

func random(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestAgainstNaive(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range [][4]int{{1, 1, 1, 1}, {1, 12, 32, 7}, {2, 13, 33, 300}, {3, 97, 65, 513}, {1, 5, 4100, 20}, {1, 200, 50, 0}, {4, 25, 70, 64}} {
		for _, tr := range []bool{false, true} {
			for _, parts := range []int{1, 2, 3, 8} {
				b, m, n, k := c[0], c[1], c[2], c[3]
				p := &Problem{LHS: random(rng, b*m*k), RHS: random(rng, b*k*n), Out: random(rng, b*m*n), Batch: b, M: m, N: n, K: k, TransposedRHS: tr}
				for _, task := range p.Tasks(parts) {
					p.Run(task)
				}
				want := naive(p)
				for i := range want {
					if d := math.Abs(float64(p.Out[i] - want[i])); d > 1e-4*math.Sqrt(float64(k)+1) {
						t.Fatalf("%v transposed=%v parts=%d: out[%d]=%g, want %g", c, tr, parts, i, p.Out[i], want[i])
					}
				}
			}
		}
	}
}

func BenchmarkSGEMM(b *testing.B) {
	for _, c := range [][3]int{{768, 768, 3072}, {768, 3072, 768}, {768, 768, 768}, {1024, 1024, 1024}} {
		m, n, k := c[0], c[1], c[2]
		rng := rand.New(rand.NewPCG(1, 2))
		p := &Problem{LHS: random(rng, m*k), RHS: random(rng, k*n), Out: make([]float32, m*n), Batch: 1, M: m, N: n, K: k}
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				p.Run(Task{0, 0, m, 0, n})
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestTransposes(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, rows := range []int{12, 16} {
		src := random(rng, 20*37)
		dst := random(rng, 16*29)
		orig := append([]float32(nil), dst...)
		if rows == 16 {
			transpose16x16(&src[3], 37, &dst[1], 29)
		} else {
			transpose12x16(&src[3], 37, &dst[1], 29)
		}
		for c := range 16 {
			for r := range 29 {
				i := 1 + c*29 + r
				if i >= len(dst) {
					continue
				}
				want := orig[i]
				if r < rows {
					want = src[3+r*37+c]
				}
				if dst[i] != want {
					t.Fatalf("rows=%d: dst[%d] (c=%d r=%d) = %g, want %g", rows, i, c, r, dst[i], want)
				}
			}
		}
	}
}
