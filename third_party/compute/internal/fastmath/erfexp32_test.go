// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package fastmath

import (
	"math"
	"testing"
)

// sweepFloat32 returns float32 values in [lo, hi]: every stride-th bit pattern plus a dense linear grid.
func sweepFloat32(lo, hi float32, stride uint32, step float32) []float32 {
	var xs []float32
	for b := uint32(0); b < 0x7f800000; b += stride {
		for _, v := range []float32{math.Float32frombits(b), -math.Float32frombits(b)} {
			if v >= lo && v <= hi {
				xs = append(xs, v)
			}
		}
	}
	for x := lo; x <= hi; x += step {
		xs = append(xs, x)
	}
	return xs
}

// ulp32 returns the float32 ulp at v (the gap above |v| rounded to float32).
func ulp32(v float64) float64 {
	f := float32(math.Abs(v))
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

func TestErfExp32Accuracy(t *testing.T) {
	t.Run("Exp", func(t *testing.T) {
		xs := sweepFloat32(-110, 90, 97, 1e-4)
		got := make([]float32, len(xs))
		ExpSlice32(got, xs)
		var maxRel, maxUlp float64
		for i, x := range xs {
			want := math.Exp(float64(x))
			w32 := float32(want)
			g := float64(got[i])
			if math.IsInf(float64(w32), 1) || w32 == 0 {
				if float64(w32) != g {
					t.Fatalf("Exp(%g) = %g, want %g", x, g, w32)
				}
				continue
			}
			if math.Abs(want) >= 0x1p-126 { // normal results: relative error
				maxRel = max(maxRel, math.Abs(g-want)/want)
			}
			maxUlp = max(maxUlp, math.Abs(g-want)/ulp32(want))
		}
		t.Logf("Exp: %d points, max rel error (normal range) %.3g, max error %.2f ulp", len(xs), maxRel, maxUlp)
		if maxRel > 2e-7 || maxUlp > 2.5 {
			t.Errorf("Exp error too large: rel %.3g, %.2f ulp", maxRel, maxUlp)
		}
	})
	t.Run("Erf", func(t *testing.T) {
		xs := sweepFloat32(-10, 10, 61, 1e-5)
		got := make([]float32, len(xs))
		ErfSlice32(got, xs)
		var maxAbs, maxUlp float64
		for i, x := range xs {
			want := math.Erf(float64(x))
			d := math.Abs(float64(got[i]) - want)
			maxAbs = max(maxAbs, d)
			if want != 0 {
				maxUlp = max(maxUlp, d/ulp32(want))
			}
		}
		t.Logf("Erf: %d points, max abs error %.3g, max error %.2f ulp", len(xs), maxAbs, maxUlp)
		if maxAbs > 2e-7 || maxUlp > 3 {
			t.Errorf("Erf error too large: abs %.3g, %.2f ulp", maxAbs, maxUlp)
		}
	})
	t.Run("Gelu", func(t *testing.T) {
		xs := sweepFloat32(-20, 20, 61, 1e-5)
		got := make([]float32, len(xs))
		GeluErfSlice32(got, xs)
		var maxAbs, maxRel float64
		for i, x := range xs {
			xf := float64(x)
			want := xf * 0.5 * math.Erfc(-xf/math.Sqrt2)
			d := math.Abs(float64(got[i]) - want)
			maxAbs = max(maxAbs, d/max(1, math.Abs(xf)))
			if math.Abs(want) > 1e-30 && x > -4 {
				maxRel = max(maxRel, d/math.Abs(want))
			}
		}
		t.Logf("GELU: %d points, max abs error/max(1,|x|) %.3g, max rel error (x > -4) %.3g", len(xs), maxAbs, maxRel)
		if maxAbs > 2e-7 || maxRel > 1e-4 { // x·0.5·(1+float32(erf)) has rel. error ~1e-3 at x = -4.
			t.Errorf("GELU error too large: abs %.3g, rel %.3g", maxAbs, maxRel)
		}
	})
}

func TestErfExp32SpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	check := func(name string, f func(dst, src []float32), in, want []float32) {
		got := make([]float32, len(in))
		f(got, in)
		for i := range in {
			if math.IsNaN(float64(want[i])) != math.IsNaN(float64(got[i])) ||
				(!math.IsNaN(float64(want[i])) && math.Float32bits(want[i]) != math.Float32bits(got[i])) {
				t.Errorf("%s(%g) = %g, want %g", name, in[i], got[i], want[i])
			}
		}
	}
	check("Exp", ExpSlice32, []float32{0, inf, -inf, nan, 89, 1000, -104, -1000, -100},
		[]float32{1, inf, 0, nan, inf, inf, 0, 0, float32(math.Exp(-100))})
	negZero := float32(math.Copysign(0, -1))
	check("Erf", ErfSlice32, []float32{0, negZero, inf, -inf, nan, 4, -4, 100, -100},
		[]float32{0, negZero, 1, -1, nan, 1, -1, 1, -1})
	check("Gelu", GeluErfSlice32, []float32{0, inf, nan, 10, -10, -100},
		[]float32{0, inf, nan, 10, negZero, negZero}) // -x·0 as in x·0.5·(1+erf).
	// -Inf·0 is NaN in the original formula too.
	check("Gelu", GeluErfSlice32, []float32{-inf}, []float32{nan})
}

