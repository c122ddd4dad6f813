package uniter

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// NLVR2 model variants, the values of ORIG train_nlvr2.py's --model.
const (
	NLVR2Paired     = "paired"      // one (caption, image k) sequence per image, the two pooled outputs concatenated
	NLVR2Triplet    = "triplet"     // one sequence: the caption and the regions of both images
	NLVR2PairedAttn = "paired-attn" // paired, with cross attention between the two sequences (ORIG's default)
)

// NLVR2Head returns the head (see ParameterShapes) of an NLVR2 variant, or an error naming the known variants.
func NLVR2Head(variant string) (string, error) {
	switch variant {
	case NLVR2Paired:
		return HeadNLVR2Paired, nil
	case NLVR2Triplet:
		return HeadNLVR2Triplet, nil
	case NLVR2PairedAttn:
		return HeadNLVR2PairedAttn, nil
	}
	return "", fmt.Errorf("unknown NLVR2 model %q (known: %q, %q, %q)", variant, NLVR2Paired, NLVR2Triplet, NLVR2PairedAttn)
}

// NLVR2TypeVocabSize is the size of the token type table of the NLVR2 models: text 0, left image 1, right image 2
// (ORIG init_type_embedding).
const NLVR2TypeVocabSize = 3

// NLVR2PairedHead is ORIG UniterForNlvr2Paired's head: the pooled outputs [2B,H] of the two sequences of each
// example (rows 2i and 2i+1) concatenated and mapped by nlvr2_output Linear(2H,2). Logits [B,2], class 1 = true.
func NLVR2PairedHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	return linear(scope, cfg, "nlvr2_output", Reshape(pooled, -1, 2*cfg.HiddenSize), 2)
}

// NLVR2TripletHead is ORIG UniterForNlvr2Triplet's head: nlvr2_output Linear(H,2) on the pooled output [B,H].
func NLVR2TripletHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	return linear(scope, cfg, "nlvr2_output", pooled, 2)
}

// NLVR2PairedAttnHead is ORIG UniterForNlvr2PairedAttn's head on the last layer seq [2B,L,H] of the two sequences of
// each example (rows 2i: left image, 2i+1: right image) with their attention mask [2B,L] (1 = real):
// each side attends to the other (attn1: left → right, attn2: right → left; MultiheadAttention), fc
// (Linear(2H,H) → ReLU → dropout) maps [attended, own] back to H, attn_pool pools each side, and nlvr2_output
// Linear(2H,2) maps [left, right] to the logits [B,2].
func NLVR2PairedAttnHead(scope *model.Scope, cfg Config, seq, mask *Node) *Node {
	dims := seq.Shape().Dimensions
	l, h := dims[1], dims[2]
	pairs := Reshape(seq, -1, 2, l, h)
	pairMask := Reshape(mask, -1, 2, l)
	side := func(x *Node, i int) *Node { return Squeeze(Slice(x, AxisRange(), AxisRange(i, i+1)), 1) }
	left, right := side(pairs, 0), side(pairs, 1)
	leftMask, rightMask := side(pairMask, 0), side(pairMask, 1)
	l2r := crossAttention(scope, cfg, "attn1", left, right, rightMask)
	r2l := crossAttention(scope, cfg, "attn2", right, left, leftMask)
	fc := func(attended, own *Node) *Node {
		x := relu(linear(scope, cfg, "fc.0", Concatenate([]*Node{attended, own}, -1), h))
		return dropout(scope, x, cfg.HiddenDropoutProb)
	}
	leftPooled := attentionPool(scope, cfg, fc(l2r, left), leftMask)
	rightPooled := attentionPool(scope, cfg, fc(r2l, right), rightMask)
	return linear(scope, cfg, "nlvr2_output", Concatenate([]*Node{leftPooled, rightPooled}, -1), 2)
}

