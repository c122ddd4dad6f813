// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package fastmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestArithSlices32 compares the slice arithmetic with plain Go loops, bit for bit, on sizes around the vector
// width, with special values, and in place.
func TestArithSlices32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, 3e38}
	for _, n := range []int{0, 1, 15, 16, 17, 31, 33, 1000, 4099} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(rng.NormFloat64()*10), float32(rng.NormFloat64())
			if rng.IntN(10) == 0 {
				x[i] = specials[rng.IntN(len(specials))]
			}
			if rng.IntN(10) == 0 {
				y[i] = specials[rng.IntN(len(specials))]
			}
		}
		ops := map[string]struct {
			fast func(dst, x, y []float32)
			want func(a, b float32) float32
		}{
			"add": {AddSlice32, func(a, b float32) float32 { return a + b }},
			"sub": {SubSlice32, func(a, b float32) float32 { return a - b }},
			"mul": {MulSlice32, func(a, b float32) float32 { return a * b }},
			"div": {DivSlice32, func(a, b float32) float32 { return a / b }},
			"sqrt": {func(dst, x, _ []float32) { SqrtSlice32(dst, x) },
				func(a, _ float32) float32 { return float32(math.Sqrt(float64(a))) }},
		}
		for name, op := range ops {
			dst := make([]float32, n)
			op.fast(dst, x, y)
			inPlace := append([]float32(nil), x...)
			op.fast(inPlace, inPlace, y)
			for i := range dst {
				w := op.want(x[i], y[i])
				if math.Float32bits(dst[i]) != math.Float32bits(w) && !(w != w && dst[i] != dst[i]) {
					t.Fatalf("%s n=%d [%d]: %g op %g = %g, want %g", name, n, i, x[i], y[i], dst[i], w)
				}
				if math.Float32bits(inPlace[i]) != math.Float32bits(dst[i]) && !(w != w && inPlace[i] != inPlace[i]) {
					t.Fatalf("%s n=%d [%d] in place: %g, want %g", name, n, i, inPlace[i], dst[i])
				}
			}
		}
	}
}
