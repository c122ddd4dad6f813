// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package transpose

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
	"github.com/gomlx/compute/shapes"
)

// referenceTranspose writes the transpose of src (dimensions dims) by perm into dst, one element at a time from the
// definition: output index (i_0, …, i_n) reads operand index j with j[perm[k]] = i_k.
func referenceTranspose[T any](src, dst []T, dims, perm []int) {
	rank := len(dims)
	strides := make([]int, rank)
	for s, axis := 1, rank-1; axis >= 0; axis-- {
		strides[axis] = s
		s *= dims[axis]
	}
	outDims := make([]int, rank)
	for i, p := range perm {
		outDims[i] = dims[p]
	}
	index := make([]int, rank)
	for o := range dst {
		rest, offset := o, 0
		for axis := rank - 1; axis >= 0; axis-- {
			index[axis] = rest % outDims[axis]
			rest /= outDims[axis]
			offset += index[axis] * strides[perm[axis]]
		}
		dst[o] = src[offset]
	}
}

// transposeTestBuffers creates an operand filled with distinct values and two zeroed outputs.
func transposeTestBuffers[T any](dtype dtypes.DType, dims, perm []int, fill func(i int) T) (operand, want, got *gobackend.Buffer) {
	shape := shapes.Make(dtype, dims...)
	outDims := make([]int, len(dims))
	for i, p := range perm {
		outDims[i] = dims[p]
	}
	outShape := shapes.Make(dtype, outDims...)
	src := make([]T, shape.Size())
	for i := range src {
		src[i] = fill(i)
	}
	operand = &gobackend.Buffer{RawShape: shape, Flat: src}
	want = &gobackend.Buffer{RawShape: outShape, Flat: make([]T, outShape.Size())}
	got = &gobackend.Buffer{RawShape: outShape, Flat: make([]T, outShape.Size())}
	return
}

// checkTransposeFast compares the fast path against referenceTranspose for one shape/permutation.
func checkTransposeFast[T comparable](t *testing.T, backend *gobackend.Backend, dtype dtypes.DType, dims, perm []int, fill func(i int) T) {
	t.Helper()
	operand, want, got := transposeTestBuffers(dtype, dims, perm, fill)
	referenceTranspose(operand.Flat.([]T), want.Flat.([]T), dims, perm)
	if !transposeFast(backend, operand, got, perm) {
		t.Fatalf("transposeFast(%s, dims=%v, perm=%v) not supported", dtype, dims, perm)
	}
	if !slices.Equal(want.Flat.([]T), got.Flat.([]T)) {
		t.Fatalf("transposeFast(%s, dims=%v, perm=%v) mismatch:\n\twant=%v\n\t got=%v", dtype, dims, perm,
			want.Flat, got.Flat)
	}
}

func TestTransposeFastRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	sizes := []int{1, 1, 2, 3, 4, 5, 7, 1, 2, 3, 17, 33, 0}
	backends := []*gobackend.Backend{
		nil,
		{Workers: workerspool.New()},
	}
	for iter := range 3000 {
		rank := 1 + rng.IntN(5)
		dims := make([]int, rank)
		for i := range dims {
			dims[i] = sizes[rng.IntN(len(sizes)-1)]
			if iter%50 == 0 && rng.IntN(rank) == 0 {
				dims[i] = 0 // Sometimes empty.
			}
		}
		perm := rng.Perm(rank)
		backend := backends[iter%2]
		checkTransposeFast(t, backend, dtypes.Float32, dims, perm, func(i int) float32 { return float32(i) + 0.5 })
		switch iter % 7 {
		case 0:
			checkTransposeFast(t, backend, dtypes.Int8, dims, perm, func(i int) int8 { return int8(i) })
		case 1:
			checkTransposeFast(t, backend, dtypes.Float64, dims, perm, func(i int) float64 { return float64(i) * 1.25 })
		case 2:
			checkTransposeFast(t, backend, dtypes.Bool, dims, perm, func(i int) bool { return i%3 == 0 })
		case 3:
			checkTransposeFast(t, backend, dtypes.Float16, dims, perm, func(i int) float16.Float16 { return float16.FromFloat32(float32(i)) })
		case 4:
			checkTransposeFast(t, backend, dtypes.BFloat16, dims, perm, func(i int) bfloat16.BFloat16 { return bfloat16.FromFloat32(float32(i)) })
		case 5:
			checkTransposeFast(t, backend, dtypes.Int32, dims, perm, func(i int) int32 { return int32(i) })
		case 6:
			checkTransposeFast(t, backend, dtypes.Uint16, dims, perm, func(i int) uint16 { return uint16(i) })
		}
	}
}

