package uniter

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

// FullInputs are the inputs of every UNITER objective at once, as in the reference fixtures
// (testdata/fixtures/*/inputs.npz): the three forward passes of ORIG's task batches share them.
type FullInputs struct {
	Inputs             // pass (a): clean text and regions.
	MLMInputIDs  *Node // [B,Lt] ids with the MLM positions replaced (pass b).
	TxtLabels    *Node // [B,Lt] original ids at the MLM positions, −1 elsewhere.
	MLMPositions *Node // [Kt,2] (b,t) of the MLM positions.
	MRMRegions   *Node // [B,Nr] 1 = MRM-masked region (pass c).
	MRMImgFeat   *Node // [B,Nr,D] features with the masked rows zeroed (pass c).
	MRMPositions *Node // [Kr,2] (b,r) of the masked regions.
	FeatTargets  *Node // [Kr,D] MRFR targets.
	MRCTargets   *Node // [Kr,C] detector distributions of the masked regions.
	VQATargets   *Node // [B,A] soft scores.
	ITMTargets   *Node // [B] 1 = matched.
}

// FullForward runs every objective the trainer runs on the three forward passes of ORIG's task batches — (a)
// clean: VQA and ImageTextMatching, (b) MLM-masked text: MaskedLanguageModeling, (c) MRM-masked regions:
// MaskedRegionFeatureRegression, MaskedRegionClassificationKL and MaskedRegionClassification — and returns
// their outputs under the array names of the fixtures' expected.npz (the WRA ones only with a positive
// Config.ITMOTLambda). Use it in evaluation mode to check a converted checkpoint against a reference.
func FullForward(scope *model.Scope, cfg Config, in FullInputs) named.Nodes {
	vqa := VQA(scope, cfg, VQAInputs{Inputs: in.Inputs, Targets: in.VQATargets,
		Options: Options{HiddenStates: true, AttentionProbs: true}})
	itm := ImageTextMatching(scope, cfg, ITMInputs{Inputs: in.Inputs, Labels: in.ITMTargets})

	mlmIn := in.Inputs
	mlmIn.InputIDs = in.MLMInputIDs
	labels := Squeeze(gatherPositions(InsertAxes(in.TxtLabels, -1), in.MLMPositions), -1)
	mlm := MaskedLanguageModeling(scope, cfg, MLMInputs{Inputs: mlmIn, Positions: in.MLMPositions, Labels: labels})

	mrmIn := in.Inputs
	mrmIn.ImgFeat, mrmIn.MRMMask = in.MRMImgFeat, in.MRMRegions
	mrfr := MaskedRegionFeatureRegression(scope, cfg, MRMInputs{Inputs: mrmIn, Positions: in.MRMPositions, Targets: in.FeatTargets})
	mrcIn := MRMInputs{Inputs: mrmIn, Positions: in.MRMPositions, Targets: in.MRCTargets}
	mrcKL := MaskedRegionClassificationKL(scope, cfg, mrcIn)
	mrc := MaskedRegionClassification(scope, cfg, mrcIn)

	out := named.Nodes{
		"hidden_states": Stack(vqa.Backbone.HiddenStates, 0), "seq": vqa.Backbone.Sequence,
		"attn_probs": Stack(vqa.Backbone.AttentionProbs, 0), "pooled": vqa.Backbone.Pooled,
		"vqa_logits": vqa.Logits, "vqa_loss": vqa.Loss,
		"itm_logits": itm.Logits, "itm_loss": itm.ITMLoss,
		"mlm_seq": mlm.Backbone.Sequence, "mlm_logits": mlm.Logits, "mlm_loss": mlm.Loss,
		"mrm_seq": mrfr.Backbone.Sequence, "mrfr_pred": mrfr.Prediction, "mrfr_loss": mrfr.Loss,
		"mrc_logits": mrc.Logits, "mrc_loss": mrc.Loss, "mrc_kl_loss": mrcKL.Loss,
	}
	if itm.WRALoss != nil {
		out["ot_dist"], out["ot_loss"], out["itm_ot_loss"] = itm.OTDistance, itm.WRALoss, itm.Loss
	}
	return out
}
