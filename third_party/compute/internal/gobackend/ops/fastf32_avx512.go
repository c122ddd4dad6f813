// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project: AVX-512 kernels for the float32 binary-ops and reduction fast paths.

//go:build amd64 && goexperiment.simd

package ops

import (
	"math"
	"simd/archsimd"
)

func init() {
	if !archsimd.X86.AVX512() {
		return
	}
	f32BinaryVS = f32BinaryVSAVX512
	f32BinarySV = f32BinarySVAVX512
	f32Sum = f32SumAVX512
	f32AccumulateRow = f32AccumulateRowAVX512
	f32MaxRow = f32MaxRowAVX512
}

// f32BinaryVSAVX512 is the AVX-512 version of f32BinaryVS.
func f32BinaryVSAVX512(op f32BinaryOp, a []float32, s float32, out []float32) {
	n := len(out)
	a = a[:n]
	i := 0
	if n >= 16 {
		sv := archsimd.BroadcastFloat32x16(s)
		switch op {
		case f32OpAdd:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Add(sv).StoreSlice(out[i:])
			}
		case f32OpSub:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Sub(sv).StoreSlice(out[i:])
			}
		case f32OpMul:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Mul(sv).StoreSlice(out[i:])
			}
		case f32OpDiv:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Div(sv).StoreSlice(out[i:])
			}
		}
	}
	if i < n {
		f32BinaryVSGo(op, a[i:], s, out[i:])
	}
}

// f32BinarySVAVX512 is the AVX-512 version of f32BinarySV.
func f32BinarySVAVX512(op f32BinaryOp, s float32, b, out []float32) {
	n := len(out)
	b = b[:n]
	i := 0
	if n >= 16 {
		sv := archsimd.BroadcastFloat32x16(s)
		switch op {
		case f32OpAdd:
			for ; i+16 <= n; i += 16 {
				sv.Add(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(out[i:])
			}
		case f32OpSub:
			for ; i+16 <= n; i += 16 {
				sv.Sub(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(out[i:])
			}
		case f32OpMul:
			for ; i+16 <= n; i += 16 {
				sv.Mul(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(out[i:])
			}
		case f32OpDiv:
			for ; i+16 <= n; i += 16 {
				sv.Div(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(out[i:])
			}
		}
	}
	if i < n {
		f32BinarySVGo(op, s, b[i:], out[i:])
	}
}

// f32HorizontalSum returns the sum of the 16 lanes of v.
func f32HorizontalSum(v archsimd.Float32x16) float32 {
	v8 := v.GetHi().Add(v.GetLo())
	v4 := v8.GetHi().Add(v8.GetLo())
	var arr [4]float32
	v4.Store(&arr)
	return (arr[0] + arr[1]) + (arr[2] + arr[3])
}

// f32SumAVX512 is the AVX-512 version of f32Sum: 4 vector accumulators, scalar tail.
func f32SumAVX512(x []float32) float32 {
	n := len(x)
	if n < 16 {
		return f32SumGo(x)
	}
	var acc0, acc1, acc2, acc3 archsimd.Float32x16
	i := 0
	for ; i+64 <= n; i += 64 {
		acc0 = acc0.Add(archsimd.LoadFloat32x16Slice(x[i:]))
		acc1 = acc1.Add(archsimd.LoadFloat32x16Slice(x[i+16:]))
		acc2 = acc2.Add(archsimd.LoadFloat32x16Slice(x[i+32:]))
		acc3 = acc3.Add(archsimd.LoadFloat32x16Slice(x[i+48:]))
	}
	for ; i+16 <= n; i += 16 {
		acc0 = acc0.Add(archsimd.LoadFloat32x16Slice(x[i:]))
	}
	total := f32HorizontalSum(acc0.Add(acc1).Add(acc2.Add(acc3)))
	for ; i < n; i++ {
		total += x[i]
	}
	return total
}

// f32AccumulateRowAVX512 is the AVX-512 version of f32AccumulateRow.
func f32AccumulateRowAVX512(acc, row []float32) {
	n := len(acc)
	row = row[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		archsimd.LoadFloat32x16Slice(acc[i:]).Add(archsimd.LoadFloat32x16Slice(row[i:])).StoreSlice(acc[i:])
	}
	for ; i < n; i++ {
		acc[i] += row[i]
	}
}

// f32MaxRowAVX512 is the AVX-512 version of f32MaxRow. It returns ok=false if x has NaNs or if the
// maximum is zero (the sign of zero could differ from Go's max semantics).
func f32MaxRowAVX512(x []float32) (float32, bool) {
	n := len(x)
	if n < 32 {
		return f32MaxGo(x), true
	}
	negInf := float32(math.Inf(-1))
	acc0 := archsimd.BroadcastFloat32x16(negInf)
	acc1, acc2, acc3 := acc0, acc0, acc0
	nanMask := acc0.IsNaN()
	i := 0
	for ; i+64 <= n; i += 64 {
		v0 := archsimd.LoadFloat32x16Slice(x[i:])
		v1 := archsimd.LoadFloat32x16Slice(x[i+16:])
		v2 := archsimd.LoadFloat32x16Slice(x[i+32:])
		v3 := archsimd.LoadFloat32x16Slice(x[i+48:])
		nanMask = nanMask.Or(v0.IsNaN().Or(v1.IsNaN())).Or(v2.IsNaN().Or(v3.IsNaN()))
		acc0 = acc0.Max(v0)
		acc1 = acc1.Max(v1)
		acc2 = acc2.Max(v2)
		acc3 = acc3.Max(v3)
	}
	for ; i+16 <= n; i += 16 {
		v0 := archsimd.LoadFloat32x16Slice(x[i:])
		nanMask = nanMask.Or(v0.IsNaN())
		acc0 = acc0.Max(v0)
	}
	if nanMask.ToBits() != 0 {
		return 0, false
	}
	var lanes [16]float32
	acc0.Max(acc1).Max(acc2.Max(acc3)).Store(&lanes)
	m := negInf
	for _, v := range lanes {
		m = max(m, v)
	}
	for ; i < n; i++ {
		m = max(m, x[i])
	}
	if m == 0 || m != m {
		return 0, false
	}
	return m, true
}
