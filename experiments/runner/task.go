package runner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// A task is one objective the runner trains and evaluates: the entry <name> of model_config.<model>.tasks, built
// by the constructor registered for the type of its head, model_config.<model>.heads.<name>.type.
//
// Adding a task is one file in this package that registers its constructor in its init,
//
//	func init() { registerTask("nlvr2", newNLVR2Task) }
//
// where the constructor decodes the task's head section into its own struct embedding headConfig and checks the
// dataset's kind (taskEnv.decode), starts the task from its head (taskEnv.newTask), and sets the functions that
// turn a batch into the named inputs of its uniter objective (feed), build the objective on them (forward) and,
// when the task has them, count its accuracy (score) and read its predictions (predictions). task_mlm.go is the
// smallest example. The runner does the rest: the training, accumulation and evaluation graphs, the data
// iterators, the loss and accuracy metrics "<split>/<dataset>/<name>", the VQA results file, checkpoints.
type task struct {
	name   string     // the entry of tasks: the key of its data state, and the name of its metrics
	weight int        // the pretraining mix ratio
	batch  batch.Task // the batches it reads
	head   string     // the uniter head whose variables it trains (uniter.Head*)
	keys   []string   // the ORIG key prefixes of the head's variables
	lrMul  float64    // learning-rate multiplier of the head's variables
	// freeze keeps the head's variables fixed.
	freeze bool
	// parts are the metric names of the loss terms forward returns (their sum is the loss), e.g. logit_bce.
	parts []string
	// accuracy is the metric name of the accuracy score counts ("" = none), e.g. vqa_accuracy.
	accuracy string

	// feed adds the task's graph inputs of b to in, which holds the backbone inputs (see backboneInputs).
	feed func(b *batch.Batch, in named.Tensors)
	// forward builds the task's objective on the inputs feed gave, with the backbone options opts. It returns the
	// outputs by name — "loss", every name of parts, and what score and predictions read — and the backbone's
	// output.
	forward func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output)
	// score returns the accuracy numerator and denominator of an evaluated batch from forward's outputs.
	score func(b *batch.Batch, out named.Tensors) (correct, count float64)
	// predictions returns the text of the predictions forward returns as "prediction" ([B] int32), one per row of
	// a batch; nil when the task predicts nothing.
	predictions func(out named.Tensors) []string
}

// headConfig holds the keys every head section has (model_config.<model>.heads.<task>); each task's head struct
// embeds it.
type headConfig struct {
	Type   string `json:"type"`
	Freeze bool   `json:"freeze"`
	// LRMultiplier scales the learning rate of the head's variables (default 1).
	LRMultiplier *float64 `json:"lr_multiplier"`
}

// taskEnv is what a task constructor builds a task from.
type taskEnv struct {
	name string
	// headKey is the full config key of the task's head section in cfg.
	headKey string
	cfg     *config.Config
	// loss is model_config.<model>.losses.<name> ("" when absent).
	loss string
	// model is the model configuration; a task sets what its data determines (the VQA answers).
	model *uniter.Config
	data  *datasets.Data
}

// newTask returns the task of env's name with the settings of its head.
func (env taskEnv) newTask(h headConfig, b batch.Task, head string, keys []string) *task {
	t := &task{name: env.name, batch: b, head: head, keys: keys, lrMul: 1, freeze: h.Freeze}
	if h.LRMultiplier != nil {
		t.lrMul = *h.LRMultiplier
	}
	return t
}

// decode decodes the task's head section into the struct dst points to and checks that the dataset holds the
// kind of examples the task reads.
func (env taskEnv) decode(dst any, kind string) error {
	if err := env.cfg.Decode(env.headKey, dst); err != nil {
		return err
	}
	if env.data.Kind != kind {
		return fmt.Errorf("config key %s.type: task %s reads %s, but dataset %s holds %s", env.headKey, env.name, kind,
			env.data.Name, env.data.Kind)
	}
	return nil
}

