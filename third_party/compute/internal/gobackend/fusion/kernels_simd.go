// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusion

// Added by the UNITER-in-Go project: AVX-512 loops of the fused instructions (scalar loops when the CPU lacks it).
// The loops index with unsafe pointers: the operands of an instruction all have the destination's length (checked
// once on entry), which the compiler cannot prove per iteration.

import (
	"simd/archsimd"
	"unsafe"
)

var hasAVX512 = archsimd.X86.AVX512()

// at returns the 16 floats starting at element i of the array at p.
func at(p unsafe.Pointer, i int) *[16]float32 { return (*[16]float32)(unsafe.Add(p, 4*i)) }

// vectorPart returns how many leading elements of n the AVX-512 loops handle.
func vectorPart(n int) int {
	if !hasAVX512 {
		return 0
	}
	return n &^ 15
}

func add(dst, x, y []float32) {
	n := vectorPart(len(dst))
	if n > 0 {
		_, _ = x[n-1], y[n-1]
		d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
		for i := 0; i < n; i += 16 {
			archsimd.LoadFloat32x16(at(a, i)).Add(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] + y[i]
	}
}

func sub(dst, x, y []float32) {
	n := vectorPart(len(dst))
	if n > 0 {
		_, _ = x[n-1], y[n-1]
		d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
		for i := 0; i < n; i += 16 {
			archsimd.LoadFloat32x16(at(a, i)).Sub(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] - y[i]
	}
}

func mul(dst, x, y []float32) {
	n := vectorPart(len(dst))
	if n > 0 {
		_, _ = x[n-1], y[n-1]
		d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
		for i := 0; i < n; i += 16 {
			archsimd.LoadFloat32x16(at(a, i)).Mul(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] * y[i]
	}
}

func div(dst, x, y []float32) {
	n := vectorPart(len(dst))
	if n > 0 {
		_, _ = x[n-1], y[n-1]
		d, a, b := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0])
		for i := 0; i < n; i += 16 {
			archsimd.LoadFloat32x16(at(a, i)).Div(archsimd.LoadFloat32x16(at(b, i))).Store(at(d, i))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] / y[i]
	}
}

func sqrt(dst, x []float32) {
	n := vectorPart(len(dst))
	if n > 0 {
		_ = x[n-1]
		d, a := unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0])
		for i := 0; i < n; i += 16 {
			archsimd.LoadFloat32x16(at(a, i)).Sqrt().Store(at(d, i))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = float32(sqrtScalar(float64(x[i])))
	}
}
