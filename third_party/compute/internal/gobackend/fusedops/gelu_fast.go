// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package fusedops

import "github.com/gomlx/compute/internal/fastmath"

// geluChunkFloat32Fast computes the exact (erf) GELU of a float32 chunk with fastmath.GeluErfSlice32 (a float32
// erf with absolute error ≲ 1.2e-7, AVX-512 vectorised where available) instead of the float64 math.Erf of
// geluChunk.
func geluChunkFloat32Fast(input, output []float32) {
	fastmath.GeluErfSlice32(output, input)
}
