package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestGradientsMatchFiniteDifferences checks the training gradients (including the hand-written ones of
// gradients.go and the PooledOnly last layer) against central finite differences of the VQA loss.
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
	lossFn := func(scope *model.Scope, in []*Node) *Node {
		scope.Store().SetTraining(in[0].Graph(), true)
		out := Backbone(scope, cfg, inputsOf(in[:5]), Options{PooledOnly: len(in) > 6})
		return VQALoss(VQAHead(scope, cfg, out.Pooled), in[5], nil)
	}
	for _, pooledOnly := range []bool{false, true} {
		args := append(tb.args(), targets)
		if pooledOnly {
			args = append(args, float32(0))
		}
		gradExec, err := model.NewExec(testBackend(t), store, func(scope *model.Scope, in []*Node) []*Node {
			l := lossFn(scope, in)
			vars := make([]*Node, len(keys))
			for i, k := range keys {
				vars[i] = store.GetVariable(VariablePath(k)).NodeValue(l.Graph())
			}
			return append([]*Node{l}, Gradient(l, vars...)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := gradExec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		lossExec, _ := model.NewExec(testBackend(t), store, func(scope *model.Scope, in []*Node) []*Node { return []*Node{lossFn(scope, in)} })
		for ki, k := range keys {
			v := store.GetVariable(VariablePath(k))
			orig := tensors.MustCopyFlatData[float32](v.MustValue())
			grad := tensors.MustCopyFlatData[float32](outs[1+ki])
			for _, idx := range []int{0, 7, len(orig) / 2} {
				const eps = 1e-2
				f := func(delta float32) float64 {
					w := append([]float32(nil), orig...)
					w[idx] += delta
					_ = v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...))
					o, err := lossExec.Call(args...)
					if err != nil {
						t.Fatal(err)
					}
					return float64(tensors.MustCopyFlatData[float32](o[0])[0])
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
