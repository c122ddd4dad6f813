// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package sgemm

import (
	"simd/archsimd"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/internal/gobackend/dot/matmul"
	_ "github.com/gomlx/compute/internal/gobackend/dot/matmul/avx512" // registers upstream's kernel first: it takes what sgemm leaves
	"github.com/gomlx/compute/internal/gobackend/fastcpu"
	"github.com/gomlx/compute/support/envutil"
)

// MinSizeEnv sets the smallest product (batch·M·N·K) the kernel takes (tests use 1 to route every product to it).
// With the kernel switched off (package fastcpu, GOMLX_DOT_SGEMM=false) upstream's AVX-512 kernel takes every product.
const MinSizeEnv = "GOMLX_DOT_SGEMM_MIN_SIZE"

// minSize is the smallest product the kernel takes by default; smaller ones do not pay for its packing.
var minSize = envutil.MustReadInt(MinSizeEnv, 4<<20)

// upstream holds, per layout, the implementation registered before this one, called for the products left to it.
var upstream [2]dot.DotGeneralExecFn[float32, float32]

func init() {
	if !envutil.MustReadBool(matmul.EnabledEnv, true) || !gobackend.IsAVX512Allowed || !archsimd.X86.AVX512() {
		return
	}
	for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed} {
		prev := dot.FindRegisteredImplementation(layout, dtypes.Float32, dtypes.Float32)
		if prev == nil {
			return
		}
		upstream[layout] = prev.ImplFn().(dot.DotGeneralExecFn[float32, float32])
	}
	dot.RegisterImplementation("sgemm:avx512", dot.LayoutNonTransposed, dtypes.Float32, dtypes.Float32, execFloat32, matmul.PriorityAVX512+1, false)
	dot.RegisterImplementation("sgemm:avx512", dot.LayoutTransposed, dtypes.Float32, dtypes.Float32, execFloat32, matmul.PriorityAVX512+1, false)
}

// execFloat32 is the DotGeneralExecFn of the kernel. With the kernel switched off every product, otherwise small products, those with fewer than 4 rows (pooler, heads)
// and those with an operand upstream keeps pre-packed (a constant) go to upstream's kernel; a minimum size of 1 (the
// tests' setting) routes every product here.
func execFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32, nodeData *dot.NodeData) {
	small := batchSize*lhsCrossSize*rhsCrossSize*contractingSize < minSize || (lhsCrossSize < 4 && minSize > 1)
	prepacked := nodeData != nil && (nodeData.PackedLHSCache != nil || nodeData.PackedRHSCache != nil) && minSize > 1
	if small || prepacked || !fastcpu.Enabled(fastcpu.SGEMM) {
		upstream[layout](backend, layout, lhs, rhs, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, output, nodeData)
		return
	}
	p := &Problem{LHS: lhs, RHS: rhs, Out: output, Batch: batchSize, M: lhsCrossSize, N: rhsCrossSize,
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
