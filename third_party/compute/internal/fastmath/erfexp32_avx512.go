// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

//go:build amd64 && goexperiment.simd

package fastmath

import (
	"math"
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

// useAVX512 selects the AVX-512 kernels of the slice functions (tests may turn it off to compare).
var useAVX512 = archsimd.X86.AVX512() && envutil.MustReadBool(envutil.SIMD_AVX512_Env, true)

// HasAVX512Kernels reports whether ExpSlice32, ErfSlice32 and GeluErfSlice32 use AVX-512 kernels.
func HasAVX512Kernels() bool { return useAVX512 }

// The kernels below are written out in full in each loop (the Go compiler does not inline functions this large,
// and a call per 16 lanes costs more than the arithmetic), with the constants broadcast once before the loop.
// The tail goes through the same loop body with a partial load/store, so every element gets the same formula.
//
// exp: n = round(x·log2e), g = x - n·ln2 (two-part ln2), e^g = 1 + g + g²·P(g) (Cephes), times 2^n by VSCALEFPS,
// which rounds once, overflows to +Inf and produces correctly rounded subnormals.

// expSlice32 implements ExpSlice32.
func expSlice32(dst, src []float32) {
	if !useAVX512 {
		expSlice32Scalar(dst, src)
		return
	}
	lo, hi := archsimd.BroadcastFloat32x16(expLo), archsimd.BroadcastFloat32x16(expHi)
	log2e := archsimd.BroadcastFloat32x16(expLog2E)
	negLn2Hi, negLn2Lo := archsimd.BroadcastFloat32x16(-expLn2Hi), archsimd.BroadcastFloat32x16(-expLn2Lo)
	p7, p6 := archsimd.BroadcastFloat32x16(expP7), archsimd.BroadcastFloat32x16(expP6)
	p5, p4 := archsimd.BroadcastFloat32x16(expP5), archsimd.BroadcastFloat32x16(expP4)
	p3, p2 := archsimd.BroadcastFloat32x16(expP3), archsimd.BroadcastFloat32x16(expP2)
	one := archsimd.BroadcastFloat32x16(1)
	n := len(src)
	for i := 0; i < n; i += 16 {
		var x archsimd.Float32x16
		if i+16 <= n {
			x = archsimd.LoadFloat32x16Slice(src[i:])
		} else {
			x = archsimd.LoadFloat32x16SlicePart(src[i:])
		}
		xc := x.Max(lo).Min(hi)
		k := xc.Mul(log2e).RoundToEvenScaled(0)
		g := k.MulAdd(negLn2Hi, xc)
		g = k.MulAdd(negLn2Lo, g)
		p := p7.MulAdd(g, p6).MulAdd(g, p5).MulAdd(g, p4).MulAdd(g, p3).MulAdd(g, p2)
		y := p.MulAdd(g.Mul(g), g).Add(one).Scale(k)
		y = x.Merge(y, x.IsNaN())
		if i+16 <= n {
			y.StoreSlice(dst[i:])
		} else {
			y.StoreSlicePart(dst[i:n])
		}
	}
}

// erfConsts16 holds the broadcast constants of the erf kernel.
type erfConsts16 struct {
	a0, a1, a2, a3, a4, a5                 archsimd.Float32x16
	b0, b1, b2, b3, b4, b5, b6             archsimd.Float32x16
	log2e, negLn2Hi, negLn2Lo              archsimd.Float32x16
	p7, p6, p5, p4, p3, p2                 archsimd.Float32x16
	zero, one, two, half, small, four, inv archsimd.Float32x16
	absMask, signMask                      archsimd.Uint32x16
	nan                                    archsimd.Float32x16
}

// newErfConsts16 broadcasts the constants of the erf kernel.
func newErfConsts16() (c erfConsts16) {
	b := archsimd.BroadcastFloat32x16
	c.a0, c.a1, c.a2, c.a3, c.a4, c.a5 = b(erfA0), b(erfA1), b(erfA2), b(erfA3), b(erfA4), b(erfA5)
	c.b0, c.b1, c.b2, c.b3, c.b4, c.b5, c.b6 = b(erfB0), b(erfB1), b(erfB2), b(erfB3), b(erfB4), b(erfB5), b(erfB6)
	c.log2e, c.negLn2Hi, c.negLn2Lo = b(expLog2E), b(-expLn2Hi), b(-expLn2Lo)
	c.p7, c.p6, c.p5, c.p4, c.p3, c.p2 = b(expP7), b(expP6), b(expP5), b(expP4), b(expP3), b(expP2)
	c.zero, c.one, c.two, c.half, c.small, c.four, c.inv = b(0), b(1), b(2), b(0.5), b(erfSmall), b(erfOne), b(geluInvS2)
	c.absMask, c.signMask = archsimd.BroadcastUint32x16(0x7fffffff), archsimd.BroadcastUint32x16(0x80000000)
	c.nan = b(math.Float32frombits(0x7fc00000))
	return
}

// erfSlice32 implements ErfSlice32: erf(x) = x + x·A(x²) for |x| < 0.875, sign(x)·(1 - exp(-(a + a·B(a)))) with
// a = min(|x|, 4) above, ±1 for |x| ≥ 4.
func erfSlice32(dst, src []float32) {
	if !useAVX512 {
		erfSlice32Scalar(dst, src)
		return
	}
	c := newErfConsts16()
	n := len(src)
	for i := 0; i < n; i += 16 {
		var x archsimd.Float32x16
		if i+16 <= n {
			x = archsimd.LoadFloat32x16Slice(src[i:])
		} else {
			x = archsimd.LoadFloat32x16SlicePart(src[i:])
		}
		nan := x.IsNaN()
		x = c.zero.Merge(x, nan) // NaN lanes are computed as 0 and patched at the end.
		ax := x.AsUint32x16().And(c.absMask).AsFloat32x16()

		x2 := x.Mul(x)
		s := c.a5.MulAdd(x2, c.a4).MulAdd(x2, c.a3).MulAdd(x2, c.a2).MulAdd(x2, c.a1).MulAdd(x2, c.a0).MulAdd(x, x)

		a := ax.Min(c.four)
		r := c.b6.MulAdd(a, c.b5)
		u := c.b4.MulAdd(a, c.b3)
		r = r.MulAdd(a.Mul(a), u).MulAdd(a, c.b2).MulAdd(a, c.b1).MulAdd(a, c.b0).MulAdd(a, a)
		// e = exp(-r), -r ∈ [-16.5, -0.7]: no special values.
		mr := c.zero.Sub(r)
		k := mr.Mul(c.log2e).RoundToEvenScaled(0)
		g := k.MulAdd(c.negLn2Hi, mr)
		g = k.MulAdd(c.negLn2Lo, g)
		p := c.p7.MulAdd(g, c.p6).MulAdd(g, c.p5).MulAdd(g, c.p4).MulAdd(g, c.p3).MulAdd(g, c.p2)
		e := p.MulAdd(g.Mul(g), g).Add(c.one).Scale(k)

		e = c.zero.Merge(e, ax.GreaterEqual(c.four))
		large := c.one.Sub(e).AsUint32x16().Or(x.AsUint32x16().And(c.signMask)).AsFloat32x16()
		y := s.Merge(large, ax.Less(c.small))
		y = c.nan.Merge(y, nan)
		if i+16 <= n {
			y.StoreSlice(dst[i:])
		} else {
			y.StoreSlicePart(dst[i:n])
		}
	}
}

// geluErfSlice32 implements GeluErfSlice32 with the erf kernel of erfSlice32 on z = x/√2, taking 1+erf(z) = e for
// z ≤ -0.875 (no cancellation), 2-e for z ≥ 0.875, 0 / 2 for z ≤ -4 / z ≥ 4.
func geluErfSlice32(dst, src []float32) {
	if !useAVX512 {
		geluErfSlice32Scalar(dst, src)
		return
	}
	c := newErfConsts16()
	negFour := archsimd.BroadcastFloat32x16(-erfOne)
	n := len(src)
	for i := 0; i < n; i += 16 {
		var x archsimd.Float32x16
		if i+16 <= n {
			x = archsimd.LoadFloat32x16Slice(src[i:])
		} else {
			x = archsimd.LoadFloat32x16SlicePart(src[i:])
		}
		nan := x.IsNaN()
		x = c.zero.Merge(x, nan) // NaN lanes are computed as 0 and patched at the end.
		z := x.Mul(c.inv)
		az := z.AsUint32x16().And(c.absMask).AsFloat32x16()

		z2 := z.Mul(z)
		s := c.a5.MulAdd(z2, c.a4).MulAdd(z2, c.a3).MulAdd(z2, c.a2).MulAdd(z2, c.a1).MulAdd(z2, c.a0).MulAdd(z, z)

		a := az.Min(c.four)
		r := c.b6.MulAdd(a, c.b5)
		u := c.b4.MulAdd(a, c.b3)
		r = r.MulAdd(a.Mul(a), u).MulAdd(a, c.b2).MulAdd(a, c.b1).MulAdd(a, c.b0).MulAdd(a, a)
		mr := c.zero.Sub(r)
		k := mr.Mul(c.log2e).RoundToEvenScaled(0)
		g := k.MulAdd(c.negLn2Hi, mr)
		g = k.MulAdd(c.negLn2Lo, g)
		p := c.p7.MulAdd(g, c.p6).MulAdd(g, c.p5).MulAdd(g, c.p4).MulAdd(g, c.p3).MulAdd(g, c.p2)
		e := p.MulAdd(g.Mul(g), g).Add(c.one).Scale(k)

		pos := c.two.Merge(c.two.Sub(e), z.GreaterEqual(c.four))
		neg := c.zero.Merge(e, z.LessEqual(negFour))
		onePlusErf := neg.Merge(pos, z.Less(c.zero))
		onePlusErf = c.one.Add(s).Merge(onePlusErf, az.Less(c.small))
		y := x.Mul(c.half).Mul(onePlusErf)
		y = c.nan.Merge(y, nan)
		if i+16 <= n {
			y.StoreSlice(dst[i:])
		} else {
			y.StoreSlicePart(dst[i:n])
		}
	}
}
