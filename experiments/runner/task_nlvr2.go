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

// NLVR2: ORIG's train_nlvr2.py with its three models (model/nlvr2.py), the token type table grown to 3 rows
// (init_type_embedding), accuracy as ORIG reports it on dev and test-P; VILLA's train_nlvr2_adv.py with
// model_config.<model>.adversarial.
func init() { registerTask("nlvr2", newNLVR2Task) }

// Names of the NLVR2 task's loss and accuracy.
const (
	partCrossEntropy = "cross_entropy"
	nlvr2Accuracy    = "nlvr2_accuracy"
)

// nlvr2Head is the head section of an NLVR2 task, with ORIG train_nlvr2.py's options.
type nlvr2Head struct {
	headConfig
	// Model is ORIG's --model: paired, triplet or paired-attn (ORIG's configs).
	Model string `json:"model"`
	// UseImgType gives the regions of the left image token type 1 and those of the right image type 2 (ORIG
	// --use_img_type, set in its configs); else every region has type 1.
	UseImgType bool `json:"use_img_type"`
}

func newNLVR2Task(env taskEnv) (*task, error) {
	h := nlvr2Head{Model: uniter.NLVR2PairedAttn, UseImgType: true}
	if err := env.decode(&h, datasets.KindNLVR2); err != nil {
		return nil, err
	}
	head, err := uniter.NLVR2Head(h.Model)
	if err != nil {
		return nil, fmt.Errorf("config key %s.model: %w", env.headKey, err)
	}
	if env.loss != "" && env.loss != partCrossEntropy {
		return nil, fmt.Errorf("config key losses.%s: %q; the NLVR2 task trains with %s", env.name, env.loss, partCrossEntropy)
	}
	env.model.TypeVocabSize = uniter.NLVR2TypeVocabSize // ORIG init_type_embedding, whatever use_img_type says
	keys, err := headKeys(*env.model, head)
	if err != nil {
		return nil, err
	}
	layout, task, per, maxRegions := batch.NLVR2Paired, batch.TaskNLVR2Paired, 2, env.data.NumRegions
	if h.Model == uniter.NLVR2Triplet {
		layout, task, per, maxRegions = batch.NLVR2Triplet, batch.TaskNLVR2Triplet, 1, 2*env.data.NumRegions
	}
	t := env.newTask(h.headConfig, task, head, keys)
	t.parts, t.accuracy = []string{partCrossEntropy}, nlvr2Accuracy
	t.examples = func(split string) (*examples, error) {
		set, ok := env.data.Pairs[split]
		if !ok {
			return nil, fmt.Errorf("dataset %s: split %q is not loaded for this run", env.data.Name, split)
		}
		b, err := batch.NewNLVR2Builder(set, layout, env.model.ImgDim, batch.TokenIDsOf(env.data.Tokenizer))
		if err != nil {
			return nil, err
		}
		ex := newExamples(set.Len(), b.Sizes, env.data.TextLen, maxRegions)
		ex.build, ex.rowsPerExample = b.Build, per
		ex.text = func(i int) string { return set.Examples[i].Text }
		ex.images = func(i int) []string {
			keys := set.Examples[i].ImageKeys
			if per == 2 { // the first row holds the left image
				return keys[:1]
			}
			return keys[:]
		}
		return ex, nil
	}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.Labels, len(b.Labels))
		in["Weights"] = slotWeights(b, per)
		if h.UseImgType {
			in["ImgTypeIDs"] = tensors.FromFlatDataAndDimensions(b.ImgTypeIDs, b.Size, b.NumRegions)
		}
	}
	forward := func(scope *model.Scope, cfg uniter.Config, x uniter.NLVR2Inputs, opts uniter.Options) uniter.NLVR2Output {
		x.Options = pooledOnly(opts)
		return uniter.NLVR2(scope, cfg, h.Model, x)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.NLVR2Inputs](in)
		out := forward(scope, cfg, x, opts)
		res := named.Nodes{"loss": out.Loss, partCrossEntropy: out.Loss, "prediction": ArgMax(out.Logits, -1, dtypes.Int32)}
		hits(res, out.Logits, x.Targets, x.Weights)
		return res, out.Backbone
	}
	t.score = countedScore
	t.predictions = func(out named.Tensors) []string {
		pred := out["prediction"].Value().([]int32)
		labels := make([]string, len(pred))
		for i, p := range pred {
			labels[i] = nlvr2Label(p)
		}
		return labels
	}
	// ORIG train_nlvr2.py: "identifier,True|False" lines.
	t.results = &resultsFile{ext: "csv", write: writeCSVResults, collect: func(b *batch.Batch, out named.Tensors) []result {
		labels := t.predictions(out)
		var rs []result
		for i, label := range labels {
			if b.ExampleOK[i*per] {
				rs = append(rs, result{b.ExampleIDs[i*per], label})
			}
		}
		return rs
	}}
	t.adversarial = func(scope *model.Scope, cfg uniter.Config, in named.Nodes) (uniter.Inputs, uniter.AdversarialTask, *Node) {
		x := named.Bind[uniter.NLVR2Inputs](in)
		return x.Inputs, uniter.AdversarialTask{
			Forward: func(p uniter.Inputs) *Node {
				return forward(scope, cfg, uniter.NLVR2Inputs{Inputs: p}, uniter.Options{}).Logits
			},
			Loss: func(logits *Node) *Node { return uniter.NLVR2Loss(logits, x.Targets, x.Weights) },
		}, x.Weights
	}
	return t, nil
}

// nlvr2Label is ORIG's answer text of an NLVR2 class: "True" for 1, "False" for 0.
func nlvr2Label(class int32) string {
	if class == 1 {
		return "True"
	}
	return "False"
}
