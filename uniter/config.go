// Package uniter implements the UNITER model (Chen et al., ECCV 2020) as GoMLX graph code with the semantics of the
// original implementation (ChenRocks/UNITER, "ORIG"): text and image embeddings, the post-LN BERT encoder, the
// shared pooler, the VQA head and every pretraining head and loss (MLM, MRFR, MRC, MRC-kl, ITM and WRA through
// IPOT optimal transport).
//
// Variables live in a model.Store under paths that spell the original PyTorch checkpoint keys, with "/" for ".":
// "uniter.encoder.layer.3.attention.self.query.weight" is the variable "/uniter/encoder/layer/3/attention/self/query/weight".
// Linear weights keep PyTorch's [out, in] layout, so an ORIG checkpoint loads by renaming alone (see LoadWeights).
//
// The sequence layout is the padded one, [text Lt | regions Nr], with validity masks; it gives the same outputs as
// ORIG's compact layout at every real position.
package uniter

import (
	"encoding/json"
	"fmt"
)

// Config holds the sizes and hyper-parameters of a UNITER model. Field names follow ORIG's uniter-base.json.
type Config struct {
	HiddenSize                int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	VocabSize                 int     `json:"vocab_size"`
	HiddenAct                 string  `json:"hidden_act"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"`
	InitializerRange          float64 `json:"initializer_range"`
	// ImgDim is the region feature size (2048 for Faster R-CNN features).
	ImgDim int `json:"img_dim"`
	// PosDim is the size of the region location vector [x1,y1,x2,y2,w,h,w*h].
	PosDim int `json:"pos_dim"`
	// ImgLabelDim is the number of detector classes for MRC (1601 incl. background).
	ImgLabelDim int `json:"img_label_dim"`
	// NumAnswers is the size of the VQA answer vocabulary (3129 for VQA 2.0).
	NumAnswers int `json:"num_answers"`
	// LayerNormEps is the epsilon of every LayerNorm (1e-12 as in BERT).
	LayerNormEps float64 `json:"layer_norm_eps"`
	// ITMOTLambda weighs the word-region alignment loss in the ITM objective (ORIG itm_ot_lambda, 0.1; 0 leaves
	// WRA out).
	ITMOTLambda float64 `json:"itm_ot_lambda"`
}

// Base returns the UNITER-base configuration (bert-base-cased vocabulary, 3129 VQA answers).
func Base() Config {
	return Config{
		HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12, IntermediateSize: 3072,
		VocabSize: 28996, HiddenAct: "gelu", HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 512, TypeVocabSize: 2, InitializerRange: 0.02,
		ImgDim: 2048, PosDim: 7, ImgLabelDim: 1601, NumAnswers: 3129, LayerNormEps: 1e-12, ITMOTLambda: 0.1,
	}
}

// Large returns the UNITER-large configuration.
func Large() Config {
	c := Base()
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 1024, 24, 16, 4096
	return c
}

// Tiny returns the small configuration of the reference fixtures (hidden 64, 2 layers, 4 heads), used by tests.
func Tiny() Config {
	c := Base()
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 64, 2, 4, 128
	c.VocabSize, c.NumAnswers = 30522, 16
	return c
}

// ParseConfigJSON reads an ORIG-style config (uniter-base.json keys plus img_dim, img_label_dim, num_answers and
// itm_ot_lambda). Keys absent from the JSON keep their UNITER-base values; unknown keys are ignored, as ORIG's
// UniterConfig does.
func ParseConfigJSON(data []byte) (Config, error) {
	c := Base()
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("parsing UNITER config JSON: %w", err)
	}
	return c, c.Validate()
}

// Validate reports the first inconsistent field of the configuration.
func (c Config) Validate() error {
	switch {
	case c.HiddenSize <= 0 || c.NumHiddenLayers < 0 || c.NumAttentionHeads <= 0 || c.IntermediateSize <= 0:
		return fmt.Errorf("uniter config: sizes must be positive (hidden_size=%d, num_hidden_layers=%d, num_attention_heads=%d, intermediate_size=%d)",
			c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("uniter config: hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.VocabSize <= 0 || c.MaxPositionEmbeddings <= 0 || c.TypeVocabSize < 2:
		return fmt.Errorf("uniter config: vocab_size=%d, max_position_embeddings=%d and type_vocab_size=%d (>=2) must be positive",
			c.VocabSize, c.MaxPositionEmbeddings, c.TypeVocabSize)
	case c.ImgDim <= 0 || c.PosDim <= 0:
		return fmt.Errorf("uniter config: img_dim=%d and pos_dim=%d must be positive", c.ImgDim, c.PosDim)
	case c.HiddenAct != "gelu":
		return fmt.Errorf("uniter config: hidden_act %q is not supported (UNITER uses \"gelu\")", c.HiddenAct)
	case c.LayerNormEps <= 0:
		return fmt.Errorf("uniter config: layer_norm_eps must be positive, got %g", c.LayerNormEps)
	case c.ITMOTLambda < 0:
		return fmt.Errorf("uniter config: itm_ot_lambda must not be negative, got %g", c.ITMOTLambda)
	}
	return nil
}

// HeadDim is the size of one attention head.
func (c Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }
