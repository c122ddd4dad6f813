package uniter

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// The objectives of UNITER, one function each, as ORIG's UniterForPretraining.forward_mlm, forward_mrfr,
// forward_mrc and forward_itm (model/pretrain.py, with the loss reductions of pretrain.py) and
// UniterForVisualQuestionAnswering (model/vqa.py, with the loss of train_vqa.py): the backbone on the
// objective's inputs, its head and its loss. Each input struct embeds the backbone Inputs and names the
// objective's own graph inputs; Weights and Valid may be nil (every row counts) and the loss is left nil when the
// labels or targets are (ORIG's compute_loss=False). Options selects what the backbone keeps besides its output.

// VQAInputs are the inputs of VQA.
type VQAInputs struct {
	Inputs
	Targets *Node // [B, NumAnswers] soft answer scores.
	Weights *Node // [B] 1 = real example, 0 = padding.
	Options Options
}

// VQAOutput is what VQA computes.
type VQAOutput struct {
	Backbone *Output
	Logits   *Node // [B, NumAnswers] answer scores.
	Loss     *Node // VQALoss.
}

// VQA is visual question answering: the VQA head on the pooled output and the instance-level BCE against the
// soft scores.
func VQA(scope *model.Scope, cfg Config, in VQAInputs) VQAOutput {
	out := Backbone(scope, cfg, in.Inputs, in.Options)
	res := VQAOutput{Backbone: out, Logits: VQAHead(scope, cfg, out.Pooled)}
	if in.Targets != nil {
		res.Loss = VQALoss(res.Logits, in.Targets, in.Weights)
	}
	return res
}

// MLMInputs are the inputs of MaskedLanguageModeling. Inputs.InputIDs hold the masked text.
type MLMInputs struct {
	Inputs
	Positions *Node // [K,2] int32 (b, t) of the masked tokens.
	Labels    *Node // [K] int32 original ids of the masked tokens.
	Valid     *Node // [K] 1 = real row, 0 = padding of K.
	Options   Options
}

// MLMOutput is what MaskedLanguageModeling computes.
type MLMOutput struct {
	Backbone *Output
	Logits   *Node // [K, VocabSize] scores of the masked tokens.
	Loss     *Node // MaskedLanguageModelingLoss.
}

// MaskedLanguageModeling is MLM: the tied MLM head on the hidden states of the masked tokens and the cross
// entropy against their original ids.
func MaskedLanguageModeling(scope *model.Scope, cfg Config, in MLMInputs) MLMOutput {
	out := Backbone(scope, cfg, in.Inputs, in.Options)
	res := MLMOutput{Backbone: out, Logits: MaskedLanguageModelingHead(scope, cfg, gatherPositions(out.Sequence, in.Positions))}
	if in.Labels != nil {
		res.Loss = MaskedLanguageModelingLoss(res.Logits, in.Labels, in.Valid)
	}
	return res
}

// MRMInputs are the inputs of the masked region modeling objectives MaskedRegionFeatureRegression,
// MaskedRegionClassification and MaskedRegionClassificationKL. Inputs.ImgFeat has the masked regions' features
// zeroed and Inputs.MRMMask marks them (ORIG img_masks).
type MRMInputs struct {
	Inputs
	Positions *Node // [K,2] int32 (b, r) of the masked regions, r counting regions from 0.
	// Targets are [K, ImgDim] the original features for MRFR, [K, ImgLabelDim] the detector's class
	// distributions for MRC.
	Targets *Node
	Valid   *Node // [K] 1 = real row, 0 = padding of K.
	Options Options
}

// maskedRegions runs the backbone on MRM inputs and returns its output and the hidden states of the masked
// regions [K,H].
func maskedRegions(scope *model.Scope, cfg Config, in MRMInputs) (*Output, *Node) {
	out := Backbone(scope, cfg, in.Inputs, in.Options)
	return out, gatherPositions(out.Sequence, offsetPositions(in.Positions, in.TextLen()))
}

// MRFROutput is what MaskedRegionFeatureRegression computes.
type MRFROutput struct {
	Backbone   *Output
	Prediction *Node // [K, ImgDim] regressed features of the masked regions.
	Loss       *Node // RegionFeatureRegressionLoss.
}

