package runner

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Image-text matching with word-region alignment, ORIG's itm task (model/pretrain.py forward_itm, pretrain.py):
// the WRA loss is weighted by model_config.<model>.itm_ot_lambda (0 leaves it out).
func init() { registerTask("itm", newITMTask) }

func newITMTask(env taskEnv) (*task, error) {
	var h headConfig
	if err := env.decode(&h, datasets.KindCaptions); err != nil {
		return nil, err
	}
	t := env.newTask(h, batch.TaskITM, uniter.HeadITM, []string{"itm_output."})
	t.parts, t.accuracy = []string{"itm_loss"}, "itm_accuracy"
	if env.model.ITMOTLambda > 0 {
		t.parts = append(t.parts, "wra_loss")
	}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		in["Labels"] = tensors.FromFlatDataAndDimensions(b.ITMTargets, b.Size)
		in["Weights"] = exampleWeights(b)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.ITMInputs](in)
		x.Options = opts
		itm := uniter.ImageTextMatching(scope, cfg, x)
		out := named.Nodes{"loss": itm.Loss, "itm_loss": itm.ITMLoss}
		if itm.WRALoss != nil {
			out["wra_loss"] = itm.WRALoss
		}
		hits(out, itm.Logits, x.Labels, x.Weights)
		return out, itm.Backbone
	}
	t.score = countedScore
	return t, nil
}
