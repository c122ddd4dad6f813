// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package fusion

// Added by the UNITER-in-Go project: portable loops of the fused instructions.

func add(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func sub(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mul(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func div(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] / y[i]
	}
}

func sqrt(dst, x []float32) {
	for i := range dst {
		dst[i] = float32(sqrtScalar(float64(x[i])))
	}
}
