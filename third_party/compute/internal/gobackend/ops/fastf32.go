// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project: float32 fast paths for element-wise binary ops and reductions.

package ops

import (
	"math"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/compute/support/sets"
)

// This file implements fast paths for float32 Add/Sub/Mul/Div/Max/Min (same shape, scalar or
// "block" broadcasting) and for float32 ReduceSum/ReduceMax when the reduced axes form a single
// contiguous block (after dropping size-1 axes and merging adjacent axes).
//
// The executors are registered with gobackend.PriorityTyped and fall back to the generic executors
// (execAdd, execReduce, ...) for everything they don't handle.
//
// The inner loops are the f32* kernel variables below: they default to the pure Go implementations
// in this file and are replaced by AVX512 versions (fastf32_avx512.go) when available.

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeAdd, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpAdd, execAdd))
	gobackend.SetNodeExecutor(compute.OpTypeSub, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpSub, execSub))
	gobackend.SetNodeExecutor(compute.OpTypeMul, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpMul, execMul))
	gobackend.SetNodeExecutor(compute.OpTypeDiv, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpDiv, execDiv))
	gobackend.SetNodeExecutor(compute.OpTypeMax, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpMax, execMax))
	gobackend.SetNodeExecutor(compute.OpTypeMin, gobackend.PriorityTyped, makeBinaryFloat32Executor(f32OpMin, execMin))
	gobackend.SetNodeExecutor(compute.OpTypeReduceSum, gobackend.PriorityTyped, execReduceFloat32Fast)
	gobackend.SetNodeExecutor(compute.OpTypeReduceMax, gobackend.PriorityTyped, execReduceFloat32Fast)
}

// f32BinaryOp enumerates the binary operations with a float32 fast path.
type f32BinaryOp int

const (
	f32OpAdd f32BinaryOp = iota
	f32OpSub
	f32OpMul
	f32OpDiv
	f32OpMax
	f32OpMin
)

// Kernels used by the fast paths. They are set to the pure Go versions below, and overwritten by
// architecture specific versions in init() functions where available.
var (
	// f32BinaryVS computes out[i] = a[i] op s, for i in range out. len(a) >= len(out).
	f32BinaryVS = f32BinaryVSGo
	// f32BinarySV computes out[i] = s op b[i], for i in range out. len(b) >= len(out).
	f32BinarySV = f32BinarySVGo
	// f32Sum returns the sum of x (any association order).
	f32Sum = f32SumGo
	// f32AccumulateRow computes acc[i] += row[i] for i in range acc. len(row) >= len(acc).
	f32AccumulateRow = f32AccumulateRowGo
	// f32MaxRow computes max(-Inf, x...) with Go's max semantics. It may return ok=false if it can't
	// guarantee the exact Go semantics (NaNs or signed zeros), in which case the caller must use f32MaxGo.
	f32MaxRow = func(x []float32) (float32, bool) { return f32MaxGo(x), true }
	// f32MaxAccumulateRow computes acc[i] = max(acc[i], row[i]) with Go's max semantics.
	f32MaxAccumulateRow = f32MaxAccumulateRowGo
)

// Minimum amount of elements per worker for the parallelized fast paths.
const (
	f32BinaryMinPerWorker = 1 << 16
	f32ReduceMinPerWorker = 1 << 18
	// f32SumChunk is the fixed chunk size used to split a full reduction into partial sums: it's
	// independent of the parallelism, so results are deterministic.
	f32SumChunk = 1 << 15
)

// f32ParallelFor splits [0, total) into contiguous ranges and calls fn on each, using the workers pool
// if total is large enough (at least 2*minPerWorker). The first range runs on the calling goroutine;
// if no worker is available, a range is run inline.
func f32ParallelFor(workers *workerspool.Pool, total, minPerWorker int, fn func(start, end int)) {
	if total <= 0 {
		return
	}
	numWorkers := 1
	if workers != nil && workers.IsEnabled() && total >= 2*minPerWorker {
		numWorkers = min(workers.AdjustedMaxParallelism(), total/minPerWorker)
	}
	if numWorkers <= 1 {
		fn(0, total)
		return
	}
	chunk := (total + numWorkers - 1) / numWorkers
	var wg sync.WaitGroup
	for start := chunk; start < total; start += chunk {
		end := min(start+chunk, total)
		wg.Add(1)
		task := func() {
			fn(start, end)
			wg.Done()
		}
		if !workers.StartIfAvailable(task) {
			task()
		}
	}
	fn(0, min(chunk, total))
	wg.Wait()
}

