package uniter

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// Inputs are the graph inputs of the UNITER backbone in the padded layout [text Lt | regions Nr].
type Inputs struct {
	InputIDs *Node // [B,Lt] int32 token ids.
	TxtMask  *Node // [B,Lt] float32, 1 = real token.
	ImgFeat  *Node // [B,Nr,ImgDim] float32 region features.
	ImgPos   *Node // [B,Nr,PosDim] float32 location vectors.
	ImgMask  *Node // [B,Nr] float32, 1 = real region.
	// MRMMask is optional: [B,Nr] float32, 1 = region masked for MRM (ORIG img_masks); it adds mask_embedding[1].
	MRMMask *Node
	// ImgTypeIDs is optional: [B,Nr] int32 token type of each region (ORIG img_type_ids; NLVR2 gives image k the
	// type k+1). Nil means type 1 for every region.
	ImgTypeIDs *Node
	// TxtDelta is optional: [B,Lt,H] float32 added to the word embeddings before the position and token type
	// embeddings and the LayerNorm (VILLA's adversarial perturbation of the text).
	TxtDelta *Node
	// ImgDelta is optional: [B,Nr,ImgDim] float32 added to the raw region features (after the MRM mask embedding,
	// before img_linear; VILLA's adversarial perturbation of the image).
	ImgDelta *Node
}

// Options selects the optional outputs of Backbone.
type Options struct {
	// HiddenStates keeps the embedding output and the output of every layer.
	HiddenStates bool
	// AttentionProbs keeps every layer's attention probabilities [B, heads, L, L] (before attention dropout).
	AttentionProbs bool
	// PooledOnly computes the last layer for the [CLS] row alone (its keys and values still come from every
	// position), which is all the heads on the pooled output (VQA, ITM without WRA) read. Pooled is unchanged;
	// Sequence is then that row, [B, 1, H], and the last AttentionProbs entry [B, heads, 1, L].
	PooledOnly bool
}

// Output is what Backbone computes.
type Output struct {
	Sequence       *Node   // [B, Lt+Nr, H] last layer ([B, 1, H] with Options.PooledOnly).
	Pooled         *Node   // [B, H] tanh(W x[:,0] + b), the shared pooler.
	AttentionMask  *Node   // [B, Lt+Nr] float32, 1 = real position.
	HiddenStates   []*Node // [layers+1] × [B, L, H] when requested.
	AttentionProbs []*Node // [layers] × [B, heads, L, L] when requested.
}

// TextLen returns Lt for the output's inputs.
func (in Inputs) TextLen() int { return in.InputIDs.Shape().Dimensions[1] }

// Backbone runs the UNITER embeddings, encoder and pooler (ORIG model/model.py UniterModel).
func Backbone(scope *model.Scope, cfg Config, in Inputs, opts Options) *Output {
	t := TextEmbeddings(scope, cfg, in)
	v := ImageEmbeddings(scope, cfg, in)
	x := Concatenate([]*Node{t, v}, 1)
	mask := Concatenate([]*Node{in.TxtMask, in.ImgMask}, 1)
	if opts.AttentionProbs && FusedAttention(scope) {
		panic("uniter: Options.AttentionProbs needs the decomposed attention (SetFusedAttention(scope, false))")
	}
	out := &Output{AttentionMask: mask}
	if opts.HiddenStates {
		out.HiddenStates = append(out.HiddenStates, x)
	}
	// Additive attention bias (1 - mask) * -10000, [B,1,1,L].
	bias := MulScalar(OneMinus(mask), -10000.0)
	bias = InsertAxes(bias, 1, 1)
	for l := range cfg.NumHiddenLayers {
		queries := x
		if opts.PooledOnly && l == cfg.NumHiddenLayers-1 {
			queries = Slice(x, AxisRange(), AxisRange(0, 1))
		}
		var probs *Node
		x, probs = encoderLayer(scope, cfg, l, queries, x, bias)
		if opts.HiddenStates {
			out.HiddenStates = append(out.HiddenStates, x)
		}
		if opts.AttentionProbs {
			out.AttentionProbs = append(out.AttentionProbs, probs)
		}
	}
	out.Sequence = x
	out.Pooled = Pooler(scope, cfg, x)
	return out
}

