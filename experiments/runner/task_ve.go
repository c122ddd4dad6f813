package runner

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// SNLI-VE: ORIG's UniterForVisualEntailment (model/ve.py) with train_ve.py's loss and accuracy; VILLA's
// train_ve_adv.py with model_config.<model>.adversarial.
func init() { registerTask("ve", newVETask) }

// Names of the SNLI-VE task's loss and accuracy.
const (
	partLogitBCE = "logit_bce"
	veAccuracy   = "ve_accuracy"
)

func newVETask(env taskEnv) (*task, error) {
	var h headConfig
	if err := env.decode(&h, datasets.KindVE); err != nil {
		return nil, err
	}
	if env.loss != "" && env.loss != partLogitBCE {
		return nil, fmt.Errorf("config key losses.%s: %q; the SNLI-VE task trains with %s", env.name, env.loss, partLogitBCE)
	}
	env.model.NumAnswers = uniter.VisualEntailmentClasses
	keys, err := headKeys(*env.model, uniter.HeadVE)
	if err != nil {
		return nil, err
	}
	t := env.newTask(h, batch.TaskVE, uniter.HeadVE, keys)
	t.parts, t.accuracy = []string{partLogitBCE}, veAccuracy
	t.feed = func(b *batch.Batch, in named.Tensors) {
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.Targets, b.Size, b.NumAnswers)
		in["Weights"] = exampleWeights(b)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.VisualEntailmentInputs](in)
		x.Options = pooledOnly(opts)
		ve := uniter.VisualEntailment(scope, cfg, x)
		return named.Nodes{"loss": ve.Loss, partLogitBCE: ve.Loss, "prediction": ArgMax(ve.Logits, -1, dtypes.Int32)}, ve.Backbone
	}
	t.score = targetScore
	t.predictions = answers(env.data.Answers)
	// ORIG train_ve.py: {question id: label} of every hypothesis.
	t.results = &resultsFile{ext: "json", write: writeJSONResults, collect: func(b *batch.Batch, out named.Tensors) []result {
		labels := t.predictions(out)
		var rs []result
		for row, ok := range b.ExampleOK {
			if ok {
				rs = append(rs, result{b.ExampleIDs[row], labels[row]})
			}
		}
		return rs
	}}
	t.adversarial = func(scope *model.Scope, cfg uniter.Config, in named.Nodes) (uniter.Inputs, uniter.AdversarialTask, *Node) {
		x := named.Bind[uniter.VisualEntailmentInputs](in)
		return x.Inputs, uniter.AdversarialTask{
			Forward: func(p uniter.Inputs) *Node {
				return uniter.VisualEntailment(scope, cfg, uniter.VisualEntailmentInputs{Inputs: p, Options: uniter.Options{PooledOnly: true}}).Logits
			},
			Loss: func(logits *Node) *Node { return uniter.VQALoss(logits, x.Targets, x.Weights) },
		}, x.Weights
	}
	return t, nil
}

// pooledOnly returns the backbone options of a head that reads the pooled output only: the last layer for the
// [CLS] row alone, unless the attention maps or hidden states are wanted.
func pooledOnly(opts uniter.Options) uniter.Options {
	opts.PooledOnly = !opts.AttentionProbs && !opts.HiddenStates
	return opts
}
