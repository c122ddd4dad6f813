package runner

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// The splits a run trains and evaluates on.
const (
	SplitTrain = datasets.SplitTrain
	SplitVal   = datasets.SplitVal
	SplitTest  = datasets.SplitTest
)

// Prediction is the model's answer to one VQA question.
type Prediction struct {
	QuestionID int64
	Question   string
	ImageKey   string
	ImagePath  string   // the rendered image for synthetic data ("" when unknown)
	Predicted  string   // the predicted answer
	Answers    []string // the human answers (nil without annotations)
	Accuracy   float64  // official VQA accuracy of Predicted against Answers (0 without annotations)
}

// evalPass runs the evaluation graph of t over a split, in order, calling visit with every batch and its outputs.
// At most limit batches are run (limit ≤ 0: all).
func (r *Runner) evalPass(split string, t *task, i, limit int, visit func(b *batch.Batch, outs named.Tensors) error) error {
	ex, err := r.execsFor(t)
	if err != nil {
		return err
	}
	it, err := r.iterator(t, i, split, false, batch.State{})
	if err != nil {
		return fmt.Errorf("%s data for %s: %w", split, t.name, err)
	}
	defer it.Close()
	for n := 0; limit <= 0 || n < limit; n++ {
		bt, err := it.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s data for %s: %w", split, t.name, err)
		}
		outs, err := call(ex.eval, t, bt)
		if err != nil {
			return err
		}
		if err := visit(bt, outs); err != nil {
			return err
		}
	}
	return nil
}

// Evaluate computes the metrics of the current model on a split (SplitVal, SplitTest or SplitTrain): per task
// the mean loss terms "<split>/<dataset>/<loss>" and the accuracy (e.g. vqa_accuracy, itm_accuracy,
// mlm_accuracy), and "<split>/total_loss", the sum of the tasks' losses; a task evaluated over the whole split
// reports its own metrics instead (retrieval: txt_r1 … r_mean).
func (r *Runner) Evaluate(split string) (map[string]float64, error) {
	m, _, err := r.evaluate(split, false)
	return m, err
}

