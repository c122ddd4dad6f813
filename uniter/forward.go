package uniter

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// FullInputs are the inputs of every UNITER head at once, named as in the reference fixtures
// (testdata/fixtures/*/inputs.npz): the three forward passes of ORIG's task batches share them.
type FullInputs struct {
	Inputs                  // pass (a): clean text and regions.
	MLMInputIDs  *Node      // [B,Lt] ids with MLM positions replaced (pass b).
	TxtLabels    *Node      // [B,Lt] original ids at MLM positions, −1 elsewhere.
	MLMPositions *Node      // [Kt,2] (b,t) of the MLM positions.
	MRMMaskIn    *Node      // [B,Nr] 1 = MRM-masked region (pass c).
	MRMImgFeat   *Node      // [B,Nr,D] features with masked rows zeroed (pass c).
	MRMPositions *Node      // [Kr,2] (b,r) of the masked regions.
	FeatTargets  *Node      // [Kr,D] MRFR targets.
	MRCTargets   *Node      // [Kr,C] detector distributions of the masked regions.
	VQATargets   *Node      // [B,A] soft scores.
	ITMTargets   *Node      // [B] 1 = matched.
	IPOT         IPOTConfig // OT solver parameters (DefaultIPOT in ORIG).
	WRALambda    float64    // weight of the OT loss in the ITM task loss (0.1 in ORIG).
}

// FullOutputNames lists, in order, the outputs of FullForward; they are the array names of the fixtures'
// expected.npz.
var FullOutputNames = []string{
	"hidden_states", "seq", "attn_probs", "pooled", "vqa_logits", "itm_logits", "ot_dist",
	"mlm_seq", "mlm_logits", "mrm_seq", "mrfr_pred", "mrc_logits",
	"vqa_loss", "itm_loss", "ot_loss", "itm_ot_loss", "mlm_loss", "mrfr_loss", "mrc_kl_loss", "mrc_loss",
}

// FullForward runs the three forward passes of ORIG's task batches — (a) clean, (b) MLM-masked text,
// (c) MRM-masked regions — and every head and loss, returning the outputs named by FullOutputNames.
// Use it in evaluation mode to check a converted checkpoint against a reference.
func FullForward(scope *model.Scope, cfg Config, in FullInputs) []*Node {
	lt := in.TextLen()
	a := Backbone(scope, cfg, in.Inputs, Options{HiddenStates: true, AttentionProbs: true})
	vqaLogits := VQAHead(scope, cfg, a.Pooled)
	itmLogits := ImageTextMatchingHead(scope, cfg, a.Pooled)
	nr := in.ImgMask.Shape().Dimensions[1]
	txtSeq := Slice(a.Sequence, AxisRange(), AxisRange(0, lt))
	imgSeq := Slice(a.Sequence, AxisRange(), AxisRange(lt, lt+nr))
	otDist := OptimalTransportDistance(txtSeq, imgSeq, in.TxtMask, in.ImgMask, in.IPOT)

	mlmIn := in.Inputs
	mlmIn.InputIDs = in.MLMInputIDs
	b := Backbone(scope, cfg, mlmIn, Options{})
	mlmLogits := MaskedLanguageModelingHead(scope, cfg, GatherPositions(b.Sequence, in.MLMPositions))
	mlmLabels := GatherPositions(InsertAxes(in.TxtLabels, -1), in.MLMPositions)

	mrmIn := in.Inputs
	mrmIn.ImgFeat, mrmIn.MRMMask = in.MRMImgFeat, in.MRMMaskIn
	c := Backbone(scope, cfg, mrmIn, Options{})
	masked := GatherPositions(c.Sequence, OffsetPositions(in.MRMPositions, lt))
	mrfrPred := RegionFeatureRegressionHead(scope, cfg, masked)
	mrcLogits := RegionClassificationHead(scope, cfg, masked)

	itmLoss := ImageTextMatchingLoss(itmLogits, in.ITMTargets, nil)
	otLoss := WordRegionAlignmentLoss(otDist, in.ITMTargets, nil)
	return []*Node{
		Stack(a.HiddenStates, 0), a.Sequence, Stack(a.AttentionProbs, 0), a.Pooled, vqaLogits, itmLogits, otDist,
		b.Sequence, mlmLogits, c.Sequence, mrfrPred, mrcLogits,
		VQALoss(vqaLogits, in.VQATargets, nil), itmLoss, otLoss, ImageTextMatchingWithWRALoss(itmLoss, otLoss, in.WRALambda),
		MaskedLanguageModelingLoss(mlmLogits, Squeeze(mlmLabels, -1), nil),
		RegionFeatureRegressionLoss(mrfrPred, in.FeatTargets, nil),
		RegionClassificationKLLoss(mrcLogits, in.MRCTargets, nil),
		RegionClassificationLoss(mrcLogits, in.MRCTargets, nil),
	}
}
