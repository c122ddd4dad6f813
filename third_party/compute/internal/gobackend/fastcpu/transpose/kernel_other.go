// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package transpose

// transposeFloat32Kernel returns nil: without archsimd the generic scalar kernel is used.
func transposeFloat32Kernel() func(src, dst []float32, srcBase, dstBase, r0, r1, cols, rowSrcStride, colDstStride int) {
	return nil
}
