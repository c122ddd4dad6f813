package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/data/vqa"
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
	b, err := r.builder(split)
	if err != nil {
		return err
	}
	ex, err := r.execsFor(t)
	if err != nil {
		return err
	}
	it, err := batch.NewIterator(b, batch.IterOptions{Task: t.batch, Seed: taskSeed(r.s.seed, i), Epochs: 1, Prefetch: 1})
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
// mlm_accuracy), and "<split>/total_loss", the sum of the tasks' losses.
func (r *Runner) Evaluate(split string) (map[string]float64, error) {
	m := map[string]float64{}
	prefix := split + "/" + r.s.dataset + "/"
	total := 0.0
	for i, t := range r.tasks {
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
			return nil
		})
		if err != nil {
			return nil, err
		}
		if examples == 0 {
			return nil, fmt.Errorf("evaluating %s: split %s has no examples", t.name, split)
		}
		total += sums["loss"] / examples
		for _, p := range t.parts {
			m[prefix+p] = sums[p] / examples
		}
		if t.accuracy != "" && count > 0 {
			m[prefix+t.accuracy] = correct / count
		}
	}
	m[split+"/total_loss"] = total
	return m, nil
}

// evaluateAndLog evaluates a split and writes the record.
func (r *Runner) evaluateAndLog(split string) (map[string]float64, error) {
	m, err := r.Evaluate(split)
	if err != nil {
		return nil, err
	}
	rec := make(map[string]float64, len(m)+1)
	for k, v := range m {
		rec[k] = v
	}
	return m, r.emit(rec)
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

// test predicts every question of the test split and writes the official results JSON; with metrics it also
// evaluates (when the split has annotations).
func (r *Runner) test(metrics bool) (map[string]float64, string, error) {
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
	dir := filepath.Join(r.saveDir, "predictions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("writing predictions: %w", err)
	}
	file := filepath.Join(dir, r.s.dataset+"_"+SplitTest+"_results.json")
	if err := vqa.WriteResults(file, results); err != nil {
		return nil, "", err
	}
	fmt.Fprintf(r.Log, "wrote %d predictions to %s\n", len(results), file)
	return m, file, nil
}
