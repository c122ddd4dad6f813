package notebook

import (
	"fmt"
	"html"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// measurement is the validation VQA accuracy one run reached.
type measurement struct {
	Run      string
	Best     float64 // the best validation accuracy of the periodic evaluations
	BestStep int     // the update it was measured at
	Updates  int     // the updates the run made
}

// measureVQA reads a run's metrics and returns its best validation VQA accuracy; a run without one is an error.
func (n *Notebook) measureVQA(run string) (measurement, error) {
	records, err := runner.ReadMetrics(n.RunDir(run))
	if err != nil {
		return measurement{}, err
	}
	m := measurement{Run: run, Best: math.Inf(-1)}
	for _, rec := range records {
		m.Updates = max(m.Updates, rec.Step)
		for name, v := range rec.Metrics {
			if strings.HasPrefix(name, "val/") && strings.HasSuffix(name, "/vqa_accuracy") && v > m.Best {
				m.Best, m.BestStep = v, rec.Step
			}
		}
	}
	if math.IsInf(m.Best, -1) {
		return measurement{}, fmt.Errorf("run %s: no validation VQA accuracy in its metrics", run)
	}
	return m, nil
}

// priorName names questionPrior in charts and statements.
const priorName = "answering from the question alone"

// CompareVQA draws the validation VQA accuracy and the VQA loss (train and val) of runs side by side, one series
// per run, with the accuracy of answering from the question alone (questionPrior, on the first run's data) as a
// reference line, and states below the charts what was measured.
func (n *Notebook) CompareVQA(runs ...string) (string, error) {
	if len(runs) == 0 {
		return "", fmt.Errorf("compare: no runs")
	}
	prior, err := n.priorOfRun(runs[0])
	if err != nil {
		return "", err
	}
	var acc, loss []viz.Series
	var measured []measurement
	for _, run := range runs {
		records, err := runner.ReadMetrics(n.RunDir(run))
		if err != nil {
			return "", err
		}
		for _, s := range report.Curves(records, func(name string) bool {
			return strings.HasPrefix(name, "val/") && strings.HasSuffix(name, "/vqa_accuracy")
		}) {
			s.Name = run
			acc = append(acc, s)
		}
		for _, s := range report.Curves(records, func(name string) bool { return strings.HasSuffix(name, "/logit_bce") }) {
			s.Name = run + " " + strings.Split(s.Name, "/")[0]
			loss = append(loss, s)
		}
		m, err := n.measureVQA(run)
		if err != nil {
			return "", err
		}
		measured = append(measured, m)
	}
	if !math.IsNaN(prior) && len(acc) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range acc {
			lo, hi = math.Min(lo, s.X[0]), math.Max(hi, s.X[len(s.X)-1])
		}
		acc = append(acc, viz.Series{Name: priorName, X: []float64{lo, hi}, Y: []float64{prior, prior}})
	}
	charts, err := report.ChartsHTML(
		viz.LineChart{Title: "validation VQA accuracy", XLabel: "update", YLabel: "accuracy", Width: 520, Height: 320,
			YInclude: []float64{0, 1}, Series: acc},
		viz.LineChart{Title: "VQA loss (soft-score BCE)", XLabel: "update", YLabel: "loss", Width: 520, Height: 320, Series: loss})
	if err != nil {
		return "", err
	}
	return charts + "<p>" + html.EscapeString(statement(measured, prior)) + "</p>", nil
}

// statement says in one sentence what runs measured: each run's best validation VQA accuracy and its update,
// the margin of the last run over the first, and the accuracy of answering from the question alone when prior is
// not NaN.
func statement(runs []measurement, prior float64) string {
	if len(runs) == 0 {
		return ""
	}
	parts := make([]string, len(runs))
	for i, m := range runs {
		parts[i] = fmt.Sprintf("%s %.3f (update %d of %d)", m.Run, m.Best, m.BestStep, m.Updates)
	}
	s := "Measured here, best validation VQA accuracy: " + strings.Join(parts, ", ")
	if len(runs) > 1 {
		s += fmt.Sprintf("; %s minus %s: %+.3f", runs[len(runs)-1].Run, runs[0].Run, runs[len(runs)-1].Best-runs[0].Best)
	}
	if !math.IsNaN(prior) {
		s += fmt.Sprintf("; %s: %.3f", priorName, prior)
	}
	return s + "."
}

// questionPrior is the VQA accuracy on val of answering every question from its text alone: with the answer
// most annotators gave to the most training questions of the same text, or, for a text no training question has,
// the most common such answer over all training questions. A model that ignores the image cannot do better on
// average, so a VQA curve above it shows the model reading the regions.
func questionPrior(train, val []dataset.Example) float64 {
	byText := map[string]map[string]int{}
	overall := map[string]int{}
	for _, ex := range train {
		a := report.MajorityAnswer(ex.Answers)
		if a == "" {
			continue
		}
		if byText[ex.Text] == nil {
			byText[ex.Text] = map[string]int{}
		}
		byText[ex.Text][a]++
		overall[a]++
	}
	fallback := mostCommon(overall)
	sum, n := 0.0, 0
	for _, ex := range val {
		if ex.Answers == nil {
			continue
		}
		guess := fallback
		if counts, ok := byText[ex.Text]; ok {
			guess = mostCommon(counts)
		}
		sum += vqa.Accuracy(guess, ex.Answers)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// mostCommon returns the key with the largest count, the alphabetically first of equals ("" for none).
func mostCommon(counts map[string]int) string {
	best, count := "", 0
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] > count {
			best, count = k, counts[k]
		}
	}
	return best
}

// priorOfRun computes questionPrior on the train and val splits of the dataset of a run: its configuration
// with the data only (no weights are loaded, nothing is trained).
func (n *Notebook) priorOfRun(run string) (float64, error) {
	cfg, err := config.Load(config.LoadOptions{Config: filepath.Join(n.RunDir(run), "config.yaml"), Overrides: []string{
		"run_type=train_val", "checkpoint.resume=false", "checkpoint.resume_file=", "checkpoint.resume_zoo=",
	}})
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", run, err)
	}
	r, err := runner.New(cfg)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", run, err)
	}
	defer r.Close()
	train, err := r.Data().Split(runner.SplitTrain)
	if err != nil {
		return 0, err
	}
	val, err := r.Data().Split(runner.SplitVal)
	if err != nil {
		return 0, err
	}
	return questionPrior(train.Examples, val.Examples), nil
}
