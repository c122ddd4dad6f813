package uniter

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// TestFusedAttentionMatchesDecomposed runs the backbone in evaluation mode with the backend's fused attention (the
// Go backend has its forward) and with the decomposed one, on a batch with padded tokens and regions: the outputs
// agree, and the fused graph holds one fused attention node per layer. In training with attention dropout the fused
// attention is not used.
func TestFusedAttentionMatchesDecomposed(t *testing.T) {
	cfg := testConfig()
	tb := newTinyBatch(cfg, 3)
	run := func(fused, training bool) (outs [][]float32, fusedNodes int) {
		outs = call(t, newStore(5), func(scope *model.Scope, in []*Node) []*Node {
			g := in[0].Graph()
			scope.Store().SetTraining(g, training)
			SetFusedAttention(scope, fused)
			out := Backbone(scope, cfg, inputsOf(in), Options{})
			for _, n := range g.Nodes() {
				if n.Type() == NodeTypeFusedScaledDotProductAttention {
					fusedNodes++
				}
			}
			return []*Node{out.Sequence, out.Pooled}
		}, tb.args()...)
		return outs, fusedNodes
	}
	plain, n := run(false, false)
	if n != 0 {
		t.Fatalf("decomposed attention: %d fused attention nodes", n)
	}
	fused, n := run(true, false)
	if n != cfg.NumHiddenLayers {
		t.Fatalf("fused attention: %d fused attention nodes, want one per layer (%d)", n, cfg.NumHiddenLayers)
	}
	for i, what := range []string{"sequence", "pooled"} {
		if d := maxAbs(plain[i], fused[i]); d > 1e-5 {
			t.Errorf("%s: fused and decomposed attention differ by %g", what, d)
		}
	}
	if _, n := run(true, true); n != 0 {
		t.Errorf("training with attention dropout %g: %d fused attention nodes, want 0", cfg.AttentionProbsDropoutProb, n)
	}
}