func backendWorkers(backend *gobackend.Backend) *workerspool.Pool {
	if backend == nil {
		return nil
	}
	return backend.Workers
}

// makeBinaryFloat32Executor returns a node executor that handles float32 with the fast path, and
// uses fallback for the other dtypes.
func makeBinaryFloat32Executor(op f32BinaryOp, fallback gobackend.NodeExecutor) gobackend.NodeExecutor {
	return func(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
		if inputs[0].RawShape.DType != dtypes.Float32 || inputs[1].RawShape.DType != dtypes.Float32 {
			return fallback(backend, node, inputs, inputsOwned)
		}
		lhs, rhs, output, _, _ := binaryOperandsAndOutputForExecution(backend, node, inputs, inputsOwned, node.Shape)
		lhsFlat, rhsFlat, outFlat := lhs.Flat.([]float32), rhs.Flat.([]float32), output.Flat.([]float32)
		if !binaryFloat32Fast(backendWorkers(backend), op, lhsFlat, rhsFlat, outFlat, lhs.RawShape, rhs.RawShape, output.RawShape) {
			binaryFloat32Generic(op, lhsFlat, rhsFlat, outFlat, lhs.RawShape, rhs.RawShape, output.RawShape)
		}
		return output, nil
	}
}

// binaryFloat32Generic calls the generic (generated) implementation of op.
func binaryFloat32Generic(op f32BinaryOp, lhs, rhs, out []float32, lhsShape, rhsShape, outShape shapes.Shape) {
	switch op {
	case f32OpAdd:
		if len(lhs) == 1 && len(rhs) != 1 {
			lhs, rhs, lhsShape, rhsShape = rhs, lhs, rhsShape, lhsShape
		}
		execAddNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	case f32OpSub:
		execSubNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	case f32OpMul:
		if len(lhs) == 1 && len(rhs) != 1 {
			lhs, rhs, lhsShape, rhsShape = rhs, lhs, rhsShape, lhsShape
		}
		execMulNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	case f32OpDiv:
		execDivNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	case f32OpMax:
		if len(lhs) == 1 && len(rhs) != 1 {
			lhs, rhs, lhsShape, rhsShape = rhs, lhs, rhsShape, lhsShape
		}
		execMaxNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	case f32OpMin:
		if len(lhs) == 1 && len(rhs) != 1 {
			lhs, rhs, lhsShape, rhsShape = rhs, lhs, rhsShape, lhsShape
		}
		execMinNumericGeneric(lhs, rhs, out, lhsShape, rhsShape, outShape)
	}
}

// f32BroadcastGroup is a group of merged adjacent axes of the output of a binary op, with the
// same broadcasting pattern.
type f32BroadcastGroup struct {
	dim                      int
	lhsBcast, rhsBcast       bool
	lhsStride, rhsStride     int // Strides in the lhs/rhs flat arrays (0 if broadcast).
	lhsResetOff, rhsResetOff int // dim*stride: amount to rewind when the axis wraps around.
}