// evaluate is Evaluate; with keep it also returns the predictions file entries of the tasks that have one, by
// task name, and the tasks evaluated over the whole split write their outputs.
func (r *Runner) evaluate(split string, keep bool) (map[string]float64, map[string][]result, error) {
	m := map[string]float64{}
	kept := map[string][]result{}
	prefix := split + "/" + r.s.dataset + "/"
	total, losses := 0.0, false
	for i, t := range r.tasks {
		if t.evaluate != nil {
			tm, err := t.evaluate(r.evalEnv(t, split, keep))
			if err != nil {
				return nil, nil, fmt.Errorf("evaluating %s on %s: %w", t.name, split, err)
			}
			for k, v := range tm {
				m[prefix+k] = v
			}
			continue
		}
		losses = true
		sums := map[string]float64{}
		var examples, correct, count float64
		err := r.evalPass(split, t, i, 0, func(b *batch.Batch, outs named.Tensors) error {
			n := 0.0
			for _, ok := range b.ExampleOK {
				if ok {
					n++
				}
			}
			examples += n
			for _, name := range append([]string{"loss"}, t.parts...) {
				sums[name] += n * scalar(outs[name])
			}
			if t.score != nil {
				c, k := t.score(b, outs)
				correct, count = correct+c, count+k
			}
			if keep && t.results != nil {
				kept[t.name] = append(kept[t.name], t.results.collect(b, outs)...)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if examples == 0 {
			return nil, nil, fmt.Errorf("evaluating %s: split %s has no examples", t.name, split)
		}
		total += sums["loss"] / examples
		for _, p := range t.parts {
			m[prefix+p] = sums[p] / examples
		}
		if t.accuracy != "" && count > 0 {
			m[prefix+t.accuracy] = correct / count
		}
	}
	if losses {
		m[split+"/total_loss"] = total
	}
	return m, kept, nil
}

// evalEnv is what a task's evaluation over a whole split (task.evaluate) works with.
type evalEnv struct {
	split string
	// exec returns the task's evaluation graph of the given name, built by fn on the named inputs the caller passes
	// (the backbone inputs of a batch, see backboneInputs, and its own) over the model's current weights, in
	// evaluation mode; it is made once per task and name.
	exec func(name string, fn func(scope *model.Scope, cfg uniter.Config, in named.Nodes) named.Nodes) (*named.Exec, error)
	// progress reports work of total units with a bar (on a terminal) and log lines.
	progress func(total int, what string) *progress
	// outputs is the path prefix of the files a final evaluation writes, <save dir>/predictions/<dataset>_<split>;
	// "" during training, whose evaluations write none.
	outputs string
}

// evalEnv returns the evaluation environment of task t on a split.
func (r *Runner) evalEnv(t *task, split string, outputs bool) evalEnv {
	ev := evalEnv{
		split:    split,
		progress: func(total int, what string) *progress { return newProgress(r.Log, total, 0, what) },
		exec: func(name string, fn func(scope *model.Scope, cfg uniter.Config, in named.Nodes) named.Nodes) (*named.Exec, error) {
			ex, err := r.execsFor(t)
			if err != nil {
				return nil, err
			}
			if ex.named[name] == nil {
				e, err := named.NewExec(r.backend, r.store, func(scope *model.Scope, in named.Nodes) named.Nodes {
					variablesAsParameters(r.store, in["InputIDs"].Graph())
					return fn(scope, r.model, in)
				})
				if err != nil {
					return nil, fmt.Errorf("creating the %s graph %s: %w", t.name, name, err)
				}
				ex.named[name] = e
			}
			return ex.named[name], nil
		},
	}
	if outputs {
		ev.outputs = filepath.Join(r.saveDir, predictionsDir, r.s.dataset+"_"+split)
	}
	return ev
}

// evaluateAndLog evaluates a split and writes the record.
func (r *Runner) evaluateAndLog(split string) (map[string]float64, error) {
	m, err := r.Evaluate(split)
	if err != nil {
		return nil, err
	}
	return m, r.log(m)
}

// log writes an evaluation record.
func (r *Runner) log(m map[string]float64) error {
	rec := make(map[string]float64, len(m)+1)
	for k, v := range m {
		rec[k] = v
	}
	return r.emit(rec)
}

// evaluateWithResults evaluates a split, logging the metrics when logged, and writes the predictions file of
// the task that has one ("" when none does).
func (r *Runner) evaluateWithResults(split string, logged bool) (map[string]float64, string, error) {
	m, kept, err := r.evaluate(split, true)
	if err != nil {
		return nil, "", err
	}
	if logged {
		if err := r.log(m); err != nil {
			return nil, "", err
		}
	}
	var file string
	for _, t := range r.tasks {
		if t.results != nil {
			if file, err = r.writeResults(t, split, kept[t.name]); err != nil {
				return nil, "", err
			}
		}
	}
	return m, file, nil
}

// Predict returns the model's answers to the first n questions of a split (n ≤ 0: all).
func (r *Runner) Predict(split string, n int) ([]Prediction, error) {
	t := r.tasks[0]
	if t.predictions == nil || r.data.Kind != datasets.KindVQA {
		return nil, fmt.Errorf("predict: task %s on dataset %s answers no questions", t.name, r.s.dataset)
	}
	src, err := r.data.Split(split)
	if err != nil {
		return nil, err
	}
	limit := 0
	if n > 0 {
		limit = (n + r.s.batchSize/r.s.updateFrequency - 1) / (r.s.batchSize / r.s.updateFrequency)
	}
	var preds []Prediction
	idx := 0
	err = r.evalPass(split, t, 0, limit, func(b *batch.Batch, outs named.Tensors) error {
		answers := t.predictions(outs)
		for row, ok := range b.ExampleOK {
			if !ok || (n > 0 && len(preds) == n) {
				continue
			}
			ex := &src.Examples[idx]
			idx++
			p := Prediction{
				QuestionID: ex.QuestionID, Question: ex.Text, ImageKey: ex.ImageKey, ImagePath: r.data.ImagePath(ex.ImageKey),
				Predicted: answers[row], Answers: ex.Answers,
			}
			if ex.Answers != nil {
				p.Accuracy = vqa.Accuracy(p.Predicted, ex.Answers)
			}
			preds = append(preds, p)
		}
		return nil
	})
	return preds, err
}

// test writes the predictions of the test split: the task's predictions file or whole-split outputs (with
// metrics, also the evaluation), or for VQA the official results JSON of every question (with metrics, also the evaluation when the
// split has annotations).
func (r *Runner) test(metrics bool) (map[string]float64, string, error) {
	if r.tasks[0].results != nil || r.tasks[0].evaluate != nil {
		m, file, err := r.evaluateWithResults(SplitTest, metrics)
		if !metrics {
			m = map[string]float64{}
		}
		return m, file, err
	}
	m := map[string]float64{}
	if metrics {
		src, err := r.data.Split(SplitTest)
		if err != nil {
			return nil, "", err
		}
		if r.data.Kind != datasets.KindVQA || src.Examples[0].Targets != nil {
			if m, err = r.evaluateAndLog(SplitTest); err != nil {
				return nil, "", err
			}
		}
	}
	if r.tasks[0].predictions == nil || r.data.Kind != datasets.KindVQA {
		return m, "", nil
	}
	preds, err := r.Predict(SplitTest, 0)
	if err != nil {
		return nil, "", err
	}
	results := make([]vqa.Result, len(preds))
	for i, p := range preds {
		results[i] = vqa.Result{QuestionID: p.QuestionID, Answer: p.Predicted}
	}
	file, err := r.predictionsPath(SplitTest, "json")
	if err != nil {
		return nil, "", err
	}
	if err := vqa.WriteResults(file, results); err != nil {
		return nil, "", err
	}
	fmt.Fprintf(r.Log, "wrote %d predictions to %s\n", len(results), file)
	return m, file, nil
}
