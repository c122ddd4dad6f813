// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

package fusion_test

// Added by the UNITER-in-Go project.

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	_ "github.com/gomlx/compute/internal/gobackend/defaultpkgs"
	"github.com/gomlx/compute/internal/gobackend/fastcpu/fusion"
	"github.com/gomlx/compute/shapes"
)

// TestOpTypeName checks the hand-extended enumer tables of compute.OpType.
func TestOpTypeName(t *testing.T) {
	if got := compute.OpTypeFusedElementwise.String(); got != "FusedElementwise" {
		t.Errorf("OpTypeFusedElementwise.String() = %q", got)
	}
	if got := compute.OpTypeLast.String(); got != "Last" {
		t.Errorf("OpTypeLast.String() = %q", got)
	}
	if op, err := compute.OpTypeString("FusedElementwise"); err != nil || op != compute.OpTypeFusedElementwise {
		t.Errorf("OpTypeString(FusedElementwise) = %v, %v", op, err)
	}
	if !slices.Contains(compute.OpTypeValues(), compute.OpTypeFusedElementwise) {
		t.Error("OpTypeValues() misses OpTypeFusedElementwise")
	}
}

// runBoth compiles the graph that build writes with the pass on and off, executes both on copies of params (donated)
// and fails unless their outputs are bit-identical. It returns the fused run's outputs and its number of fused nodes.
func runBoth(t *testing.T, backend compute.Backend, build func(f compute.Function) []compute.Value, params [][]float32,
	shape shapes.Shape) (outs [][]float32, fusedNodes int) {
	t.Helper()
	var results [2][][]float32
	for pass, on := range []bool{true, false} {
		previous := fusion.SetEnabled(on)
		b := backend.Builder("both")
		f := b.Main()
		if err := f.Return(build(f), nil); err != nil {
			t.Fatal(err)
		}
		exec, err := b.Compile()
		fusion.SetEnabled(previous)
		if err != nil {
			t.Fatal(err)
		}
		if on {
			for _, node := range b.(*gobackend.Builder).Functions[0].Nodes {
				if node.OpType == compute.OpTypeFusedElementwise {
					fusedNodes++
				}
			}
		}
		var bufs []compute.Buffer
		var donate []bool
		for _, x := range params {
			buf, err := backend.BufferFromFlatData(0, slices.Clone(x), shape)
			if err != nil {
				t.Fatal(err)
			}
			bufs = append(bufs, buf)
			donate = append(donate, true)
		}
		res, err := exec.Execute(bufs, donate, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			results[pass] = append(results[pass], slices.Clone(r.(*gobackend.Buffer).Flat.([]float32)))
		}
	}
	for o := range results[0] {
		for i, v := range results[0][o] {
			if w := results[1][o][i]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("output %d [%d]: fused %g, unfused %g", o, i, v, w)
			}
		}
	}
	return results[0], fusedNodes
}

