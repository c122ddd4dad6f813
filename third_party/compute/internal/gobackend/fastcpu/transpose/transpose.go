// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// Package transpose is a Transpose executor of the Go backend for every permutation: size-1 axes are dropped and
// operand axes that stay adjacent are merged, the rest runs as contiguous-run copies or cache-blocked 2-D transposes
// (16×16 AVX-512 register tiles for 4-byte types). It is bit-exact (values are only moved).
//
// Added by the UNITER-in-Go project (third_party/README.md). Upstream's executor has fast paths for the identity, 2-D,
// [0,2,1,3] and trailing-axis-kept permutations and an index iterator for the others. Its paths that keep the last
// axis are as fast as this one and keep those permutations; this one takes those that move the last axis: the 2-D
// transposes (10-25× faster than upstream's on this CPU) and those upstream iterates over (attention's [0,1,3,2] of
// the keys, the [2,0,1] of weight gradients: 10-35×). With the kernel switched off (package fastcpu,
// GOMLX_FASTCPU_TRANSPOSE=false) upstream's executor takes every permutation.
package transpose

import (
	"sync"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/fastcpu"
	"github.com/gomlx/compute/internal/gobackend/ops"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeTranspose, gobackend.PriorityArch+1, execTranspose)
}

// execTranspose implements Transpose for every dtype the Go backend stores; other dtypes fall back to upstream.
func execTranspose(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, _ []bool) (*gobackend.Buffer, error) {
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	if backend.NoOps {
		return output, nil
	}
	perm := node.Data.([]int)
	if !fastcpu.Enabled(fastcpu.Transpose) || (len(perm) > 0 && perm[len(perm)-1] == len(perm)-1) {
		ops.ExecuteTranspose(backend, inputs[0], output, perm)
		return output, nil
	}
	if !transposeFast(backend, inputs[0], output, perm) {
		backend.PutBuffer(output)
		return nil, gobackend.ErrFallback
	}
	return output, nil
}

// transposeTile is the side of the square tiles used by the cache-blocked 2-D transpose kernel.
const transposeTile = 32

// transposeColTile is the number of columns transposed at a time by the scalar 2-D transpose kernel.
const transposeColTile = 8

// transposeMinParallelSize is the minimum number of elements of a transpose for it to be split
// among workers.
const transposeMinParallelSize = 1024 * 1024

// transposeAxis describes one axis of the loop nest of the fast transpose: its size and the
// stride (in elements) that one step along it corresponds to in the operand (src) and in the
// output (dst).
type transposeAxis struct {
	size, srcStride, dstStride int
}

// transposePlan is a simplified description of a transpose, after dropping axes of size 1 and
// merging operand axes that stay adjacent (and in the same order) in the output.
//
// The transpose is executed as a loop nest over outer, and for each combination of outer
// indices either:
//
//   - innerCopy > 0: a contiguous copy of innerCopy elements (the last axis is not moved).
//   - otherwise: a 2-D transpose of a rows x cols block, where element (r, c) is read from
//     src[srcBase + r*rowSrcStride + c] and written to dst[dstBase + c*colDstStride + r].
type transposePlan struct {
	size  int
	outer []transposeAxis

	innerCopy int

	rows, cols                 int
	rowSrcStride, colDstStride int
}

