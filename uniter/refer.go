package uniter

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// Referring expression losses, the values of ORIG train_re.py's --train_loss.
const (
	ReferringLossCls  = "cls"  // cross entropy over the regions
	ReferringLossRank = "rank" // hinge between the target and one sampled negative region
)

// ReferringConfig holds the hyper-parameters of the referring expression objective, named as ORIG train_re.py's
// options.
type ReferringConfig struct {
	TrainLoss string  `json:"train_loss"` // ReferringLossCls or ReferringLossRank.
	Margin    float64 `json:"margin"`     // hinge margin of the ranking loss (ORIG 0.2).
	HardRatio float64 `json:"hard_ratio"` // probability that the ranking loss takes the hardest negative (ORIG 0.3).
	MLP       int     `json:"mlp"`        // 1: re_output = Linear(H,1); 2: Linear(H,H) → GELU → LayerNorm → Linear(H,1).
}

// Validate reports the first invalid field, by its ORIG option name.
func (c ReferringConfig) Validate() error {
	switch {
	case c.TrainLoss != ReferringLossCls && c.TrainLoss != ReferringLossRank:
		return fmt.Errorf("referring expressions: train_loss %q is neither %q nor %q", c.TrainLoss, ReferringLossCls, ReferringLossRank)
	case c.MLP != 1 && c.MLP != 2:
		return fmt.Errorf("referring expressions: mlp must be 1 or 2, got %d", c.MLP)
	case c.HardRatio < 0 || c.HardRatio > 1:
		return fmt.Errorf("referring expressions: hard_ratio %g outside [0, 1]", c.HardRatio)
	}
	return nil
}

// Head returns the head (see ParameterShapes) the configuration's mlp selects.
func (c ReferringConfig) Head() string {
	if c.MLP == 2 {
		return HeadREMLP
	}
	return HeadRE
}

// nonObjectScore is the score ORIG gives the regions that are not objects (padding): masked_fill(obj_masks, -1e4).
const nonObjectScore = -1e4

// ReferringExpressionHead is ORIG's re_output on the contextualised regions [B,Nr,H]: one score per region, [B,Nr],
// with the padded regions (imgMask [B,Nr] 0, ORIG obj_masks 1) set to −10⁴. mlp is ReferringConfig.MLP.
func ReferringExpressionHead(scope *model.Scope, cfg Config, mlp int, regions, imgMask *Node) *Node {
	var scores *Node
	if mlp == 2 {
		h := gelu(linear(scope, cfg, "re_output.0", regions, cfg.HiddenSize))
		h = layerNorm(scope, cfg, "re_output.2", h)
		scores = linear(scope, cfg, "re_output.3", h, 1)
	} else {
		scores = linear(scope, cfg, "re_output", regions, 1)
	}
	scores = Squeeze(scores, -1)
	return Where(GreaterThan(imgMask, ZerosLike(imgMask)), scores, BroadcastToShape(Scalar(scores.Graph(), scores.DType(), nonObjectScore), scores.Shape()))
}

// ReferringExpressionPrediction is the region ORIG predicts, the highest score: [B] int32.
func ReferringExpressionPrediction(scores *Node) *Node { return ArgMax(scores, -1, dtypes.Int32) }

// ReferringExpressionCrossEntropyLoss is ORIG's "cls" loss: the cross entropy of the region scores [B,Nr] against
// the target region [B] (int), summed over the (weighted) batch as train_re.py does (loss.sum()).
func ReferringExpressionCrossEntropyLoss(scores, targets, weights *Node) *Node {
	return weightedSum(crossEntropy(scores, targets), weights)
}

// ReferringExpressionRankingLoss is ORIG's "rank" loss: max(0, margin + σ(s_neg) − σ(s_pos)) per example, summed over
// the (weighted) batch, where s_pos is the target region's score and s_neg that of one negative region: with
// probability hardRatio the highest-scoring region other than the target, otherwise a region drawn uniformly from
// the real regions other than the target (ORIG sample_neg_ix). The draws come from the scope's random state.
// Examples with fewer than 2 real regions (imgMask [B,Nr]) have no negative and count for nothing.
func ReferringExpressionRankingLoss(scope *model.Scope, scores, targets, imgMask *Node, margin, hardRatio float64, weights *Node) *Node {
	g := scores.Graph()
	nr, dt := scores.Shape().Dimensions[1], scores.DType()
	target := ConvertDType(targets, dtypes.Int32)
	at := func(idx *Node) *Node { return ReduceSum(Mul(scores, OneHot(idx, nr, dt)), -1) }
	neg := referringNegatives(scope, scores, target, imgMask, hardRatio)
	diff := Sub(Sigmoid(at(neg)), Sigmoid(at(target)))
	hinge := Max(AddScalar(diff, margin), ZerosLike(diff))
	valid := ConvertDType(GreaterOrEqual(ReduceSum(imgMask, -1), Scalar(g, imgMask.DType(), 2)), dt)
	if weights != nil {
		valid = Mul(valid, ConvertDType(weights, dt))
	}
	return weightedSum(hinge, valid)
}

