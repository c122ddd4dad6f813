package runner

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
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
	if err := env.decode(&h, datasets.KindCaptions); err != nil {
		return nil, err
	}
	targets := func(b *batch.Batch) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(b.FeatTargets, b.NumGathered(), b.FeatDim)
	}
	objective := func(scope *model.Scope, cfg uniter.Config, x uniter.MRMInputs) (*Node, *uniter.Output) {
		mrfr := uniter.MaskedRegionFeatureRegression(scope, cfg, x)
		return mrfr.Loss, mrfr.Backbone
	}
	return newMRMTask(env.newTask(h, batch.TaskMRFR, uniter.HeadMRFR, []string{"feat_regress."}), "mrfr_loss", targets, objective), nil
}

func newMRCTask(env taskEnv) (*task, error) {
	var h mrcHead
	if err := env.decode(&h, datasets.KindCaptions); err != nil {
		return nil, err
	}
	bt, mrc := batch.TaskMRC, uniter.MaskedRegionClassification
	if h.UseKL {
		bt, mrc = batch.TaskMRCKL, uniter.MaskedRegionClassificationKL
	}
	targets := func(b *batch.Batch) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(b.MRCTargets, b.NumGathered(), b.LabelDim)
	}
	objective := func(scope *model.Scope, cfg uniter.Config, x uniter.MRMInputs) (*Node, *uniter.Output) {
		out := mrc(scope, cfg, x)
		return out.Loss, out.Backbone
	}
	return newMRMTask(env.newTask(h.headConfig, bt, uniter.HeadMRC, []string{"region_classifier."}), "mrc_loss", targets, objective), nil
}

// newMRMTask completes a masked region modeling task t: its batches feed the masked regions and targets, its loss
// is objective's, reported as part.
func newMRMTask(t *task, part string, targets func(b *batch.Batch) *tensors.Tensor,
	objective func(scope *model.Scope, cfg uniter.Config, x uniter.MRMInputs) (loss *Node, backbone *uniter.Output)) *task {
	t.parts = []string{part}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		k := b.NumGathered()
		in["MRMMask"] = tensors.FromFlatDataAndDimensions(b.MRMMask, b.Size, b.NumRegions)
		in["Positions"] = tensors.FromFlatDataAndDimensions(b.MRMPositions, k, 2)
		in["Valid"] = tensors.FromFlatDataAndDimensions(b.MRMValid, k)
		in["Targets"] = targets(b)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.MRMInputs](in)
		x.Options = opts
		loss, backbone := objective(scope, cfg, x)
		return named.Nodes{"loss": loss, part: loss}, backbone
	}
	return t
}
