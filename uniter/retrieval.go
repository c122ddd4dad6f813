package uniter

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// rankOutputKey is the ORIG checkpoint name of the retrieval head.
const rankOutputKey = "rank_output"

// RetrievalConfig holds the hyper-parameters of the image-text retrieval objectives, named as the options of ORIG's
// train_itm.py and train_itm_hard_negatives.py.
type RetrievalConfig struct {
	// Margin of the triplet hinge loss (ORIG 0.2).
	Margin float64 `json:"margin"`
	// HardNegSize is the number of hard negatives kept from each pool (ORIG hard_neg_size, 31 in the -hn configs).
	HardNegSize int `json:"hard_neg_size"`
}

// RankingHead is ORIG's rank_output, Linear(H,1) on the pooled output: one score (a logit; its sigmoid is the
// probability of a match) per row, [B]. LoadWeights initialises it from row 1 of the ITM head (ORIG init_output).
func RankingHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	return Squeeze(linear(scope, cfg, rankOutputKey, pooled, 1), -1)
}

// RetrievalScores is the score of every (caption, image) pair in.Inputs holds, one per row, [B]: ORIG's
// UniterForImageTextRetrieval with compute_loss=False, which its evaluation ranks (utils/itm_eval.py). An evaluator
// scores a split's image × caption matrix by feeding its pairs through this in batches.
func RetrievalScores(scope *model.Scope, cfg Config, in Inputs) *Node {
	out := Backbone(scope, cfg, in, Options{PooledOnly: true})
	return RankingHead(scope, cfg, out.Pooled)
}

// TripletRankingLoss is ORIG's retrieval loss on scores [G,S] of G groups, each the matched pair (column 0) and
// S−1 negatives: max(0, margin + σ(s_neg) − σ(s_pos)) averaged over the G×(S−1) negatives (ORIG loss.mean()).
// weights [G] (1 = real group) may be nil.
func TripletRankingLoss(scores *Node, margin float64, weights *Node) *Node {
	s := scores.Shape().Dimensions[1]
	p := Sigmoid(scores)
	pos := Slice(p, AxisRange(), AxisRange(0, 1))
	neg := Slice(p, AxisRange(), AxisRange(1, s))
	hinge := Max(AddScalar(Sub(neg, pos), margin), ZerosLike(neg))
	return weightedMean(ReduceMean(hinge, -1), weights)
}

// RetrievalInputs are the inputs of ImageTextRetrieval.
type RetrievalInputs struct {
	// Inputs hold G groups of SampleSize rows: rows g·S … g·S+S−1 are group g, its first row the matched pair and
	// the others its negatives (ORIG ItmRankDataset: the caption with negative_size other images, then the image
	// with negative_size other captions).
	Inputs
	SampleSize int     // S, ORIG sample_size (1 + 2·negative_size).
	Weights    *Node   // [G] float32, 1 = real group; nil = all real.
	Options    Options // of the backbone; the head reads the pooled output only, so PooledOnly gives the same scores faster.
}

// RetrievalOutput is what ImageTextRetrieval computes.
type RetrievalOutput struct {
	Backbone *Output
	Scores   *Node // [G,S] ranking scores (logits), column 0 the matched pair.
	Loss     *Node // scalar triplet ranking loss.
}

// ImageTextRetrieval is ORIG's UniterForImageTextRetrieval objective: the ranking head on every row and the
// triplet hinge loss over each group.
func ImageTextRetrieval(scope *model.Scope, cfg Config, rc RetrievalConfig, in RetrievalInputs) RetrievalOutput {
	out := Backbone(scope, cfg, in.Inputs, in.Options)
	scores := Reshape(RankingHead(scope, cfg, out.Pooled), -1, in.SampleSize)
	return RetrievalOutput{Backbone: out, Scores: scores, Loss: TripletRankingLoss(scores, rc.Margin, in.Weights)}
}

