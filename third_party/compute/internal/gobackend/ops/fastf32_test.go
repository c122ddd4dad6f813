// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
// Added by the UNITER-in-Go project: tests and benchmarks of the float32 binary-ops and reduction fast paths.

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
	"github.com/gomlx/compute/shapes"
)

// f32TestValues returns n random values; if special is true, it includes NaNs, infinities and signed zeros.
func f32TestValues(rng *rand.Rand, n int, special bool) []float32 {
	values := make([]float32, n)
	for i := range values {
		values[i] = rng.Float32()*4 - 2
		if special {
			switch rng.IntN(12) {
			case 0:
				values[i] = float32(math.NaN())
			case 1:
				values[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
			case 2:
				values[i] = 0
			case 3:
				values[i] = float32(math.Copysign(0, -1))
			}
		}
	}
	return values
}

// f32SameBits reports whether a and b are identical (any NaN matches any NaN).
func f32SameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func f32TestWorkers() []*workerspool.Pool {
	return []*workerspool.Pool{nil, workerspool.New()}
}

var f32TestOps = []f32BinaryOp{f32OpAdd, f32OpSub, f32OpMul, f32OpDiv, f32OpMax, f32OpMin}

// checkBinaryFloat32Fast compares the fast path with the generic code for one configuration.
func checkBinaryFloat32Fast(t *testing.T, rng *rand.Rand, workers *workerspool.Pool, op f32BinaryOp, lhsDims, rhsDims, outDims []int) {
	t.Helper()
	lhsShape := shapes.Make(dtypes.Float32, lhsDims...)
	rhsShape := shapes.Make(dtypes.Float32, rhsDims...)
	outShape := shapes.Make(dtypes.Float32, outDims...)
	special := op == f32OpMax || op == f32OpMin || rng.IntN(4) == 0
	lhs := f32TestValues(rng, lhsShape.Size(), special)
	rhs := f32TestValues(rng, rhsShape.Size(), special)
	want := make([]float32, outShape.Size())
	got := make([]float32, outShape.Size())
	binaryFloat32Generic(op, lhs, rhs, want, lhsShape, rhsShape, outShape)
	if !binaryFloat32Fast(workers, op, lhs, rhs, got, lhsShape, rhsShape, outShape) {
		t.Fatalf("op=%d lhs=%v rhs=%v out=%v: fast path not supported", op, lhsDims, rhsDims, outDims)
	}
	for i := range want {
		if !f32SameBits(want[i], got[i]) {
			t.Fatalf("op=%d lhs=%v rhs=%v out=%v: mismatch at %d: want %g, got %g", op, lhsDims, rhsDims, outDims, i, want[i], got[i])
		}
	}
}

func TestBinaryFloat32Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dimChoices := []int{1, 1, 2, 3, 5, 15, 16, 17, 33}
	for _, workers := range f32TestWorkers() {
		for iter := range 3000 {
			op := f32TestOps[iter%len(f32TestOps)]
			rank := rng.IntN(5)
			outDims := make([]int, rank)
			lhsDims := make([]int, rank)
			rhsDims := make([]int, rank)
			for axis := range rank {
				outDims[axis] = dimChoices[rng.IntN(len(dimChoices))]
				lhsDims[axis], rhsDims[axis] = outDims[axis], outDims[axis]
				switch rng.IntN(4) {
				case 0:
					lhsDims[axis] = 1
				case 1:
					rhsDims[axis] = 1
				}
			}
			switch rng.IntN(6) {
			case 0:
				lhsDims, outDims = nil, rhsDims // Scalar lhs.
			case 1:
				rhsDims, outDims = nil, lhsDims // Scalar rhs.
			}
			checkBinaryFloat32Fast(t, rng, workers, op, lhsDims, rhsDims, outDims)
		}
		// Empty and large (parallelized) cases.
		for _, op := range f32TestOps {
			checkBinaryFloat32Fast(t, rng, workers, op, []int{0, 3}, []int{0, 3}, []int{0, 3})
			checkBinaryFloat32Fast(t, rng, workers, op, []int{3, 70001}, []int{3, 70001}, []int{3, 70001})
			checkBinaryFloat32Fast(t, rng, workers, op, []int{3, 70001}, nil, []int{3, 70001})
			checkBinaryFloat32Fast(t, rng, workers, op, nil, []int{3, 70001}, []int{3, 70001})
			checkBinaryFloat32Fast(t, rng, workers, op, []int{301, 769}, []int{1, 769}, []int{301, 769})
			checkBinaryFloat32Fast(t, rng, workers, op, []int{301, 1}, []int{301, 769}, []int{301, 769})
			checkBinaryFloat32Fast(t, rng, workers, op, []int{7, 1, 3, 1}, []int{1, 5003, 1, 17}, []int{7, 5003, 3, 17})
		}
	}
}

