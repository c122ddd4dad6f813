package uniter

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
	"github.com/uniter-go/uniter/uniter/named"
)

// TestFusedAttentionMatchesDecomposed runs the backbone in evaluation mode with the backend's fused attention (the
// Go backend has its forward) and with the decomposed one, on a batch with padded tokens and regions: the outputs
// agree, and the fused graph holds one fused attention node per layer. In training with attention dropout the fused
// attention is not used.
func TestFusedAttentionMatchesDecomposed(t *testing.T) {
	cfg := testConfig()
	tb := newTinyBatch(cfg, 3)
	run := func(fused, training bool) (outs map[string][]float32, fusedNodes int) {
		outs = call(t, newStore(5), tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			inputs := named.Bind[Inputs](in)
			g := inputs.InputIDs.Graph()
			scope.Store().SetTraining(g, training)
			SetFusedAttention(scope, fused)
			out := Backbone(scope, cfg, inputs, Options{})
			for _, n := range g.Nodes() {
				if n.Type() == NodeTypeFusedScaledDotProductAttention {
					fusedNodes++
				}
			}
			return named.Nodes{"sequence": out.Sequence, "pooled": out.Pooled}
		})
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
	for _, what := range []string{"sequence", "pooled"} {
		if d := maxAbs(plain[what], fused[what]); d > 1e-5 {
			t.Errorf("%s: fused and decomposed attention differ by %g", what, d)
		}
	}
	if _, n := run(true, true); n != 0 {
		t.Errorf("training with attention dropout %g: %d fused attention nodes, want 0", cfg.AttentionProbsDropoutProb, n)
	}
}