// binaryFloat32Fast executes out = lhs op rhs with implicit broadcasting (same rank, or size-1 operands).
// It returns false if the shapes are not supported (nothing is written then).
func binaryFloat32Fast(workers *workerspool.Pool, op f32BinaryOp, lhs, rhs, out []float32, lhsShape, rhsShape, outShape shapes.Shape) bool {
	size := len(out)
	if size == 0 {
		return true
	}
	if len(lhs) == size && len(rhs) == size {
		// Same shape (sizes match and broadcasting only grows axes).
		f32ParallelFor(workers, size, f32BinaryMinPerWorker, func(start, end int) {
			f32BinaryVV(op, lhs[start:end], rhs[start:end], out[start:end])
		})
		return true
	}
	if len(rhs) == 1 && len(lhs) == size {
		s := rhs[0]
		f32ParallelFor(workers, size, f32BinaryMinPerWorker, func(start, end int) {
			f32BinaryVS(op, lhs[start:end], s, out[start:end])
		})
		return true
	}
	if len(lhs) == 1 && len(rhs) == size {
		s := lhs[0]
		f32ParallelFor(workers, size, f32BinaryMinPerWorker, func(start, end int) {
			f32BinarySV(op, s, rhs[start:end], out[start:end])
		})
		return true
	}

	// Generic broadcasting: both operands must have the output's rank.
	rank := outShape.Rank()
	if lhsShape.Rank() != rank || rhsShape.Rank() != rank || rank > 16 {
		return false
	}
	var groupsBuf [16]f32BroadcastGroup
	groups := groupsBuf[:0]
	for axis := range rank {
		dim := outShape.Dimensions[axis]
		if dim == 1 {
			continue
		}
		lDim, rDim := lhsShape.Dimensions[axis], rhsShape.Dimensions[axis]
		if (lDim != dim && lDim != 1) || (rDim != dim && rDim != 1) {
			return false
		}
		lB, rB := lDim != dim, rDim != dim
		if n := len(groups); n > 0 && groups[n-1].lhsBcast == lB && groups[n-1].rhsBcast == rB {
			groups[n-1].dim *= dim
			continue
		}
		groups = append(groups, f32BroadcastGroup{dim: dim, lhsBcast: lB, rhsBcast: rB})
	}
	if len(groups) == 0 {
		return false
	}
	// Strides.
	lStride, rStride := 1, 1
	for ii := len(groups) - 1; ii >= 0; ii-- {
		g := &groups[ii]
		if !g.lhsBcast {
			g.lhsStride = lStride
			lStride *= g.dim
		}
		if !g.rhsBcast {
			g.rhsStride = rStride
			rStride *= g.dim
		}
		g.lhsResetOff = g.lhsStride * g.dim
		g.rhsResetOff = g.rhsStride * g.dim
	}
	if lStride != len(lhs) || rStride != len(rhs) {
		return false
	}
	inner := groups[len(groups)-1]
	outer := groups[:len(groups)-1]
	n := inner.dim
	numRows := size / n
	f32ParallelFor(workers, size, f32BinaryMinPerWorker, func(start, end int) {
		// Multi-index of the row containing start, and corresponding lhs/rhs offsets.
		var idxBuf [16]int
		idx := idxBuf[:len(outer)]
		row := start / n
		col := start % n
		lOff, rOff := 0, 0
		rem := row
		for ii := len(outer) - 1; ii >= 0; ii-- {
			g := &outer[ii]
			idx[ii] = rem % g.dim
			rem /= g.dim
			lOff += idx[ii] * g.lhsStride
			rOff += idx[ii] * g.rhsStride
		}
		pos := start
		for pos < end && row < numRows {
			cnt := min(n-col, end-pos)
			o := out[pos : pos+cnt]
			switch {
			case !inner.lhsBcast && !inner.rhsBcast:
				f32BinaryVV(op, lhs[lOff+col:lOff+col+cnt], rhs[rOff+col:rOff+col+cnt], o)
			case !inner.lhsBcast:
				f32BinaryVS(op, lhs[lOff+col:lOff+col+cnt], rhs[rOff], o)
			default:
				f32BinarySV(op, lhs[lOff], rhs[rOff+col:rOff+col+cnt], o)
			}
			pos += cnt
			col = 0
			row++
			// Increment multi-index.
			for ii := len(outer) - 1; ii >= 0; ii-- {
				g := &outer[ii]
				idx[ii]++
				lOff += g.lhsStride
				rOff += g.rhsStride
				if idx[ii] < g.dim {
					break
				}
				idx[ii] = 0
				lOff -= g.lhsResetOff
				rOff -= g.rhsResetOff
			}
		}
	})
	return true
}

// f32BinaryVV computes out[i] = a[i] op b[i], for i in range out (len(a), len(b) >= len(out)): fastmath's slice
// arithmetic (AVX-512 where available) for Add/Sub/Mul/Div, Go's max and min (their NaN and signed-zero semantics)
// for Max/Min.
func f32BinaryVV(op f32BinaryOp, a, b, out []float32) {
	switch op {
	case f32OpAdd:
		fastmath.AddSlice32(out, a, b)
	case f32OpSub:
		fastmath.SubSlice32(out, a, b)
	case f32OpMul:
		fastmath.MulSlice32(out, a, b)
	case f32OpDiv:
		fastmath.DivSlice32(out, a, b)
	case f32OpMax:
		a, b = a[:len(out)], b[:len(out)]
		for i := range out {
			out[i] = max(a[i], b[i])
		}
	case f32OpMin:
		a, b = a[:len(out)], b[:len(out)]
		for i := range out {
			out[i] = min(a[i], b[i])
		}
	}
}

// f32BinaryVSGo is the pure Go version of f32BinaryVS.
func f32BinaryVSGo(op f32BinaryOp, a []float32, s float32, out []float32) {
	a = a[:len(out)]
	switch op {
	case f32OpAdd:
		for i := range out {
			out[i] = a[i] + s
		}
	case f32OpSub:
		for i := range out {
			out[i] = a[i] - s
		}
	case f32OpMul:
		for i := range out {
			out[i] = a[i] * s
		}
	case f32OpDiv:
		for i := range out {
			out[i] = a[i] / s
		}
	case f32OpMax:
		for i := range out {
			out[i] = max(a[i], s)
		}
	case f32OpMin:
		for i := range out {
			out[i] = min(a[i], s)
		}
	}
}

