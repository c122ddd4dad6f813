// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

// Package fusion fuses chains of float32 element-wise ops of the Go backend into one node that evaluates the chain
// chunk by chunk, so intermediate results stay in L1 cache instead of making a round trip to memory per op.
//
// Added by the UNITER-in-Go project (third_party/README.md): an optimizer update such as AdamW is a chain of ~20
// element-wise ops over every parameter; unfused, each op reads and writes the whole tensor. The fused node computes
// each op with the same SIMD arithmetic as upstream's executors (support/simdmath for Exp, Erf, Sqrt), so its
// results are bit-identical to the unfused graph's.
package fusion

import (
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/fastcpu"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/compute/support/envutil"
)

// MinSizeEnv overrides minSize (tests use 1 to fuse tiny graphs). The pass runs when the kernel is switched on
// (package fastcpu, GOMLX_FUSE_ELEMENTWISE), read at every compilation.
const MinSizeEnv = "GOMLX_FUSE_MIN_SIZE"

// minSize is the smallest tensor (in elements) whose ops are fused: below it the per-node overhead dominates.
var minSize = envutil.MustReadInt(MinSizeEnv, 4096)

func init() {
	gobackend.RegisterTransformation(50, &ElementwiseFusion{})
	gobackend.MultiOutputsNodeExecutors[compute.OpTypeFusedElementwise] = execFused
}

// fusable lists the element-wise ops a group may hold, with their number of operands.
var fusable = map[compute.OpType]int{
	compute.OpTypeAdd: 2, compute.OpTypeSub: 2, compute.OpTypeMul: 2, compute.OpTypeDiv: 2,
	compute.OpTypeNeg: 1, compute.OpTypeSqrt: 1, compute.OpTypeRsqrt: 1, compute.OpTypeAbs: 1,
	compute.OpTypeExp: 1, compute.OpTypeErf: 1, compute.OpTypeWhere: 3, compute.OpTypeConvertDType: 1,
	compute.OpTypeMax: 2, compute.OpTypeMin: 2,
}

// Operand kinds of an instruction.
const (
	fromInput    = iota // an input of the fused node (any layout, see input)
	fromRegister        // the result of an earlier instruction
)

type operand struct {
	kind, index int
}

type instruction struct {
	op   compute.OpType
	args []operand
}

// Layouts of a fused node's inputs relative to its output shape.
const (
	layoutFull   = iota // the output's dimensions
	layoutScalar        // one value
	layoutRow           // 1s then the output's trailing dimensions: element i reads input[i % inner]
	layoutColumn        // the output's leading dimensions then 1s: element i reads input[i / inner]
)

// input describes one input of a fused node.
type input struct {
	layout   int
	inner    int  // layoutRow: the input's size; layoutColumn: the size of the broadcast trailing axes
	boolean  bool // Where's condition or ConvertDType's operand
	lastRead int  // the last instruction reading it
}

// program is the Data of a FusedElementwise node: its instructions in evaluation order, which of them are
// outputs, and its inputs.
type program struct {
	instructions []instruction
	outputs      []int // instructions whose values are the node's outputs
	inputs       []input
}

// layoutOf returns how an operand of the given shape broadcasts to the output shape (both of the same rank, as
// after the implicit-broadcast pass), and its inner size; ok is false for other patterns.
func layoutOf(operand, output shapes.Shape) (layout, inner int, ok bool) {
	switch {
	case operand.Size() == 1:
		return layoutScalar, 1, true
	case operand.EqualDimensions(output):
		return layoutFull, 0, true
	case operand.Rank() != output.Rank():
		return 0, 0, false
	}
	// Row: leading 1s, then equal dimensions.
	k := 0
	for k < operand.Rank() && operand.Dimensions[k] == 1 && output.Dimensions[k] != 1 {
		k++
	}
	if k > 0 && slices.Equal(operand.Dimensions[k:], output.Dimensions[k:]) {
		return layoutRow, operand.Size(), true
	}
	// Column: equal dimensions, then trailing 1s.
	k = operand.Rank()
	for k > 0 && operand.Dimensions[k-1] == 1 && output.Dimensions[k-1] != 1 {
		k--
	}
	if k < operand.Rank() && slices.Equal(operand.Dimensions[:k], output.Dimensions[:k]) {
		return layoutColumn, output.Size() / operand.Size(), true
	}
	return 0, 0, false
}

