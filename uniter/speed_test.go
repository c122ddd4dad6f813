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
)

// TestHandWrittenGradientsMatchAutodiff checks each building block with a hand-written gradient (gradients.go)
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
	tensors.MustMutableFlatData(geluInput, func(x []float32) { x[0], x[1], x[2] = 0, -12, 9 })
	const eps = 1e-5
	plainLayerNorm := func(x, gamma, beta *Node) *Node {
		xc := Sub(x, ReduceAndKeep(x, ReduceMean, -1))
		v := ReduceAndKeep(Square(xc), ReduceMean, -1)
		return Add(Mul(Div(xc, Sqrt(AddScalar(v, eps))), ExpandLeftToRank(gamma, 2)), ExpandLeftToRank(beta, 2))
	}
	cases := []struct {
		name        string
		inputs      []*tensors.Tensor
		fast, plain func(in []*Node) *Node
	}{
		{"linear", []*tensors.Tensor{randn(1, 2, 3, 5), randn(1, 4, 5)},
			func(in []*Node) *Node { return matMulTransposed(in[0], in[1]) },
			func(in []*Node) *Node { return DotGeneral(in[0], []int{2}, nil, in[1], []int{1}, nil) }},
		{"linear with bias", []*tensors.Tensor{randn(1, 2, 3, 5), randn(1, 4, 5), randn(1, 4)},
			func(in []*Node) *Node { return addBias(matMulTransposed(in[0], in[1]), in[2]) },
			func(in []*Node) *Node {
				return Add(DotGeneral(in[0], []int{2}, nil, in[1], []int{1}, nil), ExpandLeftToRank(in[2], 3))
			}},
		{"attention scores", []*tensors.Tensor{randn(1, 2, 3, 4, 5), randn(1, 2, 3, 6, 5)},
			func(in []*Node) *Node { return attentionScores(in[0], in[1]) },
			func(in []*Node) *Node { return Einsum("bhqd,bhkd->bhqk", in[0], in[1]) }},
		{"attention context", []*tensors.Tensor{randn(1, 2, 3, 4, 6), randn(1, 2, 3, 6, 5)},
			func(in []*Node) *Node { return attentionContext(in[0], in[1]) },
			func(in []*Node) *Node { return Einsum("bhqk,bhkd->bhqd", in[0], in[1]) }},
		{"gelu", []*tensors.Tensor{geluInput},
			func(in []*Node) *Node { return gelu(in[0]) },
			func(in []*Node) *Node {
				return Mul(in[0], MulScalar(OnePlus(Erf(MulScalar(in[0], 1/math.Sqrt2))), 0.5))
			}},
		{"softmax", []*tensors.Tensor{randn(3, 2, 3, 7)},
			func(in []*Node) *Node { return softmax(in[0]) },
			func(in []*Node) *Node {
				e := Exp(Sub(in[0], ReduceAndKeep(in[0], ReduceMax, -1)))
				return Div(e, ReduceAndKeep(e, ReduceSum, -1))
			}},
		{"layer norm", []*tensors.Tensor{randn(3, 4, 7), randn(1, 7), randn(1, 7)},
			func(in []*Node) *Node { return layerNormWith(in[0], in[1], in[2], eps) },
			func(in []*Node) *Node { return plainLayerNorm(in[0], in[1], in[2]) }},
	}
	// valueAndGradients returns f(in) and the gradients of Σ sin(f(in)) with respect to every input.
	valueAndGradients := func(f func(in []*Node) *Node) func(in []*Node) []*Node {
		return func(in []*Node) []*Node {
			out := f(in)
			return append([]*Node{out}, Gradient(ReduceAllSum(Sin(out)), in...)...)
		}
	}
	for _, fusion := range []string{"1", "0"} {
		t.Setenv("GOMLX_FUSION", fusion)
		for _, c := range cases {
			args := make([]any, len(c.inputs))
			for i, x := range c.inputs {
				args[i] = x
			}
			fast := call(t, newStore(0), func(_ *model.Scope, in []*Node) []*Node { return valueAndGradients(c.fast)(in) }, args...)
			plain := call(t, newStore(0), func(_ *model.Scope, in []*Node) []*Node { return valueAndGradients(c.plain)(in) }, args...)
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

// TestDropoutMaskAndGradient checks dropout in training mode: each element is either 0 or x/(1-rate), about rate of
// them are 0, the gradient is the same mask, and evaluation mode is the identity.
func TestDropoutMaskAndGradient(t *testing.T) {
	const n, rate = 4000, 0.25
	x := make([]float32, n)
	for i := range x {
		x[i] = 1 + float32(i%5)
	}
	for _, training := range []bool{true, false} {
		store := newStore(4)
		outs := call(t, store, func(scope *model.Scope, in []*Node) []*Node {
			store.SetTraining(in[0].Graph(), training)
			y := dropout(scope, in[0], rate)
			return []*Node{y, Gradient(ReduceAllSum(y), in[0])[0]}
		}, x)
		y, grad := outs[0], outs[1]
		var zeros int
		for i := range x {
			switch {
			case !training && (y[i] != x[i] || grad[i] != 1):
				t.Fatalf("evaluation: element %d is %g (gradient %g), want %g (1)", i, y[i], grad[i], x[i])
			case training && y[i] == 0 && grad[i] == 0:
				zeros++
			case training && (math.Abs(float64(y[i]-x[i]/(1-rate))) > 1e-5 || math.Abs(float64(grad[i]-1/(1-rate))) > 1e-6):
				t.Fatalf("training: element %d is %g (gradient %g), want 0 or %g (%g)", i, y[i], grad[i], x[i]/(1-rate), 1/(1-rate))
			}
		}
		if frac := float64(zeros) / n; training && math.Abs(frac-rate) > 0.03 {
			t.Errorf("training: %.3f of the elements dropped, want about %g", frac, rate)
		}
	}
}

// TestPooledOnlyMatchesFullBackbone checks that Options.PooledOnly changes neither the pooled output nor the
// [CLS] row of the last layer, with padding in the batch, and that gradients flow the same.
func TestPooledOnlyMatchesFullBackbone(t *testing.T) {
	cfg := testConfig()
	tb := newTinyBatch(cfg, 9)
	var outs [2][][]float32
	for i, pooledOnly := range []bool{false, true} {
		store := newStore(6)
		outs[i] = call(t, store, func(scope *model.Scope, in []*Node) []*Node {
			out := Backbone(scope, cfg, inputsOf(in), Options{PooledOnly: pooledOnly})
			cls := Slice(out.Sequence, AxisRange(), AxisRange(0, 1))
			w := store.GetVariable(VariablePath("uniter.encoder.layer.0.attention.self.key.weight")).NodeValue(in[0].Graph())
			return []*Node{out.Pooled, cls, Gradient(ReduceAllSum(Sin(out.Pooled)), w)[0]}
		}, tb.args()...)
	}
	for j, what := range []string{"pooled", "[CLS] row", "gradient of a first-layer weight"} {
		if d := maxAbs(outs[0][j], outs[1][j]); d > 1e-5 {
			t.Errorf("PooledOnly changes the %s by %g", what, d)
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
	var names []string
	grads := func(plain bool) [][]float32 {
		return call(t, store, func(scope *model.Scope, in []*Node) []*Node {
			g := in[0].Graph()
			bias := InsertAxes(MulScalar(OneMinus(in[1]), -10000.0), 1, 1)
			var out *Node
			if plain {
				out = plainEncoderLayer(scope, cfg, in[0], bias)
			} else {
				out, _ = EncoderLayer(scope, cfg, 0, in[0], bias)
			}
			wrt := []*Node{in[0]}
			names = []string{"input"}
			for v := range store.IterVariables() {
				if v.Trainable && v.DType() == dtypes.Float32 {
					wrt = append(wrt, v.NodeValue(g))
					names = append(names, v.Path())
				}
			}
			return Gradient(ReduceAllSum(Sin(out)), wrt...)
		}, x, mask)
	}
	fast := grads(false) // creates the variables
	plain := grads(true)
	for i := range fast {
		if d := maxAbs(fast[i], plain[i]); d > 1e-4 {
			t.Errorf("gradient of %s differs by %g", names[i], d)
		}
	}
}

// plainEncoderLayer restates EncoderLayer 0 (evaluation mode) with plain GoMLX ops.
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
