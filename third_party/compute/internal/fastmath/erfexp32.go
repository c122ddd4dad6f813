// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package fastmath

import "math"

// This file holds the scalar float32 versions of the exp, erf and exact-GELU kernels, and the slice functions that
// apply them (vectorised with AVX-512 where available, see erfexp32_avx512.go).
//
// Unlike Exp32 (which clamps), these follow IEEE special values: ExpIEEE32 returns +Inf on overflow, correctly
// rounded subnormals / 0 on underflow and NaN for NaN; Erf32 returns ±1 for ±Inf and NaN for NaN.
//
// Accuracy (see TestErfExp32Accuracy): ExpIEEE32 relative error ≲ 1.5e-7 (≈ 1-2 ulp), Erf32 absolute error ≲ 1.2e-7.
//
// The scalar versions use the same formulas as the AVX-512 kernels, with float32 fused multiply-adds emulated
// through math.FMA in float64 (which can, rarely, round differently by one ulp). On AVX-512 machines the slice
// functions use the vector kernel for every element (including the tail, with a partial load), so a result never
// depends on the position of its element.

// Constants of the exp kernel (Cephes expf range reduction and polynomial).
const (
	expHi     = 89.0   // above log(MaxFloat32) ≈ 88.72: 2^128·p overflows to +Inf.
	expLo     = -104.0 // below log(2^-150): the result rounds to 0.
	expLog2E  = 1.44269504088896341
	expLn2Hi  = 0.693359375 // 355/512: n·expLn2Hi is exact for |n| ≤ 150.
	expLn2Lo  = -2.12194440e-4
	expP7     = 1.9875691500e-4
	expP6     = 1.3981999507e-3
	expP5     = 8.3334519073e-3
	expP4     = 4.1665795894e-2
	expP3     = 1.6666665459e-1
	expP2     = 5.0000001201e-1
	erfSmall  = 0.875 // |x| below: odd polynomial; above: 1 - exp(-P(|x|)).
	erfOne    = 4.0   // |x| ≥ 4: erf(x) rounds to ±1 in float32.
	geluInvS2 = float32(1.0 / math.Sqrt2)
)

// Minimax coefficients of erf from ARM's optimized-routines (math/erff_data.c, MIT licensed):
// erf(x) = x + x·A(x²) for |x| < 0.875 and erf(x) = sign(x)·(1 - exp(-(|x| + |x|·B(|x|)))) for 0.875 ≤ |x| < 4.
const (
	erfA0 = 0x1.06eba6p-03
	erfA1 = -0x1.8126e0p-02
	erfA2 = 0x1.ce1a46p-04
	erfA3 = -0x1.b68bd2p-06
	erfA4 = 0x1.473f48p-08
	erfA5 = -0x1.3a1a82p-11

	erfB0 = 0x1.079d0cp-3
	erfB1 = 0x1.450aa0p-1
	erfB2 = 0x1.b55cb0p-4
	erfB3 = -0x1.8d6300p-6
	erfB4 = 0x1.fd1336p-9
	erfB5 = -0x1.91d2ccp-12
	erfB6 = 0x1.222900p-16
)

// fma32 returns a·b+c for float32 values, computed with one float64 fused multiply-add.
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// expCore32 computes e^x for x in [expLo, expHi] (no special values), scalar version of expCore16.
func expCore32(x float32) float32 {
	n := float32(math.RoundToEven(float64(float32(x * expLog2E))))
	g := fma32(n, -expLn2Hi, x)
	g = fma32(n, -expLn2Lo, g)
	p := fma32(expP7, g, expP6)
	p = fma32(p, g, expP5)
	p = fma32(p, g, expP4)
	p = fma32(p, g, expP3)
	p = fma32(p, g, expP2)
	g2 := g * g
	y := fma32(p, g2, g) + 1
	// y·2^n rounded once to float32 (as VSCALEFPS does): the float64 product is exact.
	return float32(float64(y) * math.Ldexp(1, int(n)))
}

