package uniter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter/named"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call builds fn on the store, runs it once on the inputs (Go slices or tensors, by name) and returns its
// outputs by name as flat float32 slices.
func call(t *testing.T, store *model.Store, inputs map[string]any, fn func(scope *model.Scope, in named.Nodes) named.Nodes) map[string][]float32 {
	t.Helper()
	exec, err := named.NewExec(testBackend(t), store, fn)
	if err != nil {
		t.Fatal(err)
	}
	feed := named.Tensors{}
	for name, v := range inputs {
		if feed[name], err = tensors.FromAnyValue(v); err != nil {
			t.Fatalf("input %s: %v", name, err)
		}
	}
	outs, err := exec.Call(feed)
	if err != nil {
		t.Fatal(err)
	}
	res := make(map[string][]float32, len(outs))
	for name, o := range outs {
		res[name] = tensors.MustCopyFlatData[float32](o)
	}
	return res
}

// callOps runs fn once on operands (fed as the inputs x0, x1, …) and returns its outputs as flat float32 slices,
// in order.
func callOps(t *testing.T, store *model.Store, operands []*tensors.Tensor, fn func(scope *model.Scope, x []*Node) []*Node) [][]float32 {
	t.Helper()
	in := map[string]any{}
	for i, o := range operands {
		in[fmt.Sprintf("x%d", i)] = o
	}
	var n int
	outs := call(t, store, in, func(scope *model.Scope, nodes named.Nodes) named.Nodes {
		x := make([]*Node, len(operands))
		for i := range x {
			x[i] = nodes[fmt.Sprintf("x%d", i)]
		}
		ys := fn(scope, x)
		n = len(ys)
		res := named.Nodes{}
		for i, y := range ys {
			res[fmt.Sprintf("y%03d", i)] = y
		}
		return res
	})
	ys := make([][]float32, n)
	for i := range ys {
		ys[i] = outs[fmt.Sprintf("y%03d", i)]
	}
	return ys
}

// tinyBatch is a small batch: B=3, Lt=6, Nr=5, with padding in examples 1 and 2.
type tinyBatch struct {
	ids                 [][]int32
	txtMask, imgMask    [][]float32
	feat, pos           [][][]float32
	txtLens, regionLens []int
}

func newTinyBatch(cfg Config, seed uint64) *tinyBatch {
	r := rand.New(rand.NewPCG(seed, 1))
	const b, lt, nr = 3, 6, 5
	tb := &tinyBatch{txtLens: []int{6, 4, 3}, regionLens: []int{5, 2, 4}}
	for i := range b {
		ids, tm := make([]int32, lt), make([]float32, lt)
		for j := range tb.txtLens[i] {
			ids[j], tm[j] = int32(1000+r.IntN(cfg.VocabSize-1000)), 1
		}
		ids[0], ids[tb.txtLens[i]-1] = 101, 102
		feat, pos, im := make([][]float32, nr), make([][]float32, nr), make([]float32, nr)
		for j := range nr {
			feat[j], pos[j] = make([]float32, cfg.ImgDim), make([]float32, cfg.PosDim)
			if j < tb.regionLens[i] {
				im[j] = 1
				for k := range feat[j] {
					feat[j][k] = float32(r.ExpFloat64())
				}
				for k := range pos[j] {
					pos[j][k] = r.Float32()
				}
			}
		}
		tb.ids, tb.txtMask, tb.imgMask = append(tb.ids, ids), append(tb.txtMask, tm), append(tb.imgMask, im)
		tb.feat, tb.pos = append(tb.feat, feat), append(tb.pos, pos)
	}
	return tb
}

// inputs returns the batch as the backbone inputs, named as the fields of Inputs, plus extra.
func (tb *tinyBatch) inputs(extra map[string]any) map[string]any {
	in := map[string]any{"InputIDs": tb.ids, "TxtMask": tb.txtMask, "ImgFeat": tb.feat, "ImgPos": tb.pos, "ImgMask": tb.imgMask}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func testConfig() Config {
	c := Tiny()
	c.VocabSize, c.ImgDim, c.NumAnswers = 2000, 32, 16
	return c
}

func newStore(seed int64) *model.Store {
	s := model.NewStore()
	s.SetParam(model.ParamInitialSeed, seed)
	return s
}

func maxAbs(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func shapesOf(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