// newTransposePlan simplifies the transpose of an operand with the given dimensions by the
// permutation (output axis i is operand axis permutations[i]) into a transposePlan.
func newTransposePlan(dimensions, permutations []int) *transposePlan {
	rank := len(dimensions)
	plan := &transposePlan{size: 1}
	for _, dim := range dimensions {
		plan.size *= dim
	}
	if plan.size == 0 {
		return plan
	}

	// Drop axes of size 1: map old operand axes to the new (compacted) ones.
	newAxis := make([]int, rank)
	dims := make([]int, 0, rank)
	for axis, dim := range dimensions {
		if dim == 1 {
			newAxis[axis] = -1
			continue
		}
		newAxis[axis] = len(dims)
		dims = append(dims, dim)
	}
	perm := make([]int, 0, len(dims))
	for _, axis := range permutations {
		if newAxis[axis] >= 0 {
			perm = append(perm, newAxis[axis])
		}
	}

	// Merge operand axes that are consecutive in the output permutation: axis perm[i] and
	// perm[i]+1 == perm[i+1] become one axis.
	// mergedOf[operandAxis] is the merged axis index for the first operand axis of each group.
	{
		isGroupStart := make([]bool, len(dims))
		for i := range perm {
			if i == 0 || perm[i] != perm[i-1]+1 {
				isGroupStart[perm[i]] = true
			}
		}
		mergedOf := make([]int, len(dims))
		mergedDims := make([]int, 0, len(dims))
		for axis, dim := range dims {
			if isGroupStart[axis] {
				mergedOf[axis] = len(mergedDims)
				mergedDims = append(mergedDims, dim)
			} else {
				mergedDims[len(mergedDims)-1] *= dim
			}
		}
		mergedPerm := make([]int, 0, len(mergedDims))
		for _, axis := range perm {
			if isGroupStart[axis] {
				mergedPerm = append(mergedPerm, mergedOf[axis])
			}
		}
		dims, perm = mergedDims, mergedPerm
	}
	rank = len(dims)
	if rank <= 1 {
		// Pure copy.
		plan.innerCopy = plan.size
		return plan
	}

	// Strides of the (merged) operand and output.
	srcStrides := make([]int, rank)
	dstStrides := make([]int, rank)
	srcStride, dstStride := 1, 1
	for axis := rank - 1; axis >= 0; axis-- {
		srcStrides[axis] = srcStride
		srcStride *= dims[axis]
		dstStrides[axis] = dstStride
		dstStride *= dims[perm[axis]]
	}

	lastAxis := rank - 1
	if perm[lastAxis] == lastAxis {
		// The last axis is not moved: contiguous copies of it.
		plan.innerCopy = dims[lastAxis]
		for outAxis := range lastAxis {
			plan.outer = append(plan.outer, transposeAxis{
				size:      dims[perm[outAxis]],
				srcStride: srcStrides[perm[outAxis]],
				dstStride: dstStrides[outAxis],
			})
		}
		return plan
	}

	// 2-D transposes of blocks: rows are the operand axis that becomes the last axis of the output,
	// columns are the last axis of the operand.
	rowAxis := perm[lastAxis]
	var colOutAxis int
	for outAxis, axis := range perm {
		if axis == lastAxis {
			colOutAxis = outAxis
		}
	}
	plan.rows = dims[rowAxis]
	plan.cols = dims[lastAxis]
	plan.rowSrcStride = srcStrides[rowAxis]
	plan.colDstStride = dstStrides[colOutAxis]
	for outAxis := range lastAxis {
		if outAxis == colOutAxis {
			continue
		}
		plan.outer = append(plan.outer, transposeAxis{
			size:      dims[perm[outAxis]],
			srcStride: srcStrides[perm[outAxis]],
			dstStride: dstStrides[outAxis],
		})
	}
	return plan
}

// numOuter returns the number of iterations of the outer loop nest.
func (plan *transposePlan) numOuter() int {
	n := 1
	for _, axis := range plan.outer {
		n *= axis.size
	}
	return n
}

// numRowBlocks returns the number of tiles along the rows of the 2-D transpose kernel.
func (plan *transposePlan) numRowBlocks() int {
	return (plan.rows + transposeTile - 1) / transposeTile
}

// numWorkUnits is the number of independent work units the transpose is split into: each
// unit covers one outer iteration (for copies) or one row-block of one outer iteration (for 2-D
// transposes).
func (plan *transposePlan) numWorkUnits() int {
	if plan.innerCopy > 0 {
		return plan.numOuter()
	}
	return plan.numOuter() * plan.numRowBlocks()
}