// TextEmbeddings is ORIG's UniterTextEmbeddings on in.InputIDs: LN(word (+ in.TxtDelta) + position + token_type 0),
// then dropout.
func TextEmbeddings(scope *model.Scope, cfg Config, in Inputs) *Node {
	inputIDs := in.InputIDs
	g := inputIDs.Graph()
	lt := inputIDs.Shape().Dimensions[1]
	if lt > cfg.MaxPositionEmbeddings {
		panic(fmt.Sprintf("uniter: text length %d exceeds max_position_embeddings %d", lt, cfg.MaxPositionEmbeddings))
	}
	words := param(scope, g, cfg, "uniter.embeddings.word_embeddings.weight", cfg.VocabSize, cfg.HiddenSize)
	positions := param(scope, g, cfg, "uniter.embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, cfg.HiddenSize)
	types := tokenTypeTable(scope, g, cfg)
	w := Gather(words, InsertAxes(ConvertDType(inputIDs, dtypes.Int32), -1)) // [B,Lt,H]
	if in.TxtDelta != nil {
		w = Add(w, in.TxtDelta)
	}
	p := Slice(positions, AxisRange(0, lt))               // [Lt,H]
	ty := Slice(types, AxisRange(0, 1))                   // [1,H]
	x := Add(Add(w, InsertAxes(p, 0)), InsertAxes(ty, 0)) // [B,Lt,H]
	x = layerNorm(scope, cfg, "uniter.embeddings.LayerNorm", x)
	return dropout(scope, x, cfg.HiddenDropoutProb)
}

func tokenTypeTable(scope *model.Scope, g *Graph, cfg Config) *Node {
	return param(scope, g, cfg, tokenTypeKey, cfg.TypeVocabSize, cfg.HiddenSize)
}

// ImageEmbeddings is ORIG's UniterImageEmbeddings (model/model.py) on in.ImgFeat and in.ImgPos:
// LN(LN_img(img_linear(feat + mask_emb[mrm] (+ in.ImgDelta))) + LN_pos(pos_linear(box7)) + token_type), then dropout.
// in.MRMMask may be nil (no region masked); mask_embedding row 0 is always treated as zero. The token type is
// row 1 of the table, or the row in.ImgTypeIDs names per region.
func ImageEmbeddings(scope *model.Scope, cfg Config, in Inputs) *Node {
	imgFeat, imgPos, mrmMask := in.ImgFeat, in.ImgPos, in.MRMMask
	g := imgFeat.Graph()
	if mrmMask != nil {
		table := param(scope, g, cfg, maskEmbeddingKey, 2, cfg.ImgDim)
		table = Mul(table, rowZeroMask(g, 2, cfg.ImgDim)) // row 0 re-zeroed, as ORIG does in place.
		m := InsertAxes(mrmMask, -1)                      // [B,Nr,1]
		row0 := Reshape(Slice(table, AxisRange(0, 1)), 1, 1, cfg.ImgDim)
		row1 := Reshape(Slice(table, AxisRange(1, 2)), 1, 1, cfg.ImgDim)
		imgFeat = Add(imgFeat, Add(Mul(m, row1), Mul(OneMinus(m), row0)))
	}
	if in.ImgDelta != nil {
		imgFeat = Add(imgFeat, in.ImgDelta)
	}
	im := layerNorm(scope, cfg, "uniter.img_embeddings.img_layer_norm",
		linear(scope, cfg, "uniter.img_embeddings.img_linear", imgFeat, cfg.HiddenSize))
	pos := layerNorm(scope, cfg, "uniter.img_embeddings.pos_layer_norm",
		linear(scope, cfg, "uniter.img_embeddings.pos_linear", imgPos, cfg.HiddenSize))
	types := tokenTypeTable(scope, g, cfg)
	var ty *Node
	if in.ImgTypeIDs == nil {
		ty = Reshape(Slice(types, AxisRange(1, 2)), 1, 1, cfg.HiddenSize)
	} else {
		ty = Gather(types, InsertAxes(ConvertDType(in.ImgTypeIDs, dtypes.Int32), -1)) // [B,Nr,H]
	}
	x := layerNorm(scope, cfg, "uniter.img_embeddings.LayerNorm", Add(Add(im, pos), ty))
	return dropout(scope, x, cfg.HiddenDropoutProb)
}

// encoderLayer is one post-LN BERT layer "uniter.encoder.layer.<l>" (ORIG model/model.py UniterEncoder, the
// BertLayer of model/layer.py) computed for the rows x [B,Lq,H], attending over every row of all [B,L,H] (x is
// all, or a slice of it). bias is the additive attention mask [B,1,1,L]. It returns the layer output and the
// attention probabilities [B,heads,Lq,L].
func encoderLayer(scope *model.Scope, cfg Config, l int, x, all, bias *Node) (out, probs *Node) {
	prefix := fmt.Sprintf("uniter.encoder.layer.%d", l)
	context, probs := selfAttention(scope, cfg, prefix+".attention.self", x, all, bias)
	attn := linear(scope, cfg, prefix+".attention.output.dense", context, cfg.HiddenSize)
	x1 := layerNorm(scope, cfg, prefix+".attention.output.LayerNorm", Add(dropout(scope, attn, cfg.HiddenDropoutProb), x))
	h := gelu(linear(scope, cfg, prefix+".intermediate.dense", x1, cfg.IntermediateSize))
	o := linear(scope, cfg, prefix+".output.dense", h, cfg.HiddenSize)
	out = layerNorm(scope, cfg, prefix+".output.LayerNorm", Add(dropout(scope, o, cfg.HiddenDropoutProb), x1))
	return out, probs
}

// selfAttention is BERT's multi-head self-attention "<prefix>.{query,key,value}" for the queries of the rows
// x [B,Lq,H] over the keys and values of all [B,L,H]: softmax(q kᵀ/√d + bias) v per head, with attention
// dropout. It returns the merged context [B,Lq,H] and the probabilities [B,heads,Lq,L] taken before dropout.
func selfAttention(scope *model.Scope, cfg Config, prefix string, x, all, bias *Node) (context, probs *Node) {
	q := linear(scope, cfg, prefix+".query", x, cfg.HiddenSize)
	k := linear(scope, cfg, prefix+".key", all, cfg.HiddenSize)
	v := linear(scope, cfg, prefix+".value", all, cfg.HiddenSize)
	return multiHeadAttention(scope, cfg, q, k, v, bias)
}

// multiHeadAttention is softmax(q kᵀ/√d + bias) v per head, with attention dropout, for projected queries q [B,Lq,H]
// and keys and values k, v [B,Lk,H]; bias is additive, [B,1,1,Lk]. It returns the merged context [B,Lq,H] and the
// probabilities [B,heads,Lq,Lk] taken before dropout.
func multiHeadAttention(scope *model.Scope, cfg Config, q, k, v, bias *Node) (context, probs *Node) {
	b, l := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	nh, dh := cfg.NumAttentionHeads, cfg.HeadDim()
	heads := func(t *Node) *Node { // [B,L,H] → [B,nh,L,dh]
		return TransposeAllAxes(Reshape(t, t.Shape().Dimensions[0], t.Shape().Dimensions[1], nh, dh), 0, 2, 1, 3)
	}
	// Scaling q rather than the scores is cheaper, and exact when √dh is a power of 2 (dh = 64 in base and large).
	qh := heads(MulScalar(q, 1/math.Sqrt(float64(dh))))
	kh, vh := heads(k), heads(v)
	if context := fusedAttentionContext(scope, cfg, toCompute(scope, qh), toCompute(scope, kh), toCompute(scope, vh), bias); context != nil {
		return Reshape(ConvertDType(TransposeAllAxes(context, 0, 2, 1, 3), q.DType()), b, l, cfg.HiddenSize), nil
	}
	scores := ConvertDType(attentionScores(toCompute(scope, qh), toCompute(scope, kh)), q.DType())
	probs = softmax(Add(scores, bias))
	dropped := toCompute(scope, dropout(scope, probs, cfg.AttentionProbsDropoutProb))
	context = ConvertDType(TransposeAllAxes(attentionContext(dropped, toCompute(scope, vh)), 0, 2, 1, 3), q.DType()) // [B,L,nh,dh]
	return Reshape(context, b, l, cfg.HiddenSize), probs
}

// Pooler is BERT's pooler shared by every ORIG head: tanh(W x[:,0] + b).
func Pooler(scope *model.Scope, cfg Config, seq *Node) *Node {
	first := Squeeze(Slice(seq, AxisRange(), AxisRange(0, 1)), 1)
	return Tanh(linear(scope, cfg, "uniter.pooler.dense", first, cfg.HiddenSize))
}

// dropout zeroes each element with probability rate and scales the others by 1/(1-rate) when the store is
// training; a no-op in evaluation. The kept elements are those whose uniform draw exceeds rate.
func dropout(scope *model.Scope, x *Node, rate float64) *Node {
	if rate <= 0 || !scope.IsTraining(x.Graph()) {
		return x
	}
	u := scope.RandomUniform(x.Graph(), x.Shape())
	keep := MulScalar(ConvertDType(GreaterThan(u, Scalar(x.Graph(), x.DType(), rate)), x.DType()), 1/(1-rate))
	return Mul(x, keep)
}
