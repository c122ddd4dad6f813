// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

package fusion

// Added by the UNITER-in-Go project: the executor of FusedElementwise nodes.

import (
	"simd"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/support/simdmath"
	"github.com/pkg/errors"
)

const (
	chunk = 512       // elements evaluated per instruction at a time (the registers stay in L1)
	block = 64 * 1024 // elements per parallel work item
)

// execFused evaluates a FusedElementwise node. An output reuses an owned full-size input when no later
// instruction reads that input: each chunk of an output is written after the chunk's reads of the input.
func execFused(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) ([]*gobackend.Buffer, error) {
	prog, ok := node.Data.(*program)
	if !ok {
		return nil, errors.Errorf("FusedElementwise node without a program")
	}
	size := node.MultiOutputsShapes[0].Size()
	values := make([][]float32, len(inputs))
	conditions := make([][]bool, len(inputs))
	for i, buf := range inputs {
		if prog.inputs[i].boolean {
			conditions[i] = buf.Flat.([]bool)
		} else {
			values[i] = buf.Flat.([]float32)
		}
	}
	outputs := make([]*gobackend.Buffer, len(prog.outputs))
	outFlat := make([][]float32, len(prog.outputs))
	for o, shape := range node.MultiOutputsShapes {
		for i, buf := range inputs {
			in := prog.inputs[i]
			if buf != nil && inputsOwned[i] && in.layout == layoutFull && !in.boolean && buf.RawShape.Equal(shape) &&
				in.lastRead <= prog.outputs[o] {
				outputs[o] = buf
				inputs[i] = nil
				break
			}
		}
		if outputs[o] == nil {
			var err error
			if outputs[o], err = backend.GetBuffer(shape); err != nil {
				return nil, err
			}
		}
		outFlat[o] = outputs[o].Flat.([]float32)
	}

	run := func(w *worker, start, end int) {
		for lo := start; lo < end; lo += chunk {
			w.evaluate(prog, values, conditions, outFlat, lo, min(lo+chunk, end))
		}
	}
	workers := backend.Workers.AdjustedMaxParallelism()
	if workers <= 1 || size <= block {
		run(newWorker(prog, values), 0, size)
		return outputs, nil
	}
	var next atomic.Int64
	numBlocks := (size + block - 1) / block
	backend.Workers.Saturate(func() {
		w := newWorker(prog, values)
		for {
			b := int(next.Add(1)) - 1
			if b >= numBlocks {
				return
			}
			run(w, b*block, min((b+1)*block, size))
		}
	})
	return outputs, nil
}

// worker holds one goroutine's registers.
type worker struct {
	registers [][]float32 // per instruction
	dsts      [][]float32 // per instruction, where its values go for the current chunk
	broadcast [][]float32 // per non-full float input, its values over the current chunk (scalars: filled once)
}

func newWorker(prog *program, values [][]float32) *worker {
	w := &worker{
		registers: make([][]float32, len(prog.instructions)),
		dsts:      make([][]float32, len(prog.instructions)),
		broadcast: make([][]float32, len(prog.inputs)),
	}
	for i := range prog.instructions {
		w.registers[i] = make([]float32, chunk)
	}
	for i, in := range prog.inputs {
		if in.boolean || in.layout == layoutFull {
			continue
		}
		w.broadcast[i] = make([]float32, chunk)
		if in.layout == layoutScalar {
			fill(w.broadcast[i], values[i][0])
		}
	}
	return w
}

func fill(dst []float32, v float32) {
	for j := range dst {
		dst[j] = v
	}
}