// ExpIEEE32 returns e^x for float32 with ≈1-2 ulp accuracy, +Inf on overflow, correctly rounded subnormals on
// underflow and NaN for NaN.
func ExpIEEE32(x float32) float32 {
	if x != x {
		return x
	}
	return expCore32(min(max(x, expLo), expHi))
}

// erfParts32 returns the pieces of erf(x): small reports whether |x| < erfSmall, in which case erf(x) = s;
// otherwise e = exp(-(a + a·B(a))) with a = min(|x|, 4), and erf(x) = sign(x)·(1-e) (±1 for |x| ≥ 4).
func erfParts32(x float32) (small bool, s, e float32) {
	ax := float32(math.Abs(float64(x)))
	if ax < erfSmall {
		x2 := x * x
		r := fma32(erfA5, x2, erfA4)
		r = fma32(r, x2, erfA3)
		r = fma32(r, x2, erfA2)
		r = fma32(r, x2, erfA1)
		r = fma32(r, x2, erfA0)
		return true, fma32(r, x, x), 0
	}
	a := min(ax, erfOne)
	r := fma32(erfB6, a, erfB5)
	u := fma32(erfB4, a, erfB3)
	a2 := a * a
	r = fma32(r, a2, u)
	r = fma32(r, a, erfB2)
	r = fma32(r, a, erfB1)
	r = fma32(r, a, erfB0)
	r = fma32(r, a, a)
	return false, 0, expCore32(-r)
}

// Erf32 returns erf(x) for float32 with absolute error ≲ 1.2e-7; ±1 for ±Inf, NaN for NaN.
func Erf32(x float32) float32 {
	if x != x {
		return x
	}
	small, s, e := erfParts32(x)
	if small {
		return s
	}
	if math.Abs(float64(x)) >= erfOne {
		e = 0
	}
	return float32(math.Copysign(float64(1-e), float64(x)))
}

// GeluErf32 returns the exact GELU x·Φ(x) = x·0.5·(1+erf(x/√2)). For x/√2 ≤ -0.875 it computes 1+erf(x/√2) as
// exp(-P) directly (erfc), so it avoids the cancellation of 1 + erf.
func GeluErf32(x float32) float32 {
	if x != x {
		return x
	}
	z := x * geluInvS2
	small, s, e := erfParts32(z)
	var onePlusErf float32
	switch {
	case small:
		onePlusErf = 1 + s
	case z <= -erfOne:
		onePlusErf = 0
	case z >= erfOne:
		onePlusErf = 2
	case z < 0:
		onePlusErf = e
	default:
		onePlusErf = 2 - e
	}
	return x * 0.5 * onePlusErf
}

// ExpSlice32 sets dst[i] = ExpIEEE32(src[i]) (dst and src may be the same slice; len(dst) ≥ len(src)).
func ExpSlice32(dst, src []float32) {
	expSlice32(dst[:len(src)], src)
}

// ErfSlice32 sets dst[i] = Erf32(src[i]) (dst and src may be the same slice; len(dst) ≥ len(src)).
func ErfSlice32(dst, src []float32) {
	erfSlice32(dst[:len(src)], src)
}

// GeluErfSlice32 sets dst[i] = GeluErf32(src[i]) (dst and src may be the same slice; len(dst) ≥ len(src)).
func GeluErfSlice32(dst, src []float32) {
	geluErfSlice32(dst[:len(src)], src)
}

// expSlice32Scalar is the scalar loop of ExpSlice32.
func expSlice32Scalar(dst, src []float32) {
	for i, x := range src {
		dst[i] = ExpIEEE32(x)
	}
}

// erfSlice32Scalar is the scalar loop of ErfSlice32.
func erfSlice32Scalar(dst, src []float32) {
	for i, x := range src {
		dst[i] = Erf32(x)
	}
}

// geluErfSlice32Scalar is the scalar loop of GeluErfSlice32.
func geluErfSlice32Scalar(dst, src []float32) {
	for i, x := range src {
		dst[i] = GeluErf32(x)
	}
}