// taskKinds are the task constructors by head type.
var taskKinds = map[string]func(env taskEnv) (*task, error){}

// registerTask makes a task kind available to the heads of that type.
func registerTask(headType string, newTask func(env taskEnv) (*task, error)) {
	if _, dup := taskKinds[headType]; dup {
		panic("runner: task kind " + headType + " registered twice")
	}
	taskKinds[headType] = newTask
}

// headTypeWRA is the head type of ORIG's word-region alignment, folded into the ITM task (its loss plus
// itm_ot_lambda × the OT loss) and never a task of its own.
const headTypeWRA = "wra"

// newTasks builds the tasks of the run: the one classification task, or the pretraining tasks with a positive
// mix ratio, in the order of model_config.<model>.tasks.
func (r *Runner) newTasks() ([]*task, error) {
	s := r.s
	mc := "model_config." + s.modelName
	var out []*task
	for _, w := range s.taskMix() {
		headKey := mc + ".heads." + w.task
		var kind string
		if err := r.cfg.Decode(headKey+".type", &kind); err != nil {
			return nil, fmt.Errorf("%w (every task needs a head whose type names its kind: %s)", err,
				strings.Join(slices.Sorted(maps.Keys(taskKinds)), ", "))
		}
		if kind == headTypeWRA {
			continue
		}
		newTask, ok := taskKinds[kind]
		if !ok {
			return nil, fmt.Errorf("config key %s.type: unknown task kind %q (known: %s)", headKey, kind,
				strings.Join(slices.Sorted(maps.Keys(taskKinds)), ", "))
		}
		t, err := newTask(taskEnv{
			name: w.task, headKey: headKey, cfg: r.cfg, loss: s.modelConfig.Losses[w.task], model: &r.model, data: r.data,
		})
		if err != nil {
			return nil, err
		}
		t.weight = w.weight
		out = append(out, t)
	}
	return out, nil
}

// backboneInputs returns the backbone's graph inputs of a batch, named as the fields of uniter.Inputs.
func backboneInputs(b *batch.Batch) named.Tensors {
	B, Lt, Nr := b.Size, b.TextLen, b.NumRegions
	return named.Tensors{
		"InputIDs": tensors.FromFlatDataAndDimensions(b.InputIDs, B, Lt),
		"TxtMask":  tensors.FromFlatDataAndDimensions(b.TxtMask, B, Lt),
		"ImgFeat":  tensors.FromFlatDataAndDimensions(b.ImgFeat, B, Nr, b.FeatDim),
		"ImgPos":   tensors.FromFlatDataAndDimensions(b.ImgPos, B, Nr, 7),
		"ImgMask":  tensors.FromFlatDataAndDimensions(b.ImgMask, B, Nr),
	}
}

// exampleWeights returns a batch's [B] example weights: 1 for a real example, 0 for a padding row.
func exampleWeights(b *batch.Batch) *tensors.Tensor {
	w := make([]float32, b.Size)
	for i, ok := range b.ExampleOK {
		if ok {
			w[i] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(w, b.Size)
}

// hits counts the rows whose argmax equals the label, among the weighted ones: the outputs "correct" (Σ
// w·[argmax = label]) and "count" (Σ w), which countedScore reads.
func hits(out named.Nodes, logits, labels, weights *Node) {
	pred := ArgMax(logits, -1, dtypes.Int32)
	ok := ConvertDType(Equal(pred, ConvertDType(labels, dtypes.Int32)), dtypes.Float32)
	w := ConvertDType(weights, dtypes.Float32)
	out["correct"], out["count"] = ReduceAllSum(Mul(ok, w)), ReduceAllSum(w)
}

// countedScore is the score of the tasks whose graph counts its hits (see hits).
func countedScore(_ *batch.Batch, out named.Tensors) (correct, count float64) {
	return scalar(out["correct"]), scalar(out["count"])
}

// scalar returns a float32 scalar tensor as float64.
func scalar(t *tensors.Tensor) float64 {
	return float64(t.Value().(float32))
}
