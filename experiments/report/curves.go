package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// ShortName drops the dataset from a metric name: "train/synthetic_vqa/logit_bce" → "train/logit_bce". Names
// with other than three parts are kept.
func ShortName(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) == 3 {
		return parts[0] + "/" + parts[2]
	}
	return name
}

// Curves returns one series per metric name accepted by keep, named by ShortName and sorted by name, with the
// steps of the records holding a finite value of it, in record order.
func Curves(records []runner.Record, keep func(name string) bool) []viz.Series {
	byName := map[string]*viz.Series{}
	for _, rec := range records {
		for name, v := range rec.Metrics {
			if !keep(name) || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			s, ok := byName[name]
			if !ok {
				s = &viz.Series{Name: ShortName(name)}
				byName[name] = s
			}
			s.X = append(s.X, float64(rec.Step))
			s.Y = append(s.Y, v)
		}
	}
	out := make([]viz.Series, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b viz.Series) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// isLoss reports whether a metric is a loss: its last name part ends in "loss" or is logit_bce.
func isLoss(name string) bool {
	last := name[strings.LastIndex(name, "/")+1:]
	return strings.HasSuffix(last, "loss") || last == "logit_bce"
}

// isAccuracy reports whether a metric is an accuracy, or r_mean, the mean recall that the retrieval task reports as
// its accuracy.
func isAccuracy(name string) bool {
	return strings.HasSuffix(name, "accuracy") || name[strings.LastIndex(name, "/")+1:] == "r_mean"
}

// LossCurves returns the series of every loss metric (train and val, per task and total).
func LossCurves(records []runner.Record) []viz.Series { return Curves(records, isLoss) }

// AccuracyCurves returns the series of every accuracy metric (vqa_accuracy, mlm_accuracy, itm_accuracy, r_mean).
func AccuracyCurves(records []runner.Record) []viz.Series { return Curves(records, isAccuracy) }

// TaskCharts returns one chart per loss or accuracy of the tasks (e.g. masked_lm_loss, itm_accuracy), each
// with its train and val series, in name order, accuracies on an axis from 0 to 1; totals and rates (total_loss, lr, grad_norm) are left out.
func TaskCharts(records []runner.Record) []viz.LineChart {
	byTask := map[string][]viz.Series{}
	for _, s := range Curves(records, func(name string) bool {
		return strings.Count(name, "/") == 2 && (isLoss(name) || isAccuracy(name))
	}) {
		task := s.Name[strings.Index(s.Name, "/")+1:]
		byTask[task] = append(byTask[task], s)
	}
	var out []viz.LineChart
	for _, task := range slices.Sorted(maps.Keys(byTask)) {
		c := viz.LineChart{Title: task, YLabel: "loss", Width: 420, Height: 260, Series: byTask[task]}
		if isAccuracy(task) {
			c.YLabel, c.YInclude = "accuracy", []float64{0, 1}
		}
		out = append(out, c)
	}
	return out
}

// ChartsHTML renders charts side by side (wrapping) in one HTML block.
func ChartsHTML(charts ...viz.LineChart) (string, error) {
	var b strings.Builder
	b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">`)
	for _, c := range charts {
		svg, err := c.SVG()
		if err != nil {
			return "", fmt.Errorf("chart %q: %w", c.Title, err)
		}
		b.WriteString("<div>" + svg + "</div>")
	}
	b.WriteString("</div>")
	return b.String(), nil
}

// Latest returns the last finite value of every metric of the records.
func Latest(records []runner.Record) map[string]float64 {
	out := map[string]float64{}
	for _, rec := range records {
		for k, v := range rec.Metrics {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				out[k] = v
			}
		}
	}
	return out
}