// TestAdamWChain fuses an AdamW-like chain (scalar broadcasts, a shared input, Where on a scalar and on an array
// condition, two outputs sharing nodes) and compares it with the same float32 arithmetic in Go.
func TestAdamWChain(t *testing.T) {
	for _, n := range []int{4096, 5003, 200_001} {
		backend, err := gobackend.New("")
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		vec := func() []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			return x
		}
		pv, mv, vv, gv := vec(), vec(), vec(), vec()
		for i := range vv {
			vv[i] *= vv[i]
		}
		mask := make([]bool, n)
		for i := range mask {
			mask[i] = rng.IntN(2) == 0
		}

		shape := shapes.Make(dtypes.Float32, n)
		must := func(v compute.Value, err error) compute.Value {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		build := func(f compute.Function) []compute.Value {
			// Donated parameters: the outputs may reuse their buffers.
			p := must(f.Parameter("p", shape, nil))
			m := must(f.Parameter("m", shape, nil))
			v := must(f.Parameter("v", shape, nil))
			g := must(f.Parameter("g", shape, nil))
			cond := must(f.Constant(mask, n))
			scalar := func(x float32) compute.Value {
				s := must(f.Constant([]float32{x}))
				return must(f.BroadcastInDim(s, shape, nil))
			}
			finite := must(f.Constant([]bool{true}))
			m1 := must(f.Add(must(f.Mul(m, scalar(0.9))), must(f.Mul(g, scalar(0.1)))))
			v1 := must(f.Add(must(f.Mul(v, scalar(0.98))), must(f.Mul(must(f.Mul(g, g)), scalar(0.02)))))
			upd := must(f.Div(m1, must(f.Add(must(f.Sqrt(v1)), scalar(1e-6)))))
			p1 := must(f.Sub(p, must(f.Mul(upd, scalar(0.01)))))
			p1 = must(f.Where(must(f.BroadcastInDim(finite, shapes.Make(dtypes.Bool, n), nil)), p1, p))
			e := must(f.Where(cond, must(f.Exp(must(f.Neg(g)))), m1))
			// An early output (-h) whose donated input is read again later: it must not overwrite h's buffer (h = g).
			h := must(f.Parameter("h", shape, nil))
			negG := must(f.Neg(h))
			last := must(f.Mul(must(f.Add(negG, scalar(1))), h))
			return []compute.Value{p1, e, m1, negG, last}
		}
		outs, fused := runBoth(t, backend, build, [][]float32{pv, mv, vv, gv, gv}, shape)
		if fused == 0 {
			t.Fatalf("n=%d: no FusedElementwise node", n)
		}
		gotP, gotE, gotM, gotNeg, gotLast := outs[0], outs[1], outs[2], outs[3], outs[4]
		for i := range n {
			m1 := mv[i]*0.9 + gv[i]*0.1
			v1 := vv[i]*0.98 + gv[i]*gv[i]*0.02
			p1 := pv[i] - m1/(float32(math.Sqrt(float64(v1)))+1e-6)*0.01
			e := m1
			if mask[i] {
				e = float32(math.Exp(float64(-gv[i])))
			}
			// Exp is simdmath's float32 e^x (within 2 ulp of the correctly rounded value); the rest is exact.
			if gotP[i] != p1 || math.Abs(float64(gotE[i]-e)) > 2.5e-7*math.Abs(float64(e)) || gotM[i] != m1 || gotNeg[i] != -gv[i] || gotLast[i] != (-gv[i]+1)*gv[i] {
				t.Fatalf("n=%d [%d]: got p=%g e=%g m=%g -g=%g last=%g, want %g %g %g %g %g", n, i, gotP[i], gotE[i], gotM[i],
					gotNeg[i], gotLast[i], p1, e, m1, -gv[i], (-gv[i]+1)*gv[i])
			}
		}
		backend.Finalize()
	}
}

// TestBroadcastLayouts fuses ops whose operands are rows ([1,1,c]), columns ([a,b,1]) and boolean masks converted
// to float32, on sizes that split rows and columns across chunks and work blocks.
func TestBroadcastLayouts(t *testing.T) {
	for _, dims := range [][3]int{{7, 13, 61}, {9, 100, 77}, {2, 3, 4096}} {
		a, b, c := dims[0], dims[1], dims[2]
		n := a * b * c
		backend, err := gobackend.New("")
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, uint64(n)))
		vec := func(size int) []float32 {
			v := make([]float32, size)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		xv, rowv, colv := vec(n), vec(c), vec(a*b)
		mask := make([]bool, n)
		for i := range mask {
			mask[i] = rng.IntN(3) == 0
		}
		must := func(v compute.Value, err error) compute.Value {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		build := func(f compute.Function) []compute.Value {
			x := must(f.Constant(xv, a, b, c))
			row := must(f.Constant(rowv, 1, 1, c))
			col := must(f.Constant(colv, a, b, 1))
			m := must(f.ConvertDType(must(f.Constant(mask, a, b, c)), dtypes.Float32))
			y := must(f.Mul(must(f.Sub(must(f.Mul(x, row)), col)), m))
			// The other fusable ops, checked against the unfused graph only.
			z := must(f.Max(must(f.Min(must(f.Erf(x)), must(f.Rsqrt(must(f.Abs(x)))))), row))
			return []compute.Value{y, z}
		}
		outs, fused := runBoth(t, backend, build, nil, shapes.Shape{})
		if fused == 0 {
			t.Fatalf("%v: not fused", dims)
		}
		got := outs[0]
		for i := range n {
			var mv float32
			if mask[i] {
				mv = 1
			}
			want := (xv[i]*rowv[i%c] - colv[i/c]) * mv
			if got[i] != want {
				t.Fatalf("%v [%d]: got %g, want %g", dims, i, got[i], want)
			}
		}
		backend.Finalize()
	}
}
