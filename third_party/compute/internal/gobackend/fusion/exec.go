// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package fusion

// Added by the UNITER-in-Go project: the executor of FusedElementwise nodes.

import (
	"math"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
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
		case compute.OpTypeAdd:
			fastmath.AddSlice32(dst, value(ins.args[0]), value(ins.args[1]))
		case compute.OpTypeSub:
			fastmath.SubSlice32(dst, value(ins.args[0]), value(ins.args[1]))
		case compute.OpTypeMul:
			fastmath.MulSlice32(dst, value(ins.args[0]), value(ins.args[1]))
		case compute.OpTypeDiv:
			fastmath.DivSlice32(dst, value(ins.args[0]), value(ins.args[1]))
		case compute.OpTypeSqrt:
			fastmath.SqrtSlice32(dst, value(ins.args[0]))
		case compute.OpTypeRsqrt:
			x := value(ins.args[0])
			for j := range dst {
				dst[j] = float32(1 / math.Sqrt(float64(x[j])))
			}
		case compute.OpTypeNeg:
			x := value(ins.args[0])
			for j := range dst {
				dst[j] = -x[j]
			}
		case compute.OpTypeAbs:
			x := value(ins.args[0])
			for j := range dst {
				dst[j] = float32(math.Abs(float64(x[j])))
			}
		case compute.OpTypeExp:
			fastmath.ExpSlice32(dst, value(ins.args[0]))
		case compute.OpTypeErf:
			fastmath.ErfSlice32(dst, value(ins.args[0]))
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

func boolToFloat(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