// ElementwiseFusion is the graph transformation that builds FusedElementwise nodes.
type ElementwiseFusion struct{}

// Name implements gobackend.GraphTransformation.
func (p *ElementwiseFusion) Name() string { return "ElementwiseFusion" }

// candidate reports whether node can be part of a fused group: a float32 element-wise op whose operands are
// float32 values of its own shape, scalars, or rows or columns broadcast to it (see layoutOf); Where's condition
// and ConvertDType's operand are booleans of its shape or scalars.
func candidate(node *gobackend.Node) bool {
	n, ok := fusable[node.OpType]
	if !ok || len(node.Inputs) != n || node.IsMultiOutputs() || node.Shape.DType != dtypes.Float32 ||
		node.Shape.IsDynamic() || node.Shape.Size() < minSize {
		return false
	}
	for i, in := range node.Inputs {
		in = scalarSource(in)
		if in.Shape.IsDynamic() || in.IsMultiOutputs() {
			return false
		}
		layout, _, ok := layoutOf(in.Shape, node.Shape)
		if !ok {
			return false
		}
		if (node.OpType == compute.OpTypeWhere && i == 0) || node.OpType == compute.OpTypeConvertDType {
			if in.Shape.DType != dtypes.Bool || (layout != layoutFull && layout != layoutScalar) {
				return false
			}
		} else if in.Shape.DType != dtypes.Float32 {
			return false
		}
	}
	return true
}

// scalarSource returns the scalar a BroadcastInDim node repeats, or node itself: the fused node reads the scalar
// instead of the materialised broadcast.
func scalarSource(node *gobackend.Node) *gobackend.Node {
	if node.OpType == compute.OpTypeBroadcastInDim && len(node.Inputs) == 1 && node.Inputs[0].Shape.Size() == 1 &&
		!node.Inputs[0].IsMultiOutputs() {
		return node.Inputs[0]
	}
	return node
}

// Apply implements gobackend.GraphTransformation. Candidates joined by producer→consumer edges of the same shape
// form clusters (union-find). A cluster becomes one multi-output FusedElementwise node when no path leaves it and
// comes back through other nodes (which would make the fused node depend on itself); its outputs are the members
// used outside it or returned by the function. The members are left without users and skipped by the executor.
func (p *ElementwiseFusion) Apply(b *gobackend.Builder) (bool, error) {
	if !fastcpu.Enabled(fastcpu.Fusion) {
		return false, nil
	}
	// Nodes captured by closures are left alone.
	captured := make(map[*gobackend.Node]bool)
	for _, f := range b.Functions {
		for _, n := range f.CapturedParentNodes {
			captured[n] = true
		}
		for _, node := range f.Nodes {
			for _, c := range node.CapturedInputs {
				for _, n := range c {
					captured[n] = true
				}
			}
		}
	}
	modified := false
	for _, f := range b.Functions {
		// Only live nodes (those the function's outputs depend on) are fused or counted as users: a fused output
		// read only by dead code would be computed for nothing.
		live := make(map[*gobackend.Node]bool)
		var mark func(n *gobackend.Node)
		mark = func(n *gobackend.Node) {
			if live[n] {
				return
			}
			live[n] = true
			for _, in := range n.Inputs {
				mark(in)
			}
			for _, c := range n.CapturedInputs {
				for _, in := range c {
					mark(in)
				}
			}
		}
		for _, out := range f.Outputs {
			mark(out)
		}
		users := make(map[*gobackend.Node][]*gobackend.Node)
		for _, node := range f.Nodes {
			if !live[node] {
				continue
			}
			for _, in := range node.Inputs {
				users[in] = append(users[in], node)
			}
		}
		returned := make(map[*gobackend.Node]bool)
		for _, out := range f.Outputs {
			returned[out] = true
		}

		parent := make(map[*gobackend.Node]*gobackend.Node)
		var find func(n *gobackend.Node) *gobackend.Node
		find = func(n *gobackend.Node) *gobackend.Node {
			if parent[n] != n {
				parent[n] = find(parent[n])
			}
			return parent[n]
		}
		var nodes []*gobackend.Node
		for _, node := range f.Nodes {
			if live[node] && candidate(node) && !captured[node] {
				parent[node] = node
				nodes = append(nodes, node)
			}
		}
		for _, node := range nodes {
			for _, u := range users[node] {
				if _, ok := parent[u]; ok && u.Shape.Equal(node.Shape) {
					parent[find(node)] = find(u)
				}
			}
		}
		clusters := make(map[*gobackend.Node][]*gobackend.Node)
		var roots []*gobackend.Node
		for _, node := range nodes { // DAG order
			r := find(node)
			if len(clusters[r]) == 0 {
				roots = append(roots, r)
			}
			clusters[r] = append(clusters[r], node)
		}
		for _, r := range roots {
			members := clusters[r]
			if len(members) < 2 || !acyclic(members, users) {
				continue
			}
			fuse(f, members, users, returned)
			modified = true
		}
	}
	return modified, nil
}

// acyclic reports whether no path from a member of the cluster reaches another member through non-members.
func acyclic(members []*gobackend.Node, users map[*gobackend.Node][]*gobackend.Node) bool {
	in := make(map[*gobackend.Node]bool, len(members))
	last := 0
	for _, m := range members {
		in[m] = true
		last = max(last, m.Index)
	}
	seen := make(map[*gobackend.Node]bool)
	var stack []*gobackend.Node
	for _, m := range members {
		for _, u := range users[m] {
			if !in[u] && u.Index < last && !seen[u] {
				seen[u] = true
				stack = append(stack, u)
			}
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, u := range users[n] {
			if in[u] {
				return false
			}
			if u.Index < last && !seen[u] {
				seen[u] = true
				stack = append(stack, u)
			}
		}
	}
	return true
}

// fuse replaces the cluster members (in DAG order) by one FusedElementwise node whose outputs stand in for the
// members used outside the cluster.
func fuse(f *gobackend.Function, members []*gobackend.Node, users map[*gobackend.Node][]*gobackend.Node, returned map[*gobackend.Node]bool) {
	in := make(map[*gobackend.Node]bool, len(members))
	for _, m := range members {
		in[m] = true
	}
	prog := &program{}
	var inputs, outputs []*gobackend.Node
	inputIndex := make(map[*gobackend.Node]int)
	register := make(map[*gobackend.Node]int)
	for _, node := range members {
		ins := instruction{op: node.OpType}
		for _, x := range node.Inputs {
			if in[x] {
				ins.args = append(ins.args, operand{fromRegister, register[x]})
				continue
			}
			x = scalarSource(x)
			idx, ok := inputIndex[x]
			if !ok {
				idx = len(inputs)
				inputIndex[x] = idx
				inputs = append(inputs, x)
				layout, inner, _ := layoutOf(x.Shape, node.Shape)
				prog.inputs = append(prog.inputs, input{layout: layout, inner: inner, boolean: x.Shape.DType == dtypes.Bool})
			}
			prog.inputs[idx].lastRead = len(prog.instructions)
			ins.args = append(ins.args, operand{fromInput, idx})
		}
		register[node] = len(prog.instructions)
		prog.instructions = append(prog.instructions, ins)
		external := returned[node]
		for _, u := range users[node] {
			external = external || !in[u]
		}
		if external {
			prog.outputs = append(prog.outputs, register[node])
			outputs = append(outputs, node)
		}
	}
	if len(outputs) == 0 {
		return // dead code: nothing uses the cluster
	}
	outputShapes := make([]shapes.Shape, len(outputs))
	for i, o := range outputs {
		outputShapes[i] = o.Shape
	}
	fused := f.NewMultiOutputsNode(compute.OpTypeFusedElementwise, outputShapes, inputs...)
	fused.Data = prog
	for i, o := range outputs {
		sel := fused.MultiOutputsNodes[i]
		for _, u := range users[o] {
			for j, x := range u.Inputs {
				if x == o {
					u.Inputs[j] = sel
				}
			}
		}
		for j, x := range f.Outputs {
			if x == o {
				f.Outputs[j] = sel
			}
		}
	}
}