// MaskedRegionFeatureRegression is MRFR: the regression head (tied to img_linear) on the masked regions and the
// mean squared error against their original features.
func MaskedRegionFeatureRegression(scope *model.Scope, cfg Config, in MRMInputs) MRFROutput {
	out, hidden := maskedRegions(scope, cfg, in)
	res := MRFROutput{Backbone: out, Prediction: RegionFeatureRegressionHead(scope, cfg, hidden)}
	if in.Targets != nil {
		res.Loss = RegionFeatureRegressionLoss(res.Prediction, in.Targets, in.Valid)
	}
	return res
}

// MRCOutput is what MaskedRegionClassification and MaskedRegionClassificationKL compute.
type MRCOutput struct {
	Backbone *Output
	Logits   *Node // [K, ImgLabelDim] class scores of the masked regions.
	Loss     *Node
}

// MaskedRegionClassification is MRC: the region classifier on the masked regions and the cross entropy against
// the detector's most likely non-background class (RegionClassificationLoss).
func MaskedRegionClassification(scope *model.Scope, cfg Config, in MRMInputs) MRCOutput {
	return regionClassification(scope, cfg, in, RegionClassificationLoss)
}

// MaskedRegionClassificationKL is MRC-kl: the region classifier on the masked regions and the KL divergence from
// the detector's class distribution (RegionClassificationKLLoss).
func MaskedRegionClassificationKL(scope *model.Scope, cfg Config, in MRMInputs) MRCOutput {
	return regionClassification(scope, cfg, in, RegionClassificationKLLoss)
}

// regionClassification is MRC with the given loss.
func regionClassification(scope *model.Scope, cfg Config, in MRMInputs, loss func(logits, targets, valid *Node) *Node) MRCOutput {
	out, hidden := maskedRegions(scope, cfg, in)
	res := MRCOutput{Backbone: out, Logits: RegionClassificationHead(scope, cfg, hidden)}
	if in.Targets != nil {
		res.Loss = loss(res.Logits, in.Targets, in.Valid)
	}
	return res
}

// ITMInputs are the inputs of ImageTextMatching.
type ITMInputs struct {
	Inputs
	Labels  *Node // [B] int32 1 = matched pair, 0 = the image was swapped.
	Weights *Node // [B] 1 = real example, 0 = padding.
	Options Options
}

// ITMOutput is what ImageTextMatching computes. The WRA terms are nil when Config.ITMOTLambda is 0.
type ITMOutput struct {
	Backbone   *Output
	Logits     *Node // [B,2] scores, class 1 = matched.
	OTDistance *Node // [B] optimal transport distance between the words and the regions.
	ITMLoss    *Node // ImageTextMatchingLoss.
	WRALoss    *Node // WordRegionAlignmentLoss.
	Loss       *Node // ITMLoss + ITMOTLambda·WRALoss.
}

// ImageTextMatching is ITM with word-region alignment: the ITM head on the pooled output and its cross entropy,
// plus, with a positive Config.ITMOTLambda, the WRA loss of the IPOT distance between the contextualised words
// and regions, weighted by ITMOTLambda (ORIG forward_itm with ot_inputs, and pretrain.py's
// loss + itm_ot_lambda·ot_loss).
func ImageTextMatching(scope *model.Scope, cfg Config, in ITMInputs) ITMOutput {
	out := Backbone(scope, cfg, in.Inputs, in.Options)
	res := ITMOutput{Backbone: out, Logits: ImageTextMatchingHead(scope, cfg, out.Pooled)}
	if cfg.ITMOTLambda > 0 {
		lt := in.TextLen()
		txt := Slice(out.Sequence, AxisRange(), AxisRange(0, lt))
		img := Slice(out.Sequence, AxisRange(), AxisRangeToEnd(lt))
		res.OTDistance = OptimalTransportDistance(txt, img, in.TxtMask, in.ImgMask, DefaultIPOT())
	}
	if in.Labels == nil {
		return res
	}
	res.ITMLoss = ImageTextMatchingLoss(res.Logits, in.Labels, in.Weights)
	res.Loss = res.ITMLoss
	if res.OTDistance != nil {
		res.WRALoss = WordRegionAlignmentLoss(res.OTDistance, in.Labels, in.Weights)
		res.Loss = ImageTextMatchingWithWRALoss(res.ITMLoss, res.WRALoss, cfg.ITMOTLambda)
	}
	return res
}
