//go:build amd64 && goexperiment.simd

package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
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

// BenchmarkDotGeneral compares upstream's AVX-512 kernel with this one, both through the DotGeneral implementation
// signature and a backend's workers, on the products of a UNITER-base step (batch 8, 96 tokens).
func BenchmarkDotGeneral(b *testing.B) {
	if upstream[0] == nil {
		b.Skip("sgemm not registered")
	}
	be, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	defer be.Finalize()
	backend := be.(*gobackend.Backend)
	for _, c := range []struct {
		batch, m, n, k int
		layout         dot.Layout
	}{
		{1, 768, 768, 768, dot.LayoutTransposed}, {1, 768, 3072, 768, dot.LayoutTransposed},
		{1, 768, 768, 3072, dot.LayoutTransposed}, {1, 768, 768, 768, dot.LayoutNonTransposed},
		{1, 768, 3072, 768, dot.LayoutNonTransposed}, {96, 96, 96, 64, dot.LayoutTransposed},
		{96, 96, 64, 96, dot.LayoutNonTransposed},
		// The embedded default's model (batch 512 × 28 positions, hidden 128, feed-forward 256): a forward product,
		// an input gradient and a weight gradient.
		{1, 14336, 256, 128, dot.LayoutTransposed}, {1, 14336, 128, 256, dot.LayoutNonTransposed},
		{1, 128, 256, 14336, dot.LayoutNonTransposed},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		lhs, rhs := random(rng, c.batch*c.m*c.k), random(rng, c.batch*c.k*c.n)
		out := make([]float32, c.batch*c.m*c.n)
		flops := 2 * float64(c.batch*c.m*c.n*c.k)
		name := fmt.Sprintf("%dx%dx%dx%d_%s", c.batch, c.m, c.n, c.k, c.layout)
		b.Run(name+"/upstream", func(b *testing.B) {
			for b.Loop() {
				upstream[c.layout](backend, c.layout, lhs, rhs, c.batch, c.m, c.n, c.k, out, nil)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(name+"/sgemm", func(b *testing.B) {
			for b.Loop() {
				execFloat32(backend, c.layout, lhs, rhs, c.batch, c.m, c.n, c.k, out, nil)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