// checkReduceFloat32Fast compares the fast reduction with the generic code for one configuration.
func checkReduceFloat32Fast(t *testing.T, rng *rand.Rand, workers *workerspool.Pool, isMax bool, dims, axes []int) {
	t.Helper()
	plan, ok := makeF32ReducePlan(dims, axes)
	if !ok {
		return
	}
	shape := shapes.Make(dtypes.Float32, dims...)
	x := f32TestValues(rng, shape.Size(), isMax && rng.IntN(2) == 0)
	outSize := shape.Size() / plan.reduce
	operand := &gobackend.Buffer{RawShape: shape, Flat: x}
	want := &gobackend.Buffer{RawShape: shapes.Make(dtypes.Float32, outSize), Flat: make([]float32, outSize)}
	got := make([]float32, outSize)
	it := NewReduceOutputIterator(dims, axes)
	if isMax {
		_ = execReduceMaxGeneric[float32](operand, want, it, dtypes.Float32)
		reduceMaxFloat32Fast(workers, plan, x, got)
	} else {
		_ = execReduceSumGeneric[float32](operand, want, it, dtypes.Float32)
		reduceSumFloat32Fast(workers, plan, x, got)
	}
	wantFlat := want.Flat.([]float32)
	for i := range wantFlat {
		if isMax {
			if !f32SameBits(wantFlat[i], got[i]) {
				t.Fatalf("max dims=%v axes=%v: mismatch at %d: want %g, got %g", dims, axes, i, wantFlat[i], got[i])
			}
			continue
		}
		// Tolerance: relative to the sum of absolute values of the reduced elements (bounded by 2*reduce).
		tol := 1e-5 * float64(2*plan.reduce)
		if math.Abs(float64(wantFlat[i])-float64(got[i])) > tol {
			t.Fatalf("sum dims=%v axes=%v: mismatch at %d: want %g, got %g", dims, axes, i, wantFlat[i], got[i])
		}
	}
}

func TestReduceFloat32Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dimChoices := []int{1, 2, 3, 5, 16, 17, 33, 100}
	for _, workers := range f32TestWorkers() {
		for iter := range 2000 {
			rank := 1 + rng.IntN(4)
			dims := make([]int, rank)
			var axes []int
			for axis := range rank {
				dims[axis] = dimChoices[rng.IntN(len(dimChoices))]
				if rng.IntN(2) == 0 {
					axes = append(axes, axis)
				}
			}
			if len(axes) == 0 {
				continue
			}
			checkReduceFloat32Fast(t, rng, workers, iter%2 == 0, dims, axes)
		}
		for _, isMax := range []bool{false, true} {
			checkReduceFloat32Fast(t, rng, workers, isMax, []int{1}, []int{0})
			checkReduceFloat32Fast(t, rng, workers, isMax, []int{1_000_003}, []int{0})
			checkReduceFloat32Fast(t, rng, workers, isMax, []int{769, 3071}, []int{1})
			checkReduceFloat32Fast(t, rng, workers, isMax, []int{3071, 769}, []int{0})
			checkReduceFloat32Fast(t, rng, workers, isMax, []int{3, 511, 1, 1031}, []int{1, 2})
		}
	}
	// Max with all zeros of mixed signs, and all -Inf (exercise the fallbacks).
	for _, workers := range f32TestWorkers() {
		for _, v := range []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(-1))} {
			x := make([]float32, 1000)
			for i := range x {
				x[i] = v
				if i%7 == 0 && v == 0 {
					x[i] = -v
				}
			}
			got := []float32{1}
			reduceMaxFloat32Fast(workers, f32ReducePlan{1, len(x), 1}, x, got)
			if want := f32MaxGo(x); !f32SameBits(want, got[0]) {
				t.Fatalf("max of %g's: want %g, got %g", v, want, got[0])
			}
		}
	}
}

