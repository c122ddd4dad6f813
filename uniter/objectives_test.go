package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

// TestObjectivesComposeTheirParts runs every objective on a tiny batch and checks it against its parts applied by
// hand: the heads read the rows the positions name (regions counted after the text), the losses are the named
// loss functions, ITM adds ITMOTLambda × the WRA loss, and without labels no loss is built.
func TestObjectivesComposeTheirParts(t *testing.T) {
	cfg := testConfig()
	cfg.ITMOTLambda = 0.3
	tb := newTinyBatch(cfg, 4)
	const lt = 6
	extra := map[string]any{
		"Positions": [][]int32{{0, 1}, {2, 3}}, // (b, r): regions 1 and 3 of examples 0 and 2, rows lt+1 and lt+3
		"Labels":    []int32{1, 0, 1},
		"Tokens":    []int32{1500, 1999},
		"Features":  [][]float32{make([]float32, cfg.ImgDim), make([]float32, cfg.ImgDim)},
		"Classes":   [][]float32{make([]float32, cfg.ImgLabelDim), make([]float32, cfg.ImgLabelDim)},
		"MRMMask":   [][]float32{{0, 1, 0, 0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 1, 0}},
	}
	extra["Classes"].([][]float32)[0][3], extra["Classes"].([][]float32)[1][5] = 1, 1
	outs := call(t, newStore(5), tb.inputs(extra), func(scope *model.Scope, in named.Nodes) named.Nodes {
		x := named.Bind[struct {
			Inputs
			Positions, Labels, Tokens, Features, Classes *Node
		}](in)
		mrm := MRMInputs{Inputs: x.Inputs, Positions: x.Positions, Targets: x.Features}
		inputs := x.Inputs
		inputs.MRMMask = nil
		mrfr := MaskedRegionFeatureRegression(scope, cfg, mrm)
		mrm.Targets = in["Classes"]
		mrc, mrcKL := MaskedRegionClassification(scope, cfg, mrm), MaskedRegionClassificationKL(scope, cfg, mrm)
		itm := ImageTextMatching(scope, cfg, ITMInputs{Inputs: inputs, Labels: in["Labels"]})
		mlm := MaskedLanguageModeling(scope, cfg, MLMInputs{Inputs: inputs, Positions: in["Positions"], Labels: in["Tokens"]})

		// The same by hand: the rows of the masked regions, then each head and loss.
		rows := Concatenate([]*Node{
			Slice(mrfr.Backbone.Sequence, AxisRange(0, 1), AxisRange(lt+1, lt+2)),
			Slice(mrfr.Backbone.Sequence, AxisRange(2, 3), AxisRange(lt+3, lt+4))}, 0)
		rows = Reshape(rows, 2, cfg.HiddenSize)
		pred := RegionFeatureRegressionHead(scope, cfg, rows)
		logits := RegionClassificationHead(scope, cfg, rows)
		out := named.Nodes{
			"mrfr": mrfr.Prediction, "mrfr by hand": pred,
			"mrfr loss": mrfr.Loss, "mrfr loss by hand": RegionFeatureRegressionLoss(pred, in["Features"], nil),
			"mrc": mrc.Logits, "mrc by hand": logits,
			"mrc loss": mrc.Loss, "mrc loss by hand": RegionClassificationLoss(logits, in["Classes"], nil),
			"mrc-kl loss": mrcKL.Loss, "mrc-kl loss by hand": RegionClassificationKLLoss(logits, in["Classes"], nil),
			"itm loss": itm.Loss, "itm loss by hand": Add(itm.ITMLoss, MulScalar(itm.WRALoss, 0.3)),
			"mlm loss":         mlm.Loss,
			"mlm loss by hand": MaskedLanguageModelingLoss(MaskedLanguageModelingHead(scope, cfg, gatherPositions(mlm.Backbone.Sequence, in["Positions"])), in["Tokens"], nil),
		}
		// Without labels or targets, no loss.
		noLabels := VQA(scope, cfg, VQAInputs{Inputs: inputs}).Loss == nil &&
			MaskedLanguageModeling(scope, cfg, MLMInputs{Inputs: inputs, Positions: in["Positions"]}).Loss == nil &&
			MaskedRegionFeatureRegression(scope, cfg, MRMInputs{Inputs: inputs, Positions: in["Positions"]}).Loss == nil &&
			ImageTextMatching(scope, cfg, ITMInputs{Inputs: inputs}).Loss == nil
		// Without WRA weight, ITM is the ITM loss alone.
		noWRA := cfg
		noWRA.ITMOTLambda = 0
		plain := ImageTextMatching(scope, noWRA, ITMInputs{Inputs: inputs, Labels: in["Labels"]})
		if !noLabels || plain.WRALoss != nil || plain.OTDistance != nil || plain.Loss != plain.ITMLoss {
			panic("an objective built a loss without labels, or WRA without its weight")
		}
		out["itm without wra"], out["itm loss alone"] = plain.Loss, itm.ITMLoss
		return out
	})
	for _, name := range []string{"mrfr", "mrfr loss", "mrc", "mrc loss", "mrc-kl loss", "itm loss", "mlm loss"} {
		if d := maxAbs(outs[name], outs[name+" by hand"]); d > 1e-6 || math.IsNaN(d) {
			t.Errorf("%s differs from its parts applied by hand by %g", name, d)
		}
	}
	if d := maxAbs(outs["itm without wra"], outs["itm loss alone"]); d > 1e-6 {
		t.Errorf("ITM without WRA differs from the ITM loss by %g", d)
	}
	if outs["itm loss"][0] == outs["itm loss alone"][0] {
		t.Error("the WRA loss added nothing to the ITM loss")
	}
}
