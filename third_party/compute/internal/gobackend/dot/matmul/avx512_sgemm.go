// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

// Added by the UNITER-in-Go project (third_party/README.md): float32 products large enough to pay for packing go to
// package sgemm's 12×32 assembly micro-kernel; smaller ones keep GoMLX's AVX-512 router.

import (
	"simd/archsimd"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/internal/gobackend/dot/sgemm"
	"github.com/gomlx/compute/support/envutil"
)

// SGEMMEnv turns the sgemm kernel off when set to false (GoMLX's own AVX-512 kernel is used instead);
// SGEMMMinSizeEnv sets the smallest product (batch·M·N·K) it takes (tests use 1 to route tiny products to it).
const (
	SGEMMEnv        = "GOMLX_DOT_SGEMM"
	SGEMMMinSizeEnv = "GOMLX_DOT_SGEMM_MIN_SIZE"
)

// sgemmMinSize is the smallest product the sgemm kernel takes; smaller ones do not pay for its packing.
var sgemmMinSize = noSIMDSmallMatMulSizeThreshold

// PrioritySGEMM ranks the sgemm kernel above GoMLX's AVX-512 one.
const PrioritySGEMM = PriorityAVX512 + 1

func init() {
	if !envutil.MustReadBool(EnabledEnv, true) || !envutil.MustReadBool(SGEMMEnv, true) ||
		!envutil.MustReadBool(envutil.SIMD_AVX512_Env, true) || !archsimd.X86.AVX512() {
		return
	}
	n, err := envutil.ReadInt(SGEMMMinSizeEnv, sgemmMinSize)
	if err != nil {
		panic(err)
	}
	sgemmMinSize = n
	dot.RegisterImplementation("sgemm:avx512", dot.LayoutNonTransposed, dtypes.Float32, dtypes.Float32, sgemmFloat32, PrioritySGEMM, false)
	dot.RegisterImplementation("sgemm:avx512", dot.LayoutTransposed, dtypes.Float32, dtypes.Float32, sgemmFloat32, PrioritySGEMM, false)
}

// sgemmFloat32 is the DotGeneralExecFn of the sgemm kernel.
func sgemmFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) {
	// Small products, and by default those with fewer than 4 rows (pooler, heads), keep GoMLX's router; a minimum
	// size of 1 (the tests' setting) routes every product here.
	if batchSize*lhsCrossSize*rhsCrossSize*contractingSize < sgemmMinSize || (lhsCrossSize < 4 && sgemmMinSize > 1) {
		avx512RouterFloat32(backend, layout, lhs, rhs, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, output)
		return
	}
	p := &sgemm.Problem{LHS: lhs, RHS: rhs, Out: output, Batch: batchSize, M: lhsCrossSize, N: rhsCrossSize,
		K: contractingSize, TransposedRHS: layout == dot.LayoutTransposed}
	workers := backend.Workers.AdjustedMaxParallelism()
	tasks := p.Tasks(workers)
	if workers <= 1 || len(tasks) == 1 {
		for _, t := range tasks {
			p.Run(t)
		}
		return
	}
	var next atomic.Int64
	backend.Workers.Saturate(func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(tasks) {
				return
			}
			p.Run(tasks[i])
		}
	})
}
