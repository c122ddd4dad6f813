// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project: tests and benchmarks of the float32 Exp/Erf fast paths.

package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
)

// TestExpErfFloat32Fast compares the float32 Exp/Erf fast paths with the float64-based generic code on odd sizes,
// with and without workers.
func TestExpErfFloat32Fast(t *testing.T) {
	backends := []*gobackend.Backend{nil, {Workers: workerspool.New()}}
	for _, n := range []int{0, 1, 7, 16, 17, 100, 4095, 4097, 3*4096 + 5, 70001} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(math.Sin(float64(i)*0.37)*12 + math.Cos(float64(i)*0.011)*3)
		}
		if n > 3 {
			src[1], src[2], src[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		}
		wantExp, wantErf := make([]float32, n), make([]float32, n)
		execExpGeneric(src, wantExp)
		execErfGeneric(backends[1], src, wantErf)
		for bi, backend := range backends {
			gotExp, gotErf := make([]float32, n), make([]float32, n)
			execExpFloat32(backend, src, gotExp)
			execErfFloat32(backend, src, gotErf)
			for i, x := range src {
				if !close32(gotExp[i], wantExp[i], 2e-7, 0) {
					t.Fatalf("n=%d backend %d: Exp(%g) = %g, want %g", n, bi, x, gotExp[i], wantExp[i])
				}
				if !close32(gotErf[i], wantErf[i], 0, 2e-7) {
					t.Fatalf("n=%d backend %d: Erf(%g) = %g, want %g", n, bi, x, gotErf[i], wantErf[i])
				}
			}
		}
	}
}

// close32 reports whether got is within rel·|want| + abs of want (NaN matches NaN, infinities must be equal).
func close32(got, want float32, rel, abs float64) bool {
	g, w := float64(got), float64(want)
	if math.IsNaN(w) || math.IsNaN(g) {
		return math.IsNaN(w) && math.IsNaN(g)
	}
	if math.IsInf(w, 0) || math.IsInf(g, 0) {
		return g == w
	}
	return math.Abs(g-w) <= rel*math.Abs(w)+abs
}

// BenchmarkExpFloat32 compares the Exp fast path with the generic code on 10M elements.
func BenchmarkExpFloat32(b *testing.B) {
	benchUnaryFloat32(b, 10_000_000, -20, 2, func(backend *gobackend.Backend, src, dst []float32) {
		execExpGeneric(src, dst)
	}, execExpFloat32)
}

// BenchmarkErfFloat32 compares the Erf fast path with the generic code on 10M elements.
func BenchmarkErfFloat32(b *testing.B) {
	benchUnaryFloat32(b, 10_000_000, -5, 5, func(backend *gobackend.Backend, src, dst []float32) {
		execErfGeneric(backend, src, dst)
	}, execErfFloat32)
}

func benchUnaryFloat32(b *testing.B, n int, lo, hi float32, generic, fast func(backend *gobackend.Backend, src, dst []float32)) {
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = lo + (hi-lo)*float32(i%9973)/9973
	}
	backend := &gobackend.Backend{Workers: workerspool.New()}
	for _, impl := range []struct {
		name string
		fn   func(backend *gobackend.Backend, src, dst []float32)
	}{{"generic", generic}, {"fast", fast}} {
		b.Run(fmt.Sprintf("%s/n=%d", impl.name, n), func(b *testing.B) {
			for b.Loop() {
				impl.fn(backend, src, dst)
			}
		})
	}
}