// evaluate runs the program over positions [lo, hi): output instructions write straight into their output.
func (w *worker) evaluate(prog *program, values [][]float32, conditions [][]bool, outs [][]float32, lo, hi int) {
	n := hi - lo
	for i, in := range prog.inputs {
		b := w.broadcast[i]
		switch in.layout {
		case layoutRow: // element p reads values[p % inner]
			src := values[i]
			for j, p := 0, lo%in.inner; j < n; {
				c := copy(b[j:n], src[p:])
				j += c
				p = 0
			}
		case layoutColumn: // element p reads values[p / inner]
			src := values[i]
			for j, p := 0, lo; j < n; {
				end := min(n, j+in.inner-p%in.inner)
				fill(b[j:end], src[p/in.inner])
				p += end - j
				j = end
			}
		}
	}
	dsts := w.dsts
	for i := range dsts {
		dsts[i] = w.registers[i][:n]
	}
	for o, i := range prog.outputs {
		dsts[i] = outs[o][lo:hi]
	}
	value := func(a operand) []float32 {
		if a.kind == fromRegister {
			return dsts[a.index]
		}
		if b := w.broadcast[a.index]; b != nil {
			return b[:n]
		}
		return values[a.index][lo:hi]
	}
	condition := func(a operand) []bool {
		c := conditions[a.index]
		if prog.inputs[a.index].layout == layoutScalar {
			return c[:1]
		}
		return c[lo:hi]
	}
	for i, ins := range prog.instructions {
		dst := dsts[i]
		switch ins.op {
		case compute.OpTypeAdd, compute.OpTypeSub, compute.OpTypeMul, compute.OpTypeDiv, compute.OpTypeMax, compute.OpTypeMin:
			binary(ins.op, dst, value(ins.args[0]), value(ins.args[1]))
		case compute.OpTypeSqrt, compute.OpTypeRsqrt, compute.OpTypeNeg, compute.OpTypeAbs, compute.OpTypeExp, compute.OpTypeErf:
			unary(ins.op, dst, value(ins.args[0]))
		case compute.OpTypeConvertDType:
			c := condition(ins.args[0])
			if len(c) == 1 {
				fill(dst, boolToFloat(c[0]))
				continue
			}
			for j, b := range c {
				dst[j] = boolToFloat(b)
			}
		case compute.OpTypeWhere:
			onTrue, onFalse := value(ins.args[1]), value(ins.args[2])
			c := condition(ins.args[0])
			if len(c) == 1 {
				if c[0] {
					copy(dst, onTrue)
				} else {
					copy(dst, onFalse)
				}
				continue
			}
			for j, b := range c {
				if b {
					dst[j] = onTrue[j]
				} else {
					dst[j] = onFalse[j]
				}
			}
		}
	}
}

func neg(v simd.Float32s) simd.Float32s { return v.Neg() }
func abs(v simd.Float32s) simd.Float32s { return v.Abs() }

// unary sets dst[i] = op(x[i]) with the vector functions upstream's SIMD unary executors use.
func unary(op compute.OpType, dst, x []float32) {
	switch op {
	case compute.OpTypeSqrt:
		unaryWith(dst, x, simdmath.SqrtFloat32)
	case compute.OpTypeRsqrt:
		unaryWith(dst, x, simdmath.RsqrtFloat32)
	case compute.OpTypeNeg:
		unaryWith(dst, x, neg)
	case compute.OpTypeAbs:
		unaryWith(dst, x, abs)
	case compute.OpTypeExp:
		unaryWith(dst, x, simdmath.ExpFloat32)
	case compute.OpTypeErf:
		unaryWith(dst, x, simdmath.ErfFloat32)
	}
}

// unaryWith sets dst[i] = fn(x[i]) a vector at a time.
func unaryWith(dst, x []float32, fn func(simd.Float32s) simd.Float32s) {
	n := len(dst)
	vLen := simd.BroadcastFloat32s(0).Len()
	i := 0
	for ; i+vLen <= n; i += vLen {
		fn(simd.LoadFloat32s(x[i:])).Store(dst[i:])
	}
	if i < n {
		v, _ := simd.LoadFloat32sPart(x[i:n])
		fn(v).StorePart(dst[i:])
	}
}

// binary sets dst[i] = a[i] op b[i] a vector at a time, as upstream's SIMD binary executors do (the same
// instructions, hence the same results, also for Max and Min with NaNs and signed zeros).
func binary(op compute.OpType, dst, a, b []float32) {
	n := len(dst)
	vLen := simd.BroadcastFloat32s(0).Len()
	i := 0
	switch op {
	case compute.OpTypeAdd:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Add(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	case compute.OpTypeSub:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Sub(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	case compute.OpTypeMul:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Mul(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	case compute.OpTypeDiv:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Div(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	case compute.OpTypeMax:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Max(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	case compute.OpTypeMin:
		for ; i+vLen <= n; i += vLen {
			simd.LoadFloat32s(a[i:]).Min(simd.LoadFloat32s(b[i:])).Store(dst[i:])
		}
	}
	if i == n {
		return
	}
	x, _ := simd.LoadFloat32sPart(a[i:n])
	y, _ := simd.LoadFloat32sPart(b[i:n])
	switch op {
	case compute.OpTypeAdd:
		x = x.Add(y)
	case compute.OpTypeSub:
		x = x.Sub(y)
	case compute.OpTypeMul:
		x = x.Mul(y)
	case compute.OpTypeDiv:
		x = x.Div(y)
	case compute.OpTypeMax:
		x = x.Max(y)
	case compute.OpTypeMin:
		x = x.Min(y)
	}
	x.StorePart(dst[i:n])
}

func boolToFloat(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