// TestErfExp32Slices compares the slice functions (vector kernels where available) with the scalar versions on odd
// sizes, and checks that results do not depend on the position of an element.
func TestErfExp32Slices(t *testing.T) {
	funcs := []struct {
		name   string
		slice  func(dst, src []float32)
		scalar func(float32) float32
	}{
		{"Exp", ExpSlice32, ExpIEEE32},
		{"Erf", ErfSlice32, Erf32},
		{"Gelu", GeluErfSlice32, GeluErf32},
	}
	base := make([]float32, 1000)
	for i := range base {
		base[i] = float32(math.Sin(float64(i)*0.731)*9 + math.Cos(float64(i)*0.17)*3)
	}
	for _, fn := range funcs {
		ref := make([]float32, len(base))
		fn.slice(ref, base)
		for i, x := range base {
			s := fn.scalar(x)
			if d := math.Abs(float64(s - ref[i])); d > 2*ulp32(float64(ref[i]))+1e-38 {
				t.Errorf("%s(%g): slice %g != scalar %g", fn.name, x, ref[i], s)
			}
		}
		for _, n := range []int{0, 1, 3, 15, 16, 17, 31, 33, 100, 257} {
			for _, off := range []int{0, 1, 5} {
				if off+n > len(base) {
					continue
				}
				got := make([]float32, n+1)
				got[n] = 42
				fn.slice(got, base[off:off+n])
				for i := 0; i < n; i++ {
					if math.Float32bits(got[i]) != math.Float32bits(ref[off+i]) {
						t.Fatalf("%s n=%d off=%d: element %d = %g, want %g (same input at another position)",
							fn.name, n, off, i, got[i], ref[off+i])
					}
				}
				if got[n] != 42 {
					t.Fatalf("%s n=%d: wrote past the end", fn.name, n)
				}
			}
		}
		// In place.
		inPlace := append([]float32(nil), base...)
		fn.slice(inPlace, inPlace)
		for i := range inPlace {
			if math.Float32bits(inPlace[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("%s in place: element %d = %g, want %g", fn.name, i, inPlace[i], ref[i])
			}
		}
	}
}

func benchSlice(b *testing.B, n int, lo, hi float32, f func(dst, src []float32)) {
	src := make([]float32, n)
	for i := range src {
		src[i] = lo + (hi-lo)*float32(i%9973)/9973
	}
	dst := make([]float32, n)
	b.SetBytes(int64(n * 4))
	b.ResetTimer()
	for b.Loop() {
		f(dst, src)
	}
}

func BenchmarkExpSlice32(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchSlice(b, 1<<16, -20, 5, ExpSlice32) })
	b.Run("math.Exp", func(b *testing.B) {
		benchSlice(b, 1<<16, -20, 5, func(dst, src []float32) {
			for i, x := range src {
				dst[i] = float32(math.Exp(float64(x)))
			}
		})
	})
}

func BenchmarkGeluErfSlice32(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchSlice(b, 1<<16, -6, 6, GeluErfSlice32) })
	b.Run("math.Erf", func(b *testing.B) {
		benchSlice(b, 1<<16, -6, 6, func(dst, src []float32) {
			for i, x := range src {
				dst[i] = x * 0.5 * (1 + float32(math.Erf(float64(x*geluInvS2))))
			}
		})
	})
}
