package uniter

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

// TestHandWrittenGradientsMatchAutodiff checks each building block with a hand-written gradient (ops.go)
// against GoMLX's automatic gradient of a plain formulation, with the backend's fused ops on and off.
func TestHandWrittenGradientsMatchAutodiff(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	randn := func(scale float64, dims ...int) *tensors.Tensor {
		x := make([]float32, shapes.Make(dtypes.Float32, dims...).Size())
		for i := range x {
			x[i] = float32(scale * r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(x, dims...)
	}
	// The GELU input includes 0 (where its gradient takes Φ(0) = 0.5 directly) and large magnitudes.
	geluInput := randn(2, 3, 7)
	tensors.MustMutableFlatData(geluInput, func(v []float32) { v[0], v[1], v[2] = 0, -12, 9 })
	const eps = 1e-5
	plainLayerNorm := func(h, gamma, beta *Node) *Node {
		xc := Sub(h, ReduceAndKeep(h, ReduceMean, -1))
		v := ReduceAndKeep(Square(xc), ReduceMean, -1)
		return Add(Mul(Div(xc, Sqrt(AddScalar(v, eps))), ExpandLeftToRank(gamma, 2)), ExpandLeftToRank(beta, 2))
	}
	cases := []struct {
		name        string
		inputs      []*tensors.Tensor
		fast, plain func(x []*Node) *Node
	}{
		{"linear", []*tensors.Tensor{randn(1, 2, 3, 5), randn(1, 4, 5)},
			func(x []*Node) *Node { return matMulTransposed(x[0], x[1]) },
			func(x []*Node) *Node { return DotGeneral(x[0], []int{2}, nil, x[1], []int{1}, nil) }},
		{"linear with bias", []*tensors.Tensor{randn(1, 2, 3, 5), randn(1, 4, 5), randn(1, 4)},
			func(x []*Node) *Node { return addBias(matMulTransposed(x[0], x[1]), x[2]) },
			func(x []*Node) *Node {
				return Add(DotGeneral(x[0], []int{2}, nil, x[1], []int{1}, nil), ExpandLeftToRank(x[2], 3))
			}},
		{"attention scores", []*tensors.Tensor{randn(1, 2, 3, 4, 5), randn(1, 2, 3, 6, 5)},
			func(x []*Node) *Node { return attentionScores(x[0], x[1]) },
			func(x []*Node) *Node { return Einsum("bhqd,bhkd->bhqk", x[0], x[1]) }},
		{"attention context", []*tensors.Tensor{randn(1, 2, 3, 4, 6), randn(1, 2, 3, 6, 5)},
			func(x []*Node) *Node { return attentionContext(x[0], x[1]) },
			func(x []*Node) *Node { return Einsum("bhqk,bhkd->bhqd", x[0], x[1]) }},
		{"gelu", []*tensors.Tensor{geluInput},
			func(x []*Node) *Node { return gelu(x[0]) },
			func(x []*Node) *Node {
				return Mul(x[0], MulScalar(OnePlus(Erf(MulScalar(x[0], 1/math.Sqrt2))), 0.5))
			}},
		{"softmax", []*tensors.Tensor{randn(3, 2, 3, 7)},
			func(x []*Node) *Node { return softmax(x[0]) },
			func(x []*Node) *Node {
				e := Exp(Sub(x[0], ReduceAndKeep(x[0], ReduceMax, -1)))
				return Div(e, ReduceAndKeep(e, ReduceSum, -1))
			}},
		{"layer norm", []*tensors.Tensor{randn(3, 4, 7), randn(1, 7), randn(1, 7)},
			func(x []*Node) *Node { return layerNormWith(x[0], x[1], x[2], eps) },
			func(x []*Node) *Node { return plainLayerNorm(x[0], x[1], x[2]) }},
	}
	// valueAndGradients returns f(x) and the gradients of Σ sin(f(x)) with respect to every operand.
	valueAndGradients := func(f func(x []*Node) *Node) func(_ *model.Scope, x []*Node) []*Node {
		return func(_ *model.Scope, x []*Node) []*Node {
			out := f(x)
			return append([]*Node{out}, Gradient(ReduceAllSum(Sin(out)), x...)...)
		}
	}
	for _, fusion := range []string{"1", "0"} {
		t.Setenv("GOMLX_FUSION", fusion)
		for _, c := range cases {
			fast := callOps(t, newStore(0), c.inputs, valueAndGradients(c.fast))
			plain := callOps(t, newStore(0), c.inputs, valueAndGradients(c.plain))
			for i := range fast {
				what := "value"
				if i > 0 {
					what = "gradient of input " + string(rune('0'+i-1))
				}
				if d := maxAbs(fast[i], plain[i]); d > 2e-5 {
					t.Errorf("GOMLX_FUSION=%s %s: %s differs by %g", fusion, c.name, what, d)
				}
			}
		}
	}
}

// TestEncoderLayerGradientsMatchPlainFormulation differentiates one encoder layer (with padding in the attention
// mask) and a plain re-statement of it — PyTorch-layout matrix products, Einsum attention, decomposed softmax,
// LayerNorm and exact GELU, all with GoMLX's automatic gradients — and compares the gradients of every weight and
// of the input.
func TestEncoderLayerGradientsMatchPlainFormulation(t *testing.T) {
	cfg := testConfig()
	const b, l = 2, 5
	r := rand.New(rand.NewPCG(21, 3))
	x := make([][][]float32, b)
	for i := range x {
		x[i] = make([][]float32, l)
		for j := range x[i] {
			x[i][j] = make([]float32, cfg.HiddenSize)
			for k := range x[i][j] {
				x[i][j][k] = float32(r.NormFloat64())
			}
		}
	}
	mask := [][]float32{{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}
	store := newStore(8)
	grads := func(plain bool) map[string][]float32 {
		return call(t, store, map[string]any{"x": x, "mask": mask}, func(scope *model.Scope, in named.Nodes) named.Nodes {
			bias := InsertAxes(MulScalar(OneMinus(in["mask"]), -10000.0), 1, 1)
			var out *Node
			if plain {
				out = plainEncoderLayer(scope, cfg, in["x"], bias)
			} else {
				out, _ = encoderLayer(scope, cfg, 0, in["x"], in["x"], bias)
			}
			wrt, names := []*Node{in["x"]}, []string{"input"}
			for v := range store.IterVariables() {
				if v.Trainable && v.DType() == dtypes.Float32 {
					wrt = append(wrt, v.NodeValue(out.Graph()))
					names = append(names, v.Path())
				}
			}
			res := named.Nodes{}
			for i, grad := range Gradient(ReduceAllSum(Sin(out)), wrt...) {
				res[names[i]] = grad
			}
			return res
		})
	}
	fast := grads(false) // creates the variables
	plain := grads(true)
	if len(fast) != 17 || len(plain) != len(fast) {
		t.Fatalf("%d and %d gradients, want the input's and the 16 weights' of a layer", len(fast), len(plain))
	}
	for name := range fast {
		if d := maxAbs(fast[name], plain[name]); d > 1e-4 {
			t.Errorf("gradient of %s differs by %g", name, d)
		}
	}
}

// plainEncoderLayer restates encoderLayer 0 (evaluation mode) with plain GoMLX ops.
func plainEncoderLayer(scope *model.Scope, cfg Config, x, bias *Node) *Node {
	g := x.Graph()
	v := func(key string) *Node {
		return scope.Store().GetVariable(VariablePath("uniter.encoder.layer.0." + key)).NodeValue(g)
	}
	lin := func(key string, h *Node) *Node {
		return Add(DotGeneral(h, []int{2}, nil, v(key+".weight"), []int{1}, nil), ExpandLeftToRank(v(key+".bias"), 3))
	}
	ln := func(key string, h *Node) *Node {
		c := Sub(h, ReduceAndKeep(h, ReduceMean, -1))
		n := Div(c, Sqrt(AddScalar(ReduceAndKeep(Square(c), ReduceMean, -1), cfg.LayerNormEps)))
		return Add(Mul(n, ExpandLeftToRank(v(key+".weight"), 3)), ExpandLeftToRank(v(key+".bias"), 3))
	}
	b, l, nh, dh := x.Shape().Dimensions[0], x.Shape().Dimensions[1], cfg.NumAttentionHeads, cfg.HeadDim()
	split := func(h *Node) *Node { return Reshape(h, b, l, nh, dh) }
	q, k, val := split(lin("attention.self.query", x)), split(lin("attention.self.key", x)), split(lin("attention.self.value", x))
	scores := Add(MulScalar(Einsum("bqhd,bkhd->bhqk", q, k), 1/math.Sqrt(float64(dh))), bias)
	e := Exp(Sub(scores, StopGradient(ReduceAndKeep(scores, ReduceMax, -1))))
	ctx := Reshape(Einsum("bhqk,bkhd->bqhd", Div(e, ReduceAndKeep(e, ReduceSum, -1)), val), b, l, cfg.HiddenSize)
	x1 := ln("attention.output.LayerNorm", Add(lin("attention.output.dense", ctx), x))
	z := lin("intermediate.dense", x1)
	h := Mul(z, MulScalar(OnePlus(Erf(MulScalar(z, 1/math.Sqrt2))), 0.5))
	return ln("output.LayerNorm", Add(lin("output.dense", h), x1))
}
