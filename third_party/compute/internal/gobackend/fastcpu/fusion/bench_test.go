// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build goexperiment.simd

package fusion_test

// Added by the UNITER-in-Go project.

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// benchSize is the number of parameters of BenchmarkAdamW.
var benchSize = 8 << 20

// BenchmarkAdamW times an AdamW update of 8M parameters (one fused node: 4 arrays in, 3 out).
func BenchmarkAdamW(b *testing.B) {
	n := benchSize
	backend, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Finalize()
	bld := backend.Builder("adamw")
	f := bld.Main()
	shape := shapes.Make(dtypes.Float32, n)
	must := func(v compute.Value, err error) compute.Value {
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	p := must(f.Parameter("p", shape, nil))
	m := must(f.Parameter("m", shape, nil))
	v := must(f.Parameter("v", shape, nil))
	g := must(f.Parameter("g", shape, nil))
	scalar := func(x float32) compute.Value {
		return must(f.BroadcastInDim(must(f.Constant([]float32{x})), shape, nil))
	}
	finite := must(f.BroadcastInDim(must(f.Constant([]bool{true})), shapes.Make(dtypes.Bool, n), nil))
	gc := must(f.Mul(g, scalar(0.5)))
	m1 := must(f.Add(must(f.Mul(m, scalar(0.9))), must(f.Mul(gc, scalar(0.1)))))
	v1 := must(f.Add(must(f.Mul(v, scalar(0.98))), must(f.Mul(must(f.Mul(gc, gc)), scalar(0.02)))))
	upd := must(f.Div(m1, must(f.Add(must(f.Sqrt(v1)), scalar(1e-6)))))
	p1 := must(f.Sub(p, must(f.Mul(upd, scalar(0.01)))))
	p1 = must(f.Sub(p1, must(f.Mul(p1, scalar(1e-4)))))
	if err := f.Return([]compute.Value{must(f.Where(finite, p1, p)), must(f.Where(finite, m1, m)), must(f.Where(finite, v1, v))}, nil); err != nil {
		b.Fatal(err)
	}
	exec, err := bld.Compile()
	if err != nil {
		b.Fatal(err)
	}
	bufs := make([]compute.Buffer, 4)
	for i := range bufs {
		if bufs[i], err = backend.BufferFromFlatData(0, make([]float32, n), shape); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(7 * 4 * n))
	for b.Loop() {
		outs, err := exec.Execute(bufs, []bool{true, true, true, false}, 0)
		if err != nil {
			b.Fatal(err)
		}
		bufs[0], bufs[1], bufs[2] = outs[0], outs[1], outs[2]
	}
}
