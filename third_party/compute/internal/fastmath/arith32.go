// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package fastmath

import "math"

// Element-wise float32 arithmetic on slices, dst[i] = x[i] op y[i] for i < len(dst) (x and y at least as long),
// AVX-512 where available. Results are the IEEE single-precision operations, bit-identical to the Go loops.
// Used by the Go backend's binary ops and its fused element-wise nodes.

// AddSlice32 sets dst[i] = x[i] + y[i].
func AddSlice32(dst, x, y []float32) { n := vectorAdd(dst, x, y); addScalar(dst[n:], x[n:], y[n:]) }

// SubSlice32 sets dst[i] = x[i] - y[i].
func SubSlice32(dst, x, y []float32) { n := vectorSub(dst, x, y); subScalar(dst[n:], x[n:], y[n:]) }

// MulSlice32 sets dst[i] = x[i] * y[i].
func MulSlice32(dst, x, y []float32) { n := vectorMul(dst, x, y); mulScalar(dst[n:], x[n:], y[n:]) }

// DivSlice32 sets dst[i] = x[i] / y[i].
func DivSlice32(dst, x, y []float32) { n := vectorDiv(dst, x, y); divScalar(dst[n:], x[n:], y[n:]) }

// SqrtSlice32 sets dst[i] = √x[i] (correctly rounded, as math.Sqrt through float64).
func SqrtSlice32(dst, x []float32) {
	n := vectorSqrt(dst, x)
	for i := n; i < len(dst); i++ {
		dst[i] = float32(math.Sqrt(float64(x[i])))
	}
}

func addScalar(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func subScalar(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mulScalar(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func divScalar(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] / y[i]
	}
}
