package uniter

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

func TestReferringExpressionLossesOnKnownValues(t *testing.T) {
	scores := [][]float32{{3, 1, 2, -1e4}, {3, 1, 2, -1e4}, {0, 5, -1e4, -1e4}}
	imgMask := [][]float32{{1, 1, 1, 0}, {1, 1, 1, 0}, {1, 0, 0, 0}}
	outs := callOps(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		targets := Const(g, []int32{0, 2, 0})
		return []*Node{
			ReferringExpressionCrossEntropyLoss(Slice(in[0], AxisRange(0, 2)), Slice(targets, AxisRange(0, 2)), nil),
			ReferringExpressionCrossEntropyLoss(Slice(in[0], AxisRange(0, 2)), Slice(targets, AxisRange(0, 2)), Const(g, []float32{0, 1})),
			ReferringExpressionRankingLoss(scope, in[0], targets, in[1], 0.2, 1, nil),
			ConvertDType(ReferringExpressionPrediction(in[0]), dtypes.Float32),
		}
	}, scores, imgMask)
	lse := math.Log(math.Exp(3) + math.Exp(1) + math.Exp(2))
	// Hard negatives (ratio 1): example 0 (target 0) takes region 2, example 1 (target 2) region 0; example 2 has a
	// single real region, so no negative.
	rank := math.Max(0, 0.2+sigmoid(2)-sigmoid(3)) + math.Max(0, 0.2+sigmoid(3)-sigmoid(2))
	for i, want := range []float64{(lse - 3) + (lse - 2), lse - 2, rank} {
		if math.Abs(float64(outs[i][0])-want) > 1e-5 {
			t.Errorf("case %d: %g, want %g", i, outs[i][0], want)
		}
	}
	if outs[3][0] != 0 || outs[3][1] != 0 || outs[3][2] != 1 {
		t.Errorf("predictions %v, want [0 0 1]", outs[3])
	}
}

// TestReferringNegativesAndMasking checks ORIG's negative sampling (hard_ratio of the draws take the best other
// region, the rest are uniform over the other real regions, never the target or a padded region) and that a padded
// region never wins the prediction, however large its raw score.
func TestReferringNegativesAndMasking(t *testing.T) {
	const n = 3000
	scores, targets, imgMask := make([][]float32, n), make([]int32, n), make([][]float32, n)
	for i := range n {
		// 4 real regions of 6; region 5 (padding) has the largest raw score, target 1, best other region 3.
		scores[i] = []float32{0.1, 0.9, 0.2, 0.5, 0.3, 7}
		imgMask[i] = []float32{1, 1, 1, 1, 0, 0}
		targets[i] = 1
	}
	outs := callOps(t, newStore(3), func(scope *model.Scope, in []*Node) []*Node {
		masked := Where(GreaterThan(in[2], ZerosLike(in[2])), in[0], BroadcastToShape(Scalar(in[0].Graph(), dtypes.Float32, nonObjectScore), in[0].Shape()))
		neg := referringNegatives(scope, masked, in[1], in[2], 0.3)
		return []*Node{ConvertDType(neg, dtypes.Float32), ConvertDType(ReferringExpressionPrediction(masked), dtypes.Float32)}
	}, scores, targets, imgMask)
	counts := map[int]int{}
	for i := range n {
		counts[int(outs[0][i])]++
		if outs[1][i] != 1 {
			t.Fatalf("prediction %g, want region 1 (padded region 5 must never win)", outs[1][i])
		}
	}
	if counts[1] != 0 || counts[4] != 0 || counts[5] != 0 {
		t.Fatalf("negatives hit the target or padding: %v", counts)
	}
	// Region 3: 0.3 (hard) + 0.7/3 (uniform); regions 0 and 2: 0.7/3 each.
	for region, p := range map[int]float64{0: 0.7 / 3, 2: 0.7 / 3, 3: 0.3 + 0.7/3} {
		got := float64(counts[region]) / n
		if sd := math.Sqrt(p * (1 - p) / n); math.Abs(got-p) > 4*sd {
			t.Errorf("region %d drawn with frequency %.3f, want %.3f ± %.3f", region, got, p, sd)
		}
	}
}

// TestReferringHeadMasksPaddingInTheModel checks the full objective: the scores of padded regions are exactly −10⁴
// and the prediction is a real region, for both heads.
func TestReferringHeadMasksPaddingInTheModel(t *testing.T) {
	cfg := testConfig()
	tb := newTinyBatch(cfg, 13)
	for _, mlp := range []int{1, 2} {
		store := newStore(int64(13 + mlp))
		outs := call(t, store, tb.inputs(map[string]any{"Targets": []int32{4, 1, 0}}), func(scope *model.Scope, in named.Nodes) named.Nodes {
			out := ReferringExpression(scope, cfg, ReferringConfig{TrainLoss: ReferringLossCls, MLP: mlp}, named.Bind[ReferringInputs](in))
			return named.Nodes{"scores": out.Scores, "prediction": ConvertDType(out.Prediction, dtypes.Float32), "loss": out.Loss}
		})
		const nr = 5
		for b := range 3 {
			for r := range nr {
				s := outs["scores"][b*nr+r]
				if padded := r >= tb.regionLens[b]; padded != (s == nonObjectScore) {
					t.Errorf("mlp %d example %d region %d: score %g (padded %v)", mlp, b, r, s, padded)
				}
			}
			if p := int(outs["prediction"][b]); p >= tb.regionLens[b] {
				t.Errorf("mlp %d example %d: predicted padded region %d", mlp, b, p)
			}
		}
		if l := outs["loss"][0]; !(l > 0) || math.IsInf(float64(l), 0) {
			t.Errorf("mlp %d: loss %g", mlp, l)
		}
	}
}