// TestTransposeFastTiles uses sizes around the 16x16 tiles of the SIMD kernel and the 32-row blocks.
func TestTransposeFastTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 15, 16, 17, 31, 32, 33, 48, 65}
	backends := []*gobackend.Backend{nil, {Workers: workerspool.New()}}
	for iter := range 500 {
		rank := 2 + rng.IntN(2)
		dims := make([]int, rank)
		for i := range dims {
			dims[i] = sizes[rng.IntN(len(sizes))]
		}
		perm := rng.Perm(rank)
		backend := backends[iter%2]
		checkTransposeFast(t, backend, dtypes.Float32, dims, perm, func(i int) float32 { return float32(i) - 0.25 })
		checkTransposeFast(t, backend, dtypes.Uint32, dims, perm, func(i int) uint32 { return uint32(i) * 3 })
		checkTransposeFast(t, backend, dtypes.Int16, dims, perm, func(i int) int16 { return int16(i) })
	}
}

// transposeWorkloadCases are the shapes/permutations seen in a UNITER-base training step, plus some
// larger odd shapes to exercise the parallel path.
var transposeWorkloadCases = []struct {
	dims, perm []int
}{
	{[]int{8, 96, 12, 64}, []int{0, 2, 1, 3}},
	{[]int{8, 12, 96, 64}, []int{0, 2, 1, 3}},
	{[]int{768, 3072}, []int{1, 0}},
	{[]int{3072, 768}, []int{1, 0}},
	{[]int{8, 96, 768}, []int{2, 0, 1}},
	{[]int{8, 96, 3072}, []int{2, 0, 1}},
	{[]int{8, 12, 96, 96}, []int{0, 1, 3, 2}},
	// The embedded default's model (batch 512, 28 positions, 4 heads of 32).
	{[]int{512, 28, 4, 32}, []int{0, 2, 1, 3}},
	{[]int{512, 4, 28, 32}, []int{0, 2, 1, 3}},
	{[]int{512, 4, 28, 28}, []int{0, 1, 3, 2}},
	{[]int{512, 28, 128}, []int{2, 0, 1}},
	{[]int{8, 3129}, []int{1, 0}},
	{[]int{8, 12, 1, 64}, []int{0, 2, 1, 3}},
	{[]int{8, 12, 1, 96}, []int{0, 1, 3, 2}},
	{[]int{3, 1, 5, 7}, []int{3, 1, 0, 2}},
	{[]int{5, 77, 31, 19}, []int{2, 3, 0, 1}},
	{[]int{13, 17, 19, 23}, []int{3, 2, 1, 0}},
	{[]int{333, 257}, []int{1, 0}},
	{[]int{2, 65537}, []int{1, 0}},
	{[]int{65537, 3}, []int{1, 0}},
	{[]int{7, 9, 11, 13, 15}, []int{4, 0, 3, 1, 2}},
}

func TestTransposeFastWorkload(t *testing.T) {
	backends := []*gobackend.Backend{nil, {Workers: workerspool.New()}}
	for _, backend := range backends {
		for _, tc := range transposeWorkloadCases {
			checkTransposeFast(t, backend, dtypes.Float32, tc.dims, tc.perm, func(i int) float32 { return float32(i) })
			checkTransposeFast(t, backend, dtypes.Int64, tc.dims, tc.perm, func(i int) int64 { return int64(i) })
		}
	}
}

// BenchmarkTranspose compares upstream's executor ("upstream", with a workers pool) against this one, sequential
// ("fast") and with a workers pool ("fast-parallel").
func BenchmarkTranspose(b *testing.B) {
	for _, tc := range transposeWorkloadCases[:11] {
		operand, output, _ := transposeTestBuffers(dtypes.Float32, tc.dims, tc.perm, func(i int) float32 { return float32(i) })
		name := fmt.Sprintf("%v_perm%v", tc.dims, tc.perm)
		bytes := int64(operand.RawShape.Size() * 4)
		b.Run(name+"/upstream", func(b *testing.B) {
			backend := &gobackend.Backend{Workers: workerspool.New()}
			b.SetBytes(bytes)
			for b.Loop() {
				ops.ExecuteTranspose(backend, operand, output, tc.perm)
			}
		})
		b.Run(name+"/fast", func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				transposeFast(nil, operand, output, tc.perm)
			}
		})
		backend := &gobackend.Backend{Workers: workerspool.New()}
		b.Run(name+"/fast-parallel", func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				transposeFast(backend, operand, output, tc.perm)
			}
		})
	}
}
