package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

// TestGradientsMatchFiniteDifferences checks the training gradients (including the hand-written ones of
// ops.go and the PooledOnly last layer) against central finite differences of the VQA loss.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	cfg := testConfig()
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
	cfg.InitializerRange = 0.2
	store := newStore(11)
	tb := newTinyBatch(cfg, 9)
	targets := make([][]float32, 3)
	for i := range targets {
		targets[i] = make([]float32, cfg.NumAnswers)
		targets[i][i] = 1
	}
	keys := []string{"uniter.encoder.layer.0.attention.self.query.weight", "uniter.encoder.layer.1.attention.self.key.weight",
		"uniter.encoder.layer.0.attention.self.value.weight", "uniter.encoder.layer.1.output.dense.weight",
		"uniter.img_embeddings.img_linear.weight", "uniter.encoder.layer.0.attention.output.LayerNorm.weight"}
	feed := named.Tensors{}
	for name, v := range tb.inputs(map[string]any{"Targets": targets}) {
		feed[name] = tensors.MustFromAnyValue(v)
	}
	for _, pooledOnly := range []bool{false, true} {
		lossFn := func(scope *model.Scope, in named.Nodes) *Node {
			scope.Store().SetTraining(in["InputIDs"].Graph(), true)
			x := named.Bind[VQAInputs](in)
			x.Options.PooledOnly = pooledOnly
			return VQA(scope, cfg, x).Loss
		}
		gradExec, err := named.NewExec(testBackend(t), store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			l := lossFn(scope, in)
			out := named.Nodes{"loss": l}
			for _, k := range keys {
				out[k] = Gradient(l, store.GetVariable(VariablePath(k)).NodeValue(l.Graph()))[0]
			}
			return out
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := gradExec.Call(feed)
		if err != nil {
			t.Fatal(err)
		}
		lossExec, err := named.NewExec(testBackend(t), store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			return named.Nodes{"loss": lossFn(scope, in)}
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			v := store.GetVariable(VariablePath(k))
			orig := tensors.MustCopyFlatData[float32](v.MustValue())
			grad := tensors.MustCopyFlatData[float32](outs[k])
			for _, idx := range []int{0, 7, len(orig) / 2} {
				const eps = 1e-2
				f := func(delta float32) float64 {
					w := append([]float32(nil), orig...)
					w[idx] += delta
					_ = v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...))
					o, err := lossExec.Call(feed)
					if err != nil {
						t.Fatal(err)
					}
					return float64(tensors.MustCopyFlatData[float32](o["loss"])[0])
				}
				num := (f(eps) - f(-eps)) / (2 * eps)
				_ = v.SetValue(tensors.FromFlatDataAndDimensions(orig, v.Shape().Dimensions...))
				t.Logf("pooledOnly=%v %s[%d]: autodiff %+.5f, numeric %+.5f", pooledOnly, k, idx, grad[idx], num)
				if math.Abs(num-float64(grad[idx])) > 0.05*math.Max(0.05, math.Abs(num)) {
					t.Errorf("%s[%d]: autodiff %g vs numeric %g", k, idx, grad[idx], num)
				}
			}
		}
	}
}