// outerOffsets returns the src and dst offsets of the outer iteration with flat index idx
// (row-major over plan.outer), and fills indices with the per-axis indices.
func (plan *transposePlan) outerOffsets(idx int, indices []int) (srcOffset, dstOffset int) {
	for axis := len(plan.outer) - 1; axis >= 0; axis-- {
		a := plan.outer[axis]
		i := idx % a.size
		idx /= a.size
		indices[axis] = i
		srcOffset += i * a.srcStride
		dstOffset += i * a.dstStride
	}
	return
}

// transposeBlock2DFn is the signature of the 2-D block transpose kernels, see transposeBlock2D.
type transposeBlock2DFn[T any] func(src, dst []T, srcBase, dstBase, r0, r1, cols, rowSrcStride, colDstStride int)

// transposeBlock2DFloat32 is the accelerated 2-D block transpose kernel for 4-byte types (using
// float32 as the container: the values are only moved, so any 4-byte type can be reinterpreted),
// or nil if not available.
var transposeBlock2DFloat32 transposeBlock2DFn[float32] = transposeFloat32Kernel()

// transposeRun executes the work units [start, end) of the plan, using block2D as the 2-D
// transpose kernel.
func transposeRun[T any](plan *transposePlan, src, dst []T, start, end int, block2D transposeBlock2DFn[T]) {
	if start >= end {
		return
	}
	var indicesBuf [8]int
	indices := indicesBuf[:0]
	if len(plan.outer) <= len(indicesBuf) {
		indices = indicesBuf[:len(plan.outer)]
	} else {
		indices = make([]int, len(plan.outer))
	}
	numRowBlocks := 1
	if plan.innerCopy == 0 {
		numRowBlocks = plan.numRowBlocks()
	}
	outerIdx, rowBlock := start/numRowBlocks, start%numRowBlocks
	srcOffset, dstOffset := plan.outerOffsets(outerIdx, indices)
	outer := plan.outer
	inner := plan.innerCopy
	for unit := start; unit < end; unit++ {
		if inner > 0 {
			copy(dst[dstOffset:dstOffset+inner], src[srcOffset:srcOffset+inner])
		} else {
			r0 := rowBlock * transposeTile
			r1 := min(r0+transposeTile, plan.rows)
			block2D(src, dst, srcOffset, dstOffset, r0, r1, plan.cols, plan.rowSrcStride, plan.colDstStride)
			rowBlock++
			if rowBlock < numRowBlocks {
				continue
			}
			rowBlock = 0
		}
		// Advance the outer odometer.
		for axis := len(outer) - 1; axis >= 0; axis-- {
			a := &outer[axis]
			indices[axis]++
			srcOffset += a.srcStride
			dstOffset += a.dstStride
			if indices[axis] < a.size {
				break
			}
			indices[axis] = 0
			srcOffset -= a.size * a.srcStride
			dstOffset -= a.size * a.dstStride
		}
	}
}

// transposeBlock2D transposes rows [r0, r1) (all cols columns) of the 2-D block at srcBase/dstBase:
// element (r, c) is read from src[srcBase + r*rowSrcStride + c] and written to
// dst[dstBase + c*colDstStride + r].
//
// It works on strips of transposeColTile columns, so that the output cache lines being written
// (one per column) fit in the L1 cache even when colDstStride is a multiple of the page size
// (cache associativity conflicts).
func transposeBlock2D[T any](src, dst []T, srcBase, dstBase, r0, r1, cols, rowSrcStride, colDstStride int) {
	for c0 := 0; c0 < cols; c0 += transposeColTile {
		c1 := min(c0+transposeColTile, cols)
		for r := r0; r < r1; r++ {
			srcRow := src[srcBase+r*rowSrcStride+c0 : srcBase+r*rowSrcStride+c1]
			d := dstBase + c0*colDstStride + r
			for _, v := range srcRow {
				dst[d] = v
				d += colDstStride
			}
		}
	}
}

// transposeFastTyped executes the plan on src/dst, using the workers pool if the transpose is
// large enough, with the generic scalar 2-D kernel.
func transposeFastTyped[T any](workers *workerspool.Pool, plan *transposePlan, src, dst []T) {
	transposeFastWithKernel(workers, plan, src, dst, transposeBlock2D[T])
}

