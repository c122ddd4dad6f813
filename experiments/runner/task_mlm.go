package runner

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Masked language modeling, ORIG's mlm task (model/pretrain.py forward_mlm).
func init() { registerTask("mlm", newMLMTask) }

// mlmHead is the head section of the MLM task.
type mlmHead struct {
	headConfig
	// VocabSize is the number of output classes, the text vocabulary (the decoder is the word embeddings).
	VocabSize int `json:"vocab_size"`
}

func newMLMTask(env taskEnv) (*task, error) {
	var h mlmHead
	if err := env.decode(&h, datasets.KindCaptions); err != nil {
		return nil, err
	}
	if h.VocabSize != 0 && h.VocabSize != env.model.VocabSize {
		return nil, fmt.Errorf("config key %s.vocab_size: %d, but the MLM decoder is the word embeddings of vocab_size %d",
			env.headKey, h.VocabSize, env.model.VocabSize)
	}
	t := env.newTask(h.headConfig, batch.TaskMLM, uniter.HeadMLM, []string{"cls."})
	t.parts, t.accuracy = []string{"masked_lm_loss"}, "mlm_accuracy"
	t.feed = func(b *batch.Batch, in named.Tensors) {
		k := b.NumGathered()
		in["Positions"] = tensors.FromFlatDataAndDimensions(b.MLMPositions, k, 2)
		in["Labels"] = tensors.FromFlatDataAndDimensions(b.MLMLabels, k)
		in["Valid"] = tensors.FromFlatDataAndDimensions(b.MLMValid, k)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.MLMInputs](in)
		x.Options = opts
		mlm := uniter.MaskedLanguageModeling(scope, cfg, x)
		out := named.Nodes{"loss": mlm.Loss, "masked_lm_loss": mlm.Loss}
		hits(out, mlm.Logits, x.Labels, x.Valid)
		return out, mlm.Backbone
	}
	t.score = countedScore
	return t, nil
}
