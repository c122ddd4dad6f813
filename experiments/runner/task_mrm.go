package runner

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Masked region modeling, ORIG's mrfr and mrc / mrc-kl tasks (model/pretrain.py forward_mrfr, forward_mrc).
func init() {
	registerTask("mrfr", newMRFRTask)
	registerTask("mrc", newMRCTask)
}

// mrcHead is the head section of the MRC task.
type mrcHead struct {
	headConfig
	// UseKL trains with the KL divergence from the detector's class distribution (ORIG mrc-kl) instead of the
	// cross entropy with its most likely class (ORIG mrc).
	UseKL bool `json:"use_kl"`
}

func newMRFRTask(env taskEnv) (*task, error) {
	var h headConfig
	if err := env.decodeHead(&h); err != nil {
		return nil, err
	}
	if err := env.needsData(datasets.KindCaptions); err != nil {
		return nil, err
	}
	t := env.newTask(h, batch.TaskMRFR, uniter.HeadMRFR, []string{"feat_regress."})
	t.parts = []string{"mrfr_loss"}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		feedMRM(b, in)
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.FeatTargets, b.NumGathered(), b.FeatDim)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := uniter.MRMInputs{Options: opts}
		in.Bind(&x)
		mrfr := uniter.MaskedRegionFeatureRegression(scope, cfg, x)
		return named.Nodes{"loss": mrfr.Loss, "mrfr_loss": mrfr.Loss}, mrfr.Backbone
	}
	return t, nil
}

func newMRCTask(env taskEnv) (*task, error) {
	var h mrcHead
	if err := env.decodeHead(&h); err != nil {
		return nil, err
	}
	if err := env.needsData(datasets.KindCaptions); err != nil {
		return nil, err
	}
	bt, objective := batch.TaskMRC, uniter.MaskedRegionClassification
	if h.UseKL {
		bt, objective = batch.TaskMRCKL, uniter.MaskedRegionClassificationKL
	}
	t := env.newTask(h.headConfig, bt, uniter.HeadMRC, []string{"region_classifier."})
	t.parts = []string{"mrc_loss"}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		feedMRM(b, in)
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.MRCTargets, b.NumGathered(), b.LabelDim)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := uniter.MRMInputs{Options: opts}
		in.Bind(&x)
		mrc := objective(scope, cfg, x)
		return named.Nodes{"loss": mrc.Loss, "mrc_loss": mrc.Loss}, mrc.Backbone
	}
	return t, nil
}

// feedMRM adds the masked regions of an MRM batch to in: the mask and the positions of the masked regions.
func feedMRM(b *batch.Batch, in named.Tensors) {
	k := b.NumGathered()
	in["MRMMask"] = tensors.FromFlatDataAndDimensions(b.MRMMask, b.Size, b.NumRegions)
	in["Positions"] = tensors.FromFlatDataAndDimensions(b.MRMPositions, k, 2)
	in["Valid"] = tensors.FromFlatDataAndDimensions(b.MRMValid, k)
}