// transposeFast4Bytes executes the plan on src/dst (any 4-byte type, reinterpreted as float32:
// the values are only moved, never operated on), using the accelerated 2-D kernel if available.
func transposeFast4Bytes[T ~float32 | ~int32 | ~uint32](workers *workerspool.Pool, plan *transposePlan, src, dst []T) {
	if transposeBlock2DFloat32 == nil || plan.size == 0 {
		transposeFastTyped(workers, plan, src, dst)
		return
	}
	srcF32 := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(src))), len(src))
	dstF32 := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst))
	transposeFastWithKernel(workers, plan, srcF32, dstF32, transposeBlock2DFloat32)
}

// transposeFastWithKernel executes the plan on src/dst, using the workers pool if the transpose is
// large enough, and block2D as the 2-D transpose kernel.
func transposeFastWithKernel[T any](workers *workerspool.Pool, plan *transposePlan, src, dst []T, block2D transposeBlock2DFn[T]) {
	if plan.size == 0 {
		return
	}
	src, dst = src[:plan.size], dst[:plan.size]
	numUnits := plan.numWorkUnits()
	numWorkers := 1
	if workers != nil && workers.IsEnabled() && plan.size >= transposeMinParallelSize {
		numWorkers = min(workers.AdjustedMaxParallelism(), numUnits)
	}
	if numWorkers <= 1 {
		transposeRun(plan, src, dst, 0, numUnits, block2D)
		return
	}
	var wg sync.WaitGroup
	chunk := (numUnits + numWorkers - 1) / numWorkers
	for start := chunk; start < numUnits; start += chunk {
		end := min(start+chunk, numUnits)
		wg.Add(1)
		task := func() {
			transposeRun(plan, src, dst, start, end, block2D)
			wg.Done()
		}
		if !workers.StartIfAvailable(task) {
			task()
		}
	}
	// First chunk runs in the current goroutine.
	transposeRun(plan, src, dst, 0, min(chunk, numUnits), block2D)
	wg.Wait()
}

// transposeFast tries to execute the transpose of operand into output with the fast path.
// It returns false if the data type is not supported by the fast path, in which case nothing
// is written.
func transposeFast(backend *gobackend.Backend, operand, output *gobackend.Buffer, permutations []int) bool {
	var workers *workerspool.Pool
	if backend != nil {
		workers = backend.Workers
	}
	plan := newTransposePlan(operand.RawShape.Dimensions, permutations)
	switch src := operand.Flat.(type) {
	case []float32:
		transposeFast4Bytes(workers, plan, src, output.Flat.([]float32))
	case []float64:
		transposeFastTyped(workers, plan, src, output.Flat.([]float64))
	case []int32:
		transposeFast4Bytes(workers, plan, src, output.Flat.([]int32))
	case []int64:
		transposeFastTyped(workers, plan, src, output.Flat.([]int64))
	case []uint32:
		transposeFast4Bytes(workers, plan, src, output.Flat.([]uint32))
	case []uint64:
		transposeFastTyped(workers, plan, src, output.Flat.([]uint64))
	case []int16:
		transposeFastTyped(workers, plan, src, output.Flat.([]int16))
	case []uint16:
		transposeFastTyped(workers, plan, src, output.Flat.([]uint16))
	case []int8:
		transposeFastTyped(workers, plan, src, output.Flat.([]int8))
	case []uint8:
		transposeFastTyped(workers, plan, src, output.Flat.([]uint8))
	case []bool:
		transposeFastTyped(workers, plan, src, output.Flat.([]bool))
	case []float16.Float16:
		transposeFastTyped(workers, plan, src, output.Flat.([]float16.Float16))
	case []bfloat16.BFloat16:
		transposeFastTyped(workers, plan, src, output.Flat.([]bfloat16.BFloat16))
	default:
		return false
	}
	return true
}