// referringNegatives draws the negative region of ORIG's sample_neg_ix for each example, [B] int32: with
// probability hardRatio the highest-scoring region other than the target, otherwise one drawn uniformly from the
// real regions (imgMask) other than the target.
func referringNegatives(scope *model.Scope, scores, target, imgMask *Node, hardRatio float64) *Node {
	g := scores.Graph()
	b, dt := scores.Shape().Dimensions[0], scores.DType()
	isTarget := OneHot(target, scores.Shape().Dimensions[1], dtypes.Bool)
	hard := ArgMax(Where(isTarget, BroadcastToShape(Scalar(g, dt, -1e30), scores.Shape()), StopGradient(scores)), -1, dtypes.Int32)

	numRegions := ConvertDType(ReduceSum(imgMask, -1), dt) // [B]
	draw := scope.RandomUniform(g, shapes.Make(dt, 2, b))
	useHard, u := Squeeze(Slice(draw, AxisRange(0, 1)), 0), Squeeze(Slice(draw, AxisRange(1, 2)), 0)
	// r uniform in [0, n−2]; skipping the target makes it uniform over the n−1 other real regions.
	r := ConvertDType(Floor(Mul(u, Max(AddScalar(numRegions, -1), ZerosLike(numRegions)))), dtypes.Int32)
	r = Min(r, ConvertDType(AddScalar(numRegions, -2), dtypes.Int32))
	easy := Add(r, ConvertDType(GreaterOrEqual(r, target), dtypes.Int32))
	return Where(LessThan(useHard, Scalar(g, dt, hardRatio)), hard, easy)
}

// weightedSum is Σ wᵢxᵢ (a plain sum when weights is nil).
func weightedSum(x, weights *Node) *Node {
	if weights == nil {
		return ReduceAllSum(x)
	}
	return ReduceAllSum(Mul(x, ConvertDType(weights, x.DType())))
}

// ReferringInputs are the inputs of ReferringExpression.
type ReferringInputs struct {
	Inputs        // the expression and the image's regions; ImgMask marks the real regions (ORIG obj_masks = 1 − ImgMask).
	Targets *Node // [B] int32 index of the referred region among the regions.
	Weights *Node // [B] float32, 1 = real example; nil = all real.
	// Options are the backbone's; PooledOnly is ignored (the head reads every region).
	Options Options
}

// ReferringOutput is what ReferringExpression computes.
type ReferringOutput struct {
	Backbone   *Output
	Scores     *Node // [B,Nr] region scores, −10⁴ on padded regions.
	Prediction *Node // [B] int32 highest-scoring region.
	Loss       *Node // scalar, summed over the batch as ORIG does; nil without Targets.
}

// ReferringExpression is ORIG's UniterForReferringExpressionComprehension objective (model/re.py): the backbone,
// the region scores of the image part of the sequence, and the "cls" or "rank" loss of rc.
func ReferringExpression(scope *model.Scope, cfg Config, rc ReferringConfig, in ReferringInputs) ReferringOutput {
	if err := rc.Validate(); err != nil {
		panic(err)
	}
	opts := in.Options
	opts.PooledOnly = false
	out := Backbone(scope, cfg, in.Inputs, opts)
	lt, nr := in.TextLen(), in.ImgMask.Shape().Dimensions[1]
	regions := Slice(out.Sequence, AxisRange(), AxisRange(lt, lt+nr))
	scores := ReferringExpressionHead(scope, cfg, rc.MLP, regions, in.ImgMask)
	res := ReferringOutput{Backbone: out, Scores: scores, Prediction: ReferringExpressionPrediction(scores)}
	switch {
	case in.Targets == nil:
	case rc.TrainLoss == ReferringLossRank:
		res.Loss = ReferringExpressionRankingLoss(scope, scores, in.Targets, in.ImgMask, rc.Margin, rc.HardRatio, in.Weights)
	default:
		res.Loss = ReferringExpressionCrossEntropyLoss(scores, in.Targets, in.Weights)
	}
	return res
}