// f32BinarySVGo is the pure Go version of f32BinarySV.
func f32BinarySVGo(op f32BinaryOp, s float32, b, out []float32) {
	b = b[:len(out)]
	switch op {
	case f32OpAdd:
		for i := range out {
			out[i] = s + b[i]
		}
	case f32OpSub:
		for i := range out {
			out[i] = s - b[i]
		}
	case f32OpMul:
		for i := range out {
			out[i] = s * b[i]
		}
	case f32OpDiv:
		for i := range out {
			out[i] = s / b[i]
		}
	case f32OpMax:
		for i := range out {
			out[i] = max(s, b[i])
		}
	case f32OpMin:
		for i := range out {
			out[i] = min(s, b[i])
		}
	}
}

// f32SumGo is the pure Go version of f32Sum, with 4 accumulators.
func f32SumGo(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// f32AccumulateRowGo is the pure Go version of f32AccumulateRow.
func f32AccumulateRowGo(acc, row []float32) {
	row = row[:len(acc)]
	for i := range acc {
		acc[i] += row[i]
	}
}

// f32MaxGo computes max(-Inf, x...) sequentially, with the same semantics as the generic ReduceMax.
func f32MaxGo(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// f32MaxAccumulateRowGo is the pure Go version of f32MaxAccumulateRow.
func f32MaxAccumulateRowGo(acc, row []float32) {
	row = row[:len(acc)]
	for i := range acc {
		acc[i] = max(acc[i], row[i])
	}
}

// f32ReducePlan describes a reduction whose reduced axes form one contiguous block: the operand is
// seen as [outer, reduce, inner] and the output as [outer, inner].
type f32ReducePlan struct {
	outer, reduce, inner int
}

// makeF32ReducePlan returns the plan for reducing the given axes of dims, or ok=false if the reduced
// axes (ignoring size-1 axes) are not one contiguous block.
func makeF32ReducePlan(dims []int, reduceAxes []int) (plan f32ReducePlan, ok bool) {
	plan = f32ReducePlan{outer: 1, reduce: 1, inner: 1}
	reduced := sets.MakeWith(reduceAxes...)
	// state: 0 = before the reduced block, 1 = inside it, 2 = after it.
	state := 0
	for axis, dim := range dims {
		if dim == 1 {
			continue
		}
		if reduced.Has(axis) {
			switch state {
			case 0:
				state = 1
			case 2:
				return plan, false
			}
			plan.reduce *= dim
		} else {
			switch state {
			case 0:
				plan.outer *= dim
			default:
				state = 2
				plan.inner *= dim
			}
		}
	}
	if state == 0 || plan.reduce <= 1 {
		// Nothing (of size > 1) reduced: leave it to the generic code.
		return plan, false
	}
	return plan, true
}

// execReduceFloat32Fast is the node executor for ReduceSum and ReduceMax with a float32 fast path.
// It falls back to execReduce for everything else.
func execReduceFloat32Fast(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand := inputs[0]
	if operand.RawShape.DType != dtypes.Float32 || operand.RawShape.Size() == 0 {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	reduceAxes := node.Data.([]int)
	if len(reduceAxes) == 0 {
		// Reduce all axes (or identity for scalars): leave the rare cases to the generic code.
		return execReduce(backend, node, inputs, inputsOwned)
	}
	plan, ok := makeF32ReducePlan(operand.RawShape.Dimensions, reduceAxes)
	if !ok {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	outputShape := node.Shape
	if outputShape.IsDynamic() {
		concreteShape := outputShape.Clone()
		axesSet := sets.MakeWith(reduceAxes...)
		outIdx := 0
		for axis, dim := range operand.RawShape.Dimensions {
			if !axesSet.Has(axis) {
				concreteShape.Dimensions[outIdx] = dim
				outIdx++
			}
		}
		outputShape = concreteShape
	}
	output, err := backend.GetBuffer(outputShape)
	if err != nil {
		return nil, err
	}
	x, out := operand.Flat.([]float32), output.Flat.([]float32)
	if node.OpType == compute.OpTypeReduceMax {
		reduceMaxFloat32Fast(backend.Workers, plan, x, out)
	} else {
		reduceSumFloat32Fast(backend.Workers, plan, x, out)
	}
	return output, nil
}

// reduceSumFloat32Fast executes the sum reduction described by plan.
func reduceSumFloat32Fast(workers *workerspool.Pool, plan f32ReducePlan, x, out []float32) {
	outer, reduce, inner := plan.outer, plan.reduce, plan.inner
	out = out[:outer*inner]
	x = x[:outer*reduce*inner]
	if inner == 1 && outer == 1 {
		// Full reduction: partial sums over fixed-size chunks, combined in order (deterministic).
		numChunks := (reduce + f32SumChunk - 1) / f32SumChunk
		if numChunks == 1 {
			out[0] = f32Sum(x)
			return
		}
		partials := make([]float32, numChunks)
		f32ParallelFor(workers, numChunks, f32ReduceMinPerWorker/f32SumChunk, func(start, end int) {
			for c := start; c < end; c++ {
				partials[c] = f32Sum(x[c*f32SumChunk : min((c+1)*f32SumChunk, reduce)])
			}
		})
		var total float32
		for _, p := range partials {
			total += p
		}
		out[0] = total
		return
	}
	if inner == 1 {
		// One sum per row.
		minRows := max(1, f32ReduceMinPerWorker/reduce)
		f32ParallelFor(workers, outer, minRows, func(start, end int) {
			for o := start; o < end; o++ {
				out[o] = f32Sum(x[o*reduce : (o+1)*reduce])
			}
		})
		return
	}
	// Sum of rows: for each outer, out[o, :] = sum_r x[o, r, :], in order of r (as the generic code).
	// Work units are (outer, column block) pairs.
	const colBlock = 1024
	numColBlocks := (inner + colBlock - 1) / colBlock
	numUnits := outer * numColBlocks
	minUnits := max(1, f32ReduceMinPerWorker/(reduce*min(inner, colBlock)))
	f32ParallelFor(workers, numUnits, minUnits, func(start, end int) {
		for unit := start; unit < end; unit++ {
			o, cb := unit/numColBlocks, unit%numColBlocks
			c0, c1 := cb*colBlock, min((cb+1)*colBlock, inner)
			acc := out[o*inner+c0 : o*inner+c1]
			clear(acc)
			base := o * reduce * inner
			for r := range reduce {
				rowStart := base + r*inner
				f32AccumulateRow(acc, x[rowStart+c0:rowStart+c1])
			}
		}
	})
}

// reduceMaxFloat32Fast executes the max reduction described by plan, with the same semantics as the
// generic code (NaNs propagate, max(-0, +0) = +0, initial value -Inf).
func reduceMaxFloat32Fast(workers *workerspool.Pool, plan f32ReducePlan, x, out []float32) {
	outer, reduce, inner := plan.outer, plan.reduce, plan.inner
	out = out[:outer*inner]
	x = x[:outer*reduce*inner]
	if inner == 1 {
		rowMax := func(row []float32) float32 {
			if m, ok := f32MaxRow(row); ok {
				return m
			}
			return f32MaxGo(row)
		}
		if outer == 1 {
			// Full reduction: max is associative (given the fallback for NaNs/zeros).
			numChunks := (reduce + f32SumChunk - 1) / f32SumChunk
			if numChunks == 1 {
				out[0] = rowMax(x)
				return
			}
			partials := make([]float32, numChunks)
			f32ParallelFor(workers, numChunks, f32ReduceMinPerWorker/f32SumChunk, func(start, end int) {
				for c := start; c < end; c++ {
					partials[c] = rowMax(x[c*f32SumChunk : min((c+1)*f32SumChunk, reduce)])
				}
			})
			out[0] = f32MaxGo(partials)
			return
		}
		minRows := max(1, f32ReduceMinPerWorker/reduce)
		f32ParallelFor(workers, outer, minRows, func(start, end int) {
			for o := start; o < end; o++ {
				out[o] = rowMax(x[o*reduce : (o+1)*reduce])
			}
		})
		return
	}
	const colBlock = 1024
	numColBlocks := (inner + colBlock - 1) / colBlock
	numUnits := outer * numColBlocks
	minUnits := max(1, f32ReduceMinPerWorker/(reduce*min(inner, colBlock)))
	negInf := float32(math.Inf(-1))
	f32ParallelFor(workers, numUnits, minUnits, func(start, end int) {
		for unit := start; unit < end; unit++ {
			o, cb := unit/numColBlocks, unit%numColBlocks
			c0, c1 := cb*colBlock, min((cb+1)*colBlock, inner)
			acc := out[o*inner+c0 : o*inner+c1]
			for i := range acc {
				acc[i] = negInf
			}
			base := o * reduce * inner
			for r := range reduce {
				rowStart := base + r*inner
				f32MaxAccumulateRow(acc, x[rowStart+c0:rowStart+c1])
			}
		}
	})
}
