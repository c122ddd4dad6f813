package notebook

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// RunSummary renders what a finished run left: the training loss of every task on a log scale, the last value of
// every validation metric, and the files of its run directory.
func (n *Notebook) RunSummary(run string) (string, error) {
	dir := n.RunDir(run)
	records, err := runner.ReadMetrics(dir)
	if err != nil {
		return "", err
	}
	// The training loss of every task; WRA's optimal-transport loss can be negative: it has its own chart in the
	// live view.
	losses := slices.DeleteFunc(report.LossCurves(records), func(s viz.Series) bool {
		return !strings.HasPrefix(s.Name, "train/") || s.Name == "train/total_loss" || strings.HasSuffix(s.Name, "wra_loss")
	})
	svg, err := viz.LineChart{Title: run + ": training loss of each task", XLabel: "update", YLabel: "loss", LogY: true,
		Width: 640, Height: 340, Series: losses}.SVG()
	if err != nil {
		return "", err
	}
	latest := report.Latest(records)
	var rows [][]string
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		if strings.HasPrefix(name, "val/") {
			rows = append(rows, []string{name, fmt.Sprintf("%.4f", latest[name])})
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return svg + viz.Table([]string{"validation metric (last evaluation)", "value"}, rows) +
		viz.Table([]string{"files of the run directory " + run}, [][]string{{strings.Join(names, ", ")}}), nil
}

// PredictionTable answers the first count validation questions with the best (else latest) checkpoint of each
// run and renders them as an HTML table: the image, the question, the answer most annotators gave, and each run's
// answer marked ✓ when it is that answer.
func (n *Notebook) PredictionTable(count int, runs ...string) (string, error) {
	preds := make([][]runner.Prediction, len(runs))
	for i, run := range runs {
		r, err := report.OpenRun(n.RunDir(run))
		if err != nil {
			return "", err
		}
		preds[i], err = r.Predict(runner.SplitVal, count)
		r.Close()
		if err != nil {
			return "", fmt.Errorf("run %s: %w", run, err)
		}
		if len(preds[i]) != len(preds[0]) {
			return "", fmt.Errorf("run %s answered %d questions, run %s %d", run, len(preds[i]), runs[0], len(preds[0]))
		}
	}
	header := append([]string{"image", "question", "true (majority)"}, runs...)
	rows := make([][]string, len(preds[0]))
	for q, p := range preds[0] {
		truth := report.MajorityAnswer(p.Answers)
		rows[q] = []string{p.ImageKey, p.Question, truth}
		for i := range runs {
			answer := preds[i][q].Predicted
			if answer == truth {
				answer += " ✓"
			}
			rows[q] = append(rows[q], answer)
		}
	}
	return viz.Table(header, rows), nil
}