// HardNegativeInputs are the inputs of ImageTextRetrievalHardNegatives.
type HardNegativeInputs struct {
	// Inputs hold G pools of PoolSize rows: rows g·P … g·P+P−1 are pool g, its first row the matched pair and the
	// others sampled negatives (ORIG ItmRankDatasetHardNegFromText: one caption with 1+negative_size images;
	// ItmRankDatasetHardNegFromImage: one image with 1+negative_size captions).
	Inputs
	PoolSize int     // P = 1 + ORIG negative_size.
	Weights  *Node   // [G] float32, 1 = real pool; nil = all real.
	Options  Options // of the backbone on the trained rows (the pool is scored with PooledOnly).
}

// HardNegativeOutput is what ImageTextRetrievalHardNegatives computes.
type HardNegativeOutput struct {
	Backbone      *Output // of the trained rows: the matched pair and the hard negatives of each pool.
	PoolScores    *Node   // [G,P] scores of every pool row by the current model without dropout; no gradient.
	HardNegatives *Node   // [G,k] int32 pool rows (1 … P−1) of the k = HardNegSize highest-scoring negatives.
	Scores        *Node   // [G,1+k] training scores of the matched pair and the hard negatives.
	Loss          *Node   // scalar triplet ranking loss over the hard negatives.
}

// ImageTextRetrievalHardNegatives is ORIG's UniterForImageTextRetrievalHardNeg in training: every pool row is scored
// by the current model in evaluation mode and without gradient, the HardNegSize highest-scoring negatives are kept,
// and the matched pair with those negatives is run again in training mode for the triplet ranking loss. ORIG sums
// the losses of a text-sampled and an image-sampled pool per step.
func ImageTextRetrievalHardNegatives(scope *model.Scope, cfg Config, rc RetrievalConfig, in HardNegativeInputs) HardNegativeOutput {
	g := in.InputIDs.Graph()
	p, k := in.PoolSize, rc.HardNegSize
	if k < 1 || k >= p {
		panic(fmt.Sprintf("uniter: hard_neg_size %d must be at least 1 and below the pool size %d", k, p))
	}
	store := scope.Store()
	training := store.IsTraining(g)
	store.SetTraining(g, false) // ORIG: self.eval() under torch.no_grad() for the pool's scores
	pool := StopGradient(Reshape(RetrievalScores(scope, cfg, in.Inputs), -1, p))
	store.SetTraining(g, training)
	numPools := pool.Shape().Dimensions[0]

	_, top := TopK(Slice(pool, AxisRange(), AxisRange(1, p)), k, -1)
	hard := AddScalar(ConvertDType(top, dtypes.Int32), 1) // [G,k] pool rows
	chosen := Concatenate([]*Node{Zeros(g, shapes.Make(dtypes.Int32, numPools, 1)), hard}, 1)
	poolStart := MulScalar(Iota(g, shapes.Make(dtypes.Int32, numPools, 1+k), 0), float64(p))
	rows := Reshape(Add(chosen, poolStart), numPools*(1+k), 1)

	train := ImageTextRetrieval(scope, cfg, rc, RetrievalInputs{Inputs: gatherRows(in.Inputs, rows), SampleSize: 1 + k,
		Weights: in.Weights, Options: in.Options})
	return HardNegativeOutput{Backbone: train.Backbone, PoolScores: pool, HardNegatives: hard, Scores: train.Scores, Loss: train.Loss}
}

// gatherRows returns the rows [N,1] (int32 indices into the batch axis) of every input tensor of in.
func gatherRows(in Inputs, rows *Node) Inputs {
	pick := func(x *Node) *Node {
		if x == nil {
			return nil
		}
		return Gather(x, rows)
	}
	return Inputs{
		InputIDs: pick(in.InputIDs), TxtMask: pick(in.TxtMask), ImgFeat: pick(in.ImgFeat), ImgPos: pick(in.ImgPos),
		ImgMask: pick(in.ImgMask), MRMMask: pick(in.MRMMask), ImgTypeIDs: pick(in.ImgTypeIDs),
		TxtDelta: pick(in.TxtDelta), ImgDelta: pick(in.ImgDelta),
	}
}
