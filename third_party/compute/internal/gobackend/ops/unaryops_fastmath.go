// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project.

package ops

import (
	"sync"

	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
)

// execExpFloat32 computes Exp for float32 with fastmath.ExpSlice32 (relative error ≲ 1e-7, IEEE special values,
// AVX-512 vectorised where available), in parallel chunks for large inputs.
func execExpFloat32(backend *gobackend.Backend, inputs, outputs []float32) {
	unaryParallelFloat32(backend, inputs, outputs, fastmath.ExpSlice32)
}

// execErfFloat32 computes Erf for float32 with fastmath.ErfSlice32 (absolute error ≲ 1.2e-7, AVX-512 vectorised
// where available), in parallel chunks for large inputs.
func execErfFloat32(backend *gobackend.Backend, inputs, outputs []float32) {
	unaryParallelFloat32(backend, inputs, outputs, fastmath.ErfSlice32)
}

// unaryParallelFloat32 runs fn(dst, src) over chunks of unaryMinParallelizeChunk elements on the backend's workers
// (sequentially for small inputs or without workers). Chunk boundaries are multiples of 16, and the kernels do not
// depend on the position of an element anyway.
func unaryParallelFloat32(backend *gobackend.Backend, inputs, outputs []float32, fn func(dst, src []float32)) {
	n := len(inputs)
	if backend == nil || !backend.Workers.IsEnabled() || n <= unaryMinParallelizeChunk {
		fn(outputs[:n], inputs)
		return
	}
	var wg sync.WaitGroup
	for ii := 0; ii < n; ii += unaryMinParallelizeChunk {
		iiEnd := min(ii+unaryMinParallelizeChunk, n)
		wg.Add(1)
		backend.Workers.WaitToStart(func() {
			fn(outputs[ii:iiEnd], inputs[ii:iiEnd])
			wg.Done()
		})
	}
	wg.Wait()
}
