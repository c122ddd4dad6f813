package runner

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/data/metrics"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Referring expressions (RefCOCO, RefCOCO+, RefCOCOg): ORIG's UniterForReferringExpressionComprehension
// (model/re.py) with train_re.py's losses, batches of examples in ORIG's epoch order, and its accuracy: the
// top-scoring region counts when its box has IoU > 0.5 with the referred object's box (metrics.RefCorrect; ORIG
// uses >, not ≥), with ground-truth and detector regions alike.
func init() { registerTask("re", newRefTask) }

// Names of the referring-expression task's losses and accuracy.
const (
	partRankLoss = "rank_loss"
	reAccuracy   = "re_accuracy"
)

// refHead is the head section of a referring-expression task: train_re.py's train_loss, margin, hard_ratio and
// mlp.
type refHead struct {
	headConfig
	uniter.ReferringConfig
}

// refPrediction is an entry of the referring-expression predictions file (ORIG train_re.py): the predicted and the
// referred box, COCO [x, y, w, h] in pixels.
type refPrediction struct {
	PredBox [4]float32 `json:"pred_box"`
	TgtBox  [4]float32 `json:"tgt_box"`
}

func newRefTask(env taskEnv) (*task, error) {
	h := refHead{ReferringConfig: uniter.ReferringConfig{TrainLoss: uniter.ReferringLossCls, Margin: 0.2, HardRatio: 0.3, MLP: 1}}
	if err := env.decode(&h, datasets.KindRefExp); err != nil {
		return nil, err
	}
	if err := h.ReferringConfig.Validate(); err != nil {
		return nil, fmt.Errorf("config key %s: %w", env.headKey, err)
	}
	part := partCrossEntropy
	if h.TrainLoss == uniter.ReferringLossRank {
		part = partRankLoss
	}
	if env.loss != "" && env.loss != part {
		return nil, fmt.Errorf("config key losses.%s: %q; with train_loss %s the task trains with %s", env.name, env.loss, h.TrainLoss, part)
	}
	keys, err := headKeys(*env.model, h.Head())
	if err != nil {
		return nil, err
	}
	t := env.newTask(h.headConfig, batch.TaskRE, h.Head(), keys)
	t.parts, t.accuracy = []string{part}, reAccuracy
	t.examples = func(split string) (*examples, error) {
		set, ok := env.data.Refs[split]
		if !ok {
			return nil, fmt.Errorf("dataset %s: split %q is not loaded for this run", env.data.Name, split)
		}
		b, err := batch.NewRefBuilder(set, env.model.ImgDim, batch.TokenIDsOf(env.data.Tokenizer))
		if err != nil {
			return nil, err
		}
		ex := newExamples(set.Len(), b.Sizes, env.data.TextLen, env.data.NumRegions)
		ex.build, ex.epochOrder, ex.keepLast = b.Build, set.EpochOrder, true
		ex.text = func(i int) string { return set.Examples[i].Text }
		ex.images = func(i int) []string { return []string{set.Examples[i].ImageKey} }
		return ex, nil
	}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		in["Targets"] = tensors.FromFlatDataAndDimensions(b.Labels, b.Size)
		in["Weights"] = slotWeights(b, 1) // detector regions have no target region: no loss
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		x := named.Bind[uniter.ReferringInputs](in)
		x.Options = opts
		out := uniter.ReferringExpression(scope, cfg, h.ReferringConfig, x)
		// The loss is summed over the batch as ORIG trains it; its part is reported per example.
		perExample := Div(out.Loss, Max(ReduceAllSum(x.Weights), OnesLike(out.Loss)))
		return named.Nodes{"loss": out.Loss, part: perExample, "prediction": out.Prediction}, out.Backbone
	}
	t.score = func(b *batch.Batch, out named.Tensors) (correct, count float64) {
		pred := out["prediction"].Value().([]int32)
		for row, ok := range b.ExampleOK {
			if ok {
				if p := refBoxes(b, row, pred[row]); metrics.RefCorrect(widen(p.PredBox), widen(p.TgtBox)) {
					correct++
				}
				count++
			}
		}
		return correct, count
	}
	t.predictions = func(out named.Tensors) []string {
		pred := out["prediction"].Value().([]int32)
		regions := make([]string, len(pred))
		for i, p := range pred {
			regions[i] = fmt.Sprintf("region %d", p)
		}
		return regions
	}
	// ORIG train_re.py: {sentence id: {pred_box, tgt_box}}.
	t.results = &resultsFile{ext: "json", write: writeJSONResults, collect: func(b *batch.Batch, out named.Tensors) []result {
		pred := out["prediction"].Value().([]int32)
		var rs []result
		for row, ok := range b.ExampleOK {
			if ok {
				rs = append(rs, result{b.ExampleIDs[row], refBoxes(b, row, pred[row])})
			}
		}
		return rs
	}}
	return t, nil
}

// refBoxes returns the box of region p of a row and the referred object's box.
func refBoxes(b *batch.Batch, row int, p int32) refPrediction {
	at := (row*b.NumRegions + int(p)) * 4
	return refPrediction{PredBox: [4]float32(b.RegionBoxes[at : at+4]), TgtBox: [4]float32(b.TargetBoxes[row*4 : row*4+4])}
}

// widen converts a box to float64.
func widen(b [4]float32) [4]float64 {
	return [4]float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])}
}
