// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

//go:build amd64 && goexperiment.simd

package fastmath

// The loops index with unsafe pointers after one bounds check per slice: the compiler cannot prove the
// per-iteration bounds itself, and the checks cost more than the arithmetic. Each returns how many leading
// elements (a multiple of 16) it handled.

import (
	"simd/archsimd"
	"unsafe"
)

// at returns the 16 floats starting at element i of the array at p.
func at(p unsafe.Pointer, i int) *[16]float32 { return (*[16]float32)(unsafe.Add(p, 4*i)) }

// vectorLen returns the number of leading elements of dst the AVX-512 loops handle, after checking x and y
// (nil for unary ops) cover them.
func vectorLen(dst, x, y []float32) int {
	if !useAVX512 {
		return 0
	}
	n := len(dst) &^ 15
	if n > 0 {
		_ = x[n-1]
		if y != nil {
			_ = y[n-1]
		}
	}
	return n
}

func vectorAdd(dst, x, y []float32) int {
	n := vectorLen(dst, x, y)
	if n == 0 {
		return 0
	}
	d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16(at(a, i)).Add(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
	}
	return n
}

func vectorSub(dst, x, y []float32) int {
	n := vectorLen(dst, x, y)
	if n == 0 {
		return 0
	}
	d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16(at(a, i)).Sub(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
	}
	return n
}

func vectorMul(dst, x, y []float32) int {
	n := vectorLen(dst, x, y)
	if n == 0 {
		return 0
	}
	d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16(at(a, i)).Mul(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
	}
	return n
}

func vectorDiv(dst, x, y []float32) int {
	n := vectorLen(dst, x, y)
	if n == 0 {
		return 0
	}
	d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16(at(a, i)).Div(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
	}
	return n
}

func vectorSqrt(dst, x []float32) int {
	n := vectorLen(dst, x, nil)
	if n == 0 {
		return 0
	}
	d, a := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0])
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16(at(a, i)).Sqrt().Store(at(d, i))
	}
	return n
}
