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

// VQA finetuning: MMF's classifier head type "mlp" with the logit_bce loss, ORIG's vqa_output and BCE
// (model/vqa.py, train_vqa.py).
func init() { registerTask("mlp", newVQATask) }

// vqaHead is the head section of a VQA task.
type vqaHead struct {
	headConfig
	// InDim is the head's input width, the backbone's hidden size; HiddenSize the classifier's hidden width (ORIG:
	// 2 × hidden_size); NumLabels the answers (0 = the size of the dataset's answer vocabulary).
	InDim      int `json:"in_dim"`
	HiddenSize int `json:"hidden_size"`
	NumLabels  int `json:"num_labels"`
	// PoolerName is MMF's own head pooler (compat.mmf only); ORIG's head reads the backbone's pooler.
	PoolerName string `json:"pooler_name"`
}

// newVQATask checks the head against the dataset's answers and sets the model's answer count.
func newVQATask(env taskEnv) (*task, error) {
	h := vqaHead{}
	if err := env.decode(&h, datasets.KindVQA); err != nil {
		return nil, err
	}
	n, hidden := env.data.Answers.Len(), env.model.HiddenSize
	switch {
	case h.NumLabels != 0 && h.NumLabels != n:
		return nil, fmt.Errorf("config key %s.num_labels: %d, but the answer vocabulary has %d answers (0 = use the vocabulary size)",
			env.headKey, h.NumLabels, n)
	case h.HiddenSize != 0 && h.HiddenSize != 2*hidden:
		return nil, fmt.Errorf("config key %s.hidden_size: %d, but the ORIG VQA head is 2 × hidden_size = %d", env.headKey, h.HiddenSize, 2*hidden)
	case h.InDim != 0 && h.InDim != hidden:
		return nil, fmt.Errorf("config key %s.in_dim: %d, but the head reads the pooled output of hidden_size %d", env.headKey, h.InDim, hidden)
	case env.loss != "" && env.loss != "logit_bce":
		return nil, fmt.Errorf("config key losses.%s: %q; the VQA task trains with logit_bce", env.name, env.loss)
	}
	env.model.NumAnswers = n
	// MMF's vqa_accuracy never predicts answer 0 when it is <unk>.
	maskUnknown := env.data.Answers.Answer(0) == "<unk>"
	t := env.newTask(h.headConfig, batch.TaskVQA, uniter.HeadVQA, []string{"vqa_output."})
	t.parts, t.accuracy = []string{"logit_bce"}, "vqa_accuracy"
	t.feed = func(b *batch.Batch, in named.Tensors) {
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.Targets, b.Size, b.NumAnswers)
		in["Weights"] = exampleWeights(b)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.VQAInputs](in)
		x.Options = opts
		vqa := uniter.VQA(scope, cfg, x)
		logits := vqa.Logits
		if maskUnknown {
			col := Iota(logits.Graph(), logits.Shape(), 1)
			logits = Where(Equal(col, ZerosLike(col)), Scalar(logits.Graph(), logits.DType(), -1e30), logits)
		}
		return named.Nodes{"loss": vqa.Loss, "logit_bce": vqa.Loss, "prediction": ArgMax(logits, -1, dtypes.Int32)}, vqa.Backbone
	}
	// The official VQA accuracy of the predicted answer is its soft score in the targets.
	t.score = func(b *batch.Batch, out named.Tensors) (correct, count float64) {
		pred := out["prediction"].Value().([]int32)
		for row, ok := range b.ExampleOK {
			if ok {
				correct += float64(b.Targets[row*b.NumAnswers+int(pred[row])])
				count++
			}
		}
		return correct, count
	}
	t.predictions = func(out named.Tensors) []string {
		pred := out["prediction"].Value().([]int32)
		answers := make([]string, len(pred))
		for i, p := range pred {
			answers[i] = env.data.Answers.Answer(int(p))
		}
		return answers
	}
	return t, nil
}