// crossAttention is ORIG's MultiheadAttention "prefix" (model/attention.py, PyTorch's nn.MultiheadAttention) with
// queries from query [B,Lq,H] and keys and values from kv [B,Lk,H]: in_proj_weight [3H,H] and in_proj_bias [3H]
// hold the query, key and value projections stacked, out_proj maps the merged heads. Keys where keyMask [B,Lk] is
// 0 get a score of −10³⁰: PyTorch's key_padding_mask gives −∞, which yields the same weights wherever a row has a
// real key, and NaN on a padding row of a batch, which has none (this gives it finite values). Output [B,Lq,H].
func crossAttention(scope *model.Scope, cfg Config, prefix string, query, kv, keyMask *Node) *Node {
	g := query.Graph()
	h := cfg.HiddenSize
	w := param(scope, g, cfg, prefix+".in_proj_weight", 3*h, h)
	b := param(scope, g, cfg, prefix+".in_proj_bias", 3*h)
	project := func(x *Node, i int) *Node {
		return linearWith(scope, x, Slice(w, AxisRange(i*h, (i+1)*h)), Slice(b, AxisRange(i*h, (i+1)*h)))
	}
	masked := Scalar(g, query.DType(), maskedKeyScore)
	bias := Where(GreaterThan(keyMask, ZerosLike(keyMask)), ZerosLike(keyMask), BroadcastToShape(masked, keyMask.Shape()))
	context, _ := multiHeadAttention(scope, cfg, project(query, 0), project(kv, 1), project(kv, 2), InsertAxes(bias, 1, 1))
	return linear(scope, cfg, prefix+".out_proj", context, h)
}

// maskedKeyScore is the attention score crossAttention gives a padded key.
const maskedKeyScore = -1e30

// attentionPool is ORIG's AttentionPool "attn_pool" on x [B,L,H] with mask [B,L] (1 = real): weights
// softmax(ReLU(Linear(H,1)(x)) − 10⁴·padding) over L, with attention dropout, and the weighted sum of x, [B,H].
func attentionPool(scope *model.Scope, cfg Config, x, mask *Node) *Node {
	score := Squeeze(relu(linear(scope, cfg, "attn_pool.fc.0", x, 1)), -1)
	score = Add(score, MulScalar(OneMinus(mask), -1e4))
	weights := dropout(scope, softmax(score), cfg.AttentionProbsDropoutProb)
	return Einsum("bl,blh->bh", weights, x)
}

// NLVR2Loss is ORIG's NLVR2 loss: cross entropy of logits [B,2] against targets [B] (int, 1 = true), averaged over
// the (weighted) batch. weights [B] may be nil.
func NLVR2Loss(logits, targets, weights *Node) *Node {
	return weightedMean(crossEntropy(logits, targets), weights)
}

// NLVR2Inputs are the inputs of NLVR2.
type NLVR2Inputs struct {
	// Inputs: for the paired variants 2B rows, rows 2i and 2i+1 the caption of example i with its left and right
	// image, ImgTypeIDs 1 and 2 on their regions; for the triplet variant B rows, the caption with the regions of
	// both images, ImgTypeIDs 1 on the left image's regions and 2 on the right's (ORIG use_img_type). The model's
	// TypeVocabSize must be NLVR2TypeVocabSize.
	Inputs
	Targets *Node // [B] int32, 1 = the statement is true.
	Weights *Node // [B] float32, 1 = real example; nil = all real.
	// Options are the backbone's; PooledOnly is ignored by the paired-attn head, which reads every position.
	Options Options
}

// NLVR2Output is what NLVR2 computes.
type NLVR2Output struct {
	Backbone *Output
	Logits   *Node // [B,2]
	Loss     *Node // scalar cross entropy; nil without Targets
}

// NLVR2 is ORIG's NLVR2 objective for a variant (NLVR2Paired, NLVR2Triplet or NLVR2PairedAttn): the backbone on
// the inputs, the variant's head and the cross entropy. The paired and triplet heads read the pooled output only:
// Options.PooledOnly gives the same result faster.
func NLVR2(scope *model.Scope, cfg Config, variant string, in NLVR2Inputs) NLVR2Output {
	var res NLVR2Output
	switch variant {
	case NLVR2Paired:
		res.Backbone = Backbone(scope, cfg, in.Inputs, in.Options)
		res.Logits = NLVR2PairedHead(scope, cfg, res.Backbone.Pooled)
	case NLVR2Triplet:
		res.Backbone = Backbone(scope, cfg, in.Inputs, in.Options)
		res.Logits = NLVR2TripletHead(scope, cfg, res.Backbone.Pooled)
	case NLVR2PairedAttn:
		opts := in.Options
		opts.PooledOnly = false
		res.Backbone = Backbone(scope, cfg, in.Inputs, opts)
		res.Logits = NLVR2PairedAttnHead(scope, cfg, res.Backbone.Sequence, res.Backbone.AttentionMask)
	default:
		_, err := NLVR2Head(variant)
		panic(err)
	}
	if in.Targets != nil {
		res.Loss = NLVR2Loss(res.Logits, in.Targets, in.Weights)
	}
	return res
}

// relu is max(x, 0).
func relu(x *Node) *Node { return Max(x, ZerosLike(x)) }