// BenchmarkFloat32FastOps compares the generic implementations ("generic") with the fast paths,
// sequential ("fast1") and parallel ("fastN").
func BenchmarkFloat32FastOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const big = 23_000_000
	bigX := f32TestValues(rng, big, false)
	bigY := f32TestValues(rng, big, false)
	bigOut := make([]float32, big)
	pool := workerspool.New()
	pool.SetMaxParallelism(-1)
	workersByName := []struct {
		name    string
		workers *workerspool.Pool
	}{{"fast1", nil}, {"fastN", pool}}

	binaryCases := []struct {
		name                  string
		op                    f32BinaryOp
		lhsDims, rhsDims, out []int
		lhsFlat, rhsFlat      []float32
		outFlat               []float32
	}{
		{"Mul_same_23M", f32OpMul, []int{big}, []int{big}, []int{big}, bigX, bigY, bigOut},
		{"Mul_scalar_23M", f32OpMul, []int{big}, nil, []int{big}, bigX, bigY[:1], bigOut},
		{"Add_bias_[8192,768]+[1,768]", f32OpAdd, []int{8192, 768}, []int{1, 768}, []int{8192, 768}, bigX[:8192*768], bigY[:768], bigOut[:8192*768]},
		{"Sub_col_[8192,768]-[8192,1]", f32OpSub, []int{8192, 768}, []int{8192, 1}, []int{8192, 768}, bigX[:8192*768], bigY[:8192], bigOut[:8192*768]},
	}
	for _, c := range binaryCases {
		lhsShape := shapes.Make(dtypes.Float32, c.lhsDims...)
		rhsShape := shapes.Make(dtypes.Float32, c.rhsDims...)
		outShape := shapes.Make(dtypes.Float32, c.out...)
		b.Run(c.name+"/generic", func(b *testing.B) {
			for b.Loop() {
				binaryFloat32Generic(c.op, c.lhsFlat, c.rhsFlat, c.outFlat, lhsShape, rhsShape, outShape)
			}
		})
		for _, w := range workersByName {
			b.Run(c.name+"/"+w.name, func(b *testing.B) {
				for b.Loop() {
					binaryFloat32Fast(w.workers, c.op, c.lhsFlat, c.rhsFlat, c.outFlat, lhsShape, rhsShape, outShape)
				}
			})
		}
	}

	reduceCases := []struct {
		name  string
		dims  []int
		axes  []int
		isMax bool
	}{
		{"ReduceAllSum_23M", []int{big}, []int{0}, false},
		{"ReduceSum_rows_[768,3072]", []int{768, 3072}, []int{1}, false},
		{"ReduceSum_lead_[8192,768]", []int{8192, 768}, []int{0}, false},
		{"ReduceMax_rows_[1536,512]", []int{1536, 512}, []int{1}, true},
	}
	for _, c := range reduceCases {
		shape := shapes.Make(dtypes.Float32, c.dims...)
		x := bigX[:shape.Size()]
		plan, _ := makeF32ReducePlan(c.dims, c.axes)
		outSize := shape.Size() / plan.reduce
		operand := &gobackend.Buffer{RawShape: shape, Flat: x}
		output := &gobackend.Buffer{RawShape: shapes.Make(dtypes.Float32, outSize), Flat: make([]float32, outSize)}
		b.Run(fmt.Sprintf("%s/generic", c.name), func(b *testing.B) {
			for b.Loop() {
				it := NewReduceOutputIterator(c.dims, c.axes)
				if c.isMax {
					_ = execReduceMaxGeneric[float32](operand, output, it, dtypes.Float32)
				} else {
					_ = execReduceSumGeneric[float32](operand, output, it, dtypes.Float32)
				}
			}
		})
		for _, w := range workersByName {
			b.Run(c.name+"/"+w.name, func(b *testing.B) {
				out := output.Flat.([]float32)
				for b.Loop() {
					if c.isMax {
						reduceMaxFloat32Fast(w.workers, plan, x, out)
					} else {
						reduceSumFloat32Fast(w.workers, plan, x, out)
					}
				}
			})
		}
	}
}
