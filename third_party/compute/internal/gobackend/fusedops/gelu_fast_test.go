// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project: tests and benchmarks of the float32 exact-GELU fast path.

package fusedops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
)

// TestGeluFloat32Fast compares the float32 exact GELU (geluChunk, fast path) with the float64-erf generic code on
// odd sizes, with and without workers.
func TestGeluFloat32Fast(t *testing.T) {
	backends := []*gobackend.Backend{nil, {Workers: workerspool.New()}}
	for _, n := range []int{0, 1, 7, 16, 17, 100, 4095, 4097, 3*4096 + 5, 70001} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(math.Sin(float64(i)*0.37)*7 + math.Cos(float64(i)*0.011)*2)
		}
		if n > 3 {
			src[1], src[2], src[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		}
		want := make([]float32, n)
		geluChunkGeneric(src, want)
		for bi, backend := range backends {
			got := make([]float32, n)
			geluParallelizeChunked(backend, src, got, geluChunk[float32])
			for i, x := range src {
				w, g := float64(want[i]), float64(got[i])
				if math.IsNaN(w) || math.IsNaN(g) {
					if !(math.IsNaN(w) && math.IsNaN(g)) {
						t.Fatalf("n=%d backend %d: Gelu(%g) = %g, want %g", n, bi, x, g, w)
					}
					continue
				}
				// The generic code rounds erf to float32 before 1+erf: its own error is ≈ |x|·3e-8.
				if g != w && math.Abs(g-w) > 2e-7*max(1, math.Abs(float64(x))) {
					t.Fatalf("n=%d backend %d: Gelu(%g) = %g, want %g", n, bi, x, g, w)
				}
			}
		}
	}
}

// BenchmarkGeluFloat32 compares the exact GELU fast path with the generic code on 28M elements (2 workers).
func BenchmarkGeluFloat32(b *testing.B) {
	const n = 28_000_000
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = -6 + 12*float32(i%9973)/9973
	}
	backend := &gobackend.Backend{Workers: workerspool.New()}
	for _, impl := range []struct {
		name string
		fn   func(input, output []float32)
	}{{"generic", geluChunkGeneric[float32]}, {"fast", geluChunk[float32]}} {
		b.Run(fmt.Sprintf("%s/n=%d", impl.name, n), func(b *testing.B) {
			for b.Loop() {
				geluParallelizeChunked(backend, src, dst, impl.fn)
			}
		})
	}
}
