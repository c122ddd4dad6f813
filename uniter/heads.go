package uniter

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// VQAHead is ORIG's vqa_output on the pooled output: Linear(H,2H) → GELU → LayerNorm(2H) → Linear(2H, answers).
// It returns logits [B, NumAnswers].
func VQAHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	h := denseGELUNorm(scope, cfg, "vqa_output.0", "vqa_output.2", pooled, 2*cfg.HiddenSize)
	return linear(scope, cfg, "vqa_output.3", h, cfg.NumAnswers)
}

// ImageTextMatchingHead is ORIG's itm_output: Linear(H, 2) on the shared pooler. Logits [B,2], class 1 = matched.
func ImageTextMatchingHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	return linear(scope, cfg, "itm_output", pooled, 2)
}

// gatherPositions picks rows of seq [B,L,H] at positions [K,2] = (b, index) and returns [K,H].
func gatherPositions(seq, positions *Node) *Node {
	return Gather(seq, ConvertDType(positions, dtypes.Int32))
}

// offsetPositions adds offset to the second column of positions [K,2]: region positions (b, r) become
// sequence positions (b, Lt + r) in the padded layout.
func offsetPositions(positions *Node, offset int) *Node {
	g := positions.Graph()
	k := positions.Shape().Dimensions[0]
	add := ConvertDType(Const(g, [][]int32{{0, int32(offset)}}), positions.DType())
	return Add(positions, BroadcastToDims(add, k, 2))
}

// MaskedLanguageModelingHead is ORIG's BertOnlyMLMHead on the hidden states of the masked tokens [K,H]:
// dense → GELU → LayerNorm, then the decoder tied to the word embeddings plus its own bias. Logits [K,V].
func MaskedLanguageModelingHead(scope *model.Scope, cfg Config, hidden *Node) *Node {
	g := hidden.Graph()
	h := denseGELUNorm(scope, cfg, "cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", hidden, cfg.HiddenSize)
	words := param(scope, g, cfg, "uniter.embeddings.word_embeddings.weight", cfg.VocabSize, cfg.HiddenSize)
	bias := param(scope, g, cfg, "cls.predictions.bias", cfg.VocabSize)
	return linearWith(scope, h, words, bias)
}

// RegionFeatureRegressionHead is ORIG's RegionFeatureRegression on masked region states [K,H]:
// LayerNorm(GELU(Linear(H,H))) projected by the img_linear weight (tied, used transposed: h @ W) plus a bias.
// Predictions [K, ImgDim].
func RegionFeatureRegressionHead(scope *model.Scope, cfg Config, hidden *Node) *Node {
	g := hidden.Graph()
	h := denseGELUNorm(scope, cfg, "feat_regress.net.0", "feat_regress.net.2", hidden, cfg.HiddenSize)
	w := param(scope, g, cfg, "uniter.img_embeddings.img_linear.weight", cfg.HiddenSize, cfg.ImgDim)
	b := param(scope, g, cfg, "feat_regress.bias", cfg.ImgDim)
	return Add(MatMul(h, w), ExpandLeftToRank(b, 2))
}

// RegionClassificationHead is ORIG's RegionClassification on masked region states [K,H]:
// Linear(H,H) → GELU → LayerNorm → Linear(H, ImgLabelDim). Logits [K, ImgLabelDim].
func RegionClassificationHead(scope *model.Scope, cfg Config, hidden *Node) *Node {
	h := denseGELUNorm(scope, cfg, "region_classifier.net.0", "region_classifier.net.2", hidden, cfg.HiddenSize)
	return linear(scope, cfg, "region_classifier.net.3", h, cfg.ImgLabelDim)
}

// denseGELUNorm is the block every head of ORIG starts with: the Linear "dense" of width out, GELU, and the
// LayerNorm "norm" (BertPredictionHeadTransform in the MLM head, the first modules of the nn.Sequential of the
// others).
func denseGELUNorm(scope *model.Scope, cfg Config, dense, norm string, x *Node, out int) *Node {
	return layerNorm(scope, cfg, norm, gelu(linear(scope, cfg, dense, x, out)))
}
