package report

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// Checkpoint returns the checkpoint of a run directory that OpenRun loads: best.ckpt when there is one, else
// current.ckpt; "" when the run has neither.
func Checkpoint(runDir string) string {
	for _, name := range []string{"best.ckpt", "current.ckpt"} {
		p := filepath.Join(runDir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// OpenRun prepares a runner on the model a run directory holds: its config.yaml (the effective configuration the
// run wrote) with the best checkpoint loaded, else the latest one, ready for Evaluate, Predict and Attention on the
// val split. Overrides (key=value) apply last, e.g. "run_type=test" to load the test split instead.
func OpenRun(runDir string, overrides ...string) (*runner.Runner, error) {
	ckpt := Checkpoint(runDir)
	if ckpt == "" {
		return nil, fmt.Errorf("opening run %s: no best.ckpt or current.ckpt", runDir)
	}
	ov := append([]string{
		"env.save_dir=" + runDir, "run_type=val", "checkpoint.resume=true",
		fmt.Sprintf("checkpoint.resume_best=%v", filepath.Base(ckpt) == "best.ckpt"),
	}, overrides...)
	cfg, err := config.Load(config.LoadOptions{Config: filepath.Join(runDir, "config.yaml"), Overrides: ov})
	if err != nil {
		return nil, fmt.Errorf("opening run %s: %w", runDir, err)
	}
	r, err := runner.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("opening run %s: %w", runDir, err)
	}
	return r, nil
}

// Options select what WriteRunReport draws.
type Options struct {
	Split       string // split of the example and predictions (default val)
	Example     int    // index of the example whose attention is drawn
	Layer, Head int    // layer (or LastLayer) and head (or AllHeads) of the attention pictures
	Predictions int    // VQA questions listed with predicted and true answers (0: none)
}

// DefaultOptions draws example 0 of val at the last layer, mean of the heads, and lists 10 predictions.
func DefaultOptions() Options {
	return Options{Split: runner.SplitVal, Layer: LastLayer, Head: AllHeads, Predictions: 10}
}

// WriteRunReport writes the pictures of a run directory into outDir (created if missing) and returns the paths
// written, sorted: curves.svg (every loss), accuracy.svg (when the run has accuracies), tasks.html (train and val
// curves per task) and, when the run has a checkpoint, attention_heatmap.svg, attention_boxes.png,
// attention_tokens.html and attention_grid.html (every layer and head) for opts.Example of opts.Split; index.html
// gathers all of it (and the VQA predictions) in one page that needs no network.
func WriteRunReport(runDir, outDir string, opts Options) ([]string, error) {
	records, err := runner.ReadMetrics(runDir)
	if err != nil {
		return nil, fmt.Errorf("report for %s: %w", runDir, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("report for %s: %s is empty", runDir, runner.MetricsFile)
	}
	if opts.Split == "" {
		opts.Split = runner.SplitVal
	}
	w := &reportWriter{dir: outDir, page: &viz.Page{Title: "UNITER run " + filepath.Base(filepath.Clean(runDir))}}
	if err := w.curves(records); err != nil {
		return nil, err
	}
	if Checkpoint(runDir) == "" {
		w.page.Add("Attention", "<p>The run has no checkpoint: no attention pictures.</p>")
	} else if err := w.attention(runDir, opts); err != nil {
		return nil, err
	}
	if err := w.write("index.html", w.page.HTML()); err != nil {
		return nil, err
	}
	slices.Sort(w.files)
	return w.files, nil
}

// reportWriter collects the files and the index page of WriteRunReport.
type reportWriter struct {
	dir   string
	page  *viz.Page
	files []string
}

// write writes one text file of the report.
func (w *reportWriter) write(name, content string) error {
	p := filepath.Join(w.dir, name)
	if err := viz.WriteFile(p, content); err != nil {
		return err
	}
	w.files = append(w.files, p)
	return nil
}

// curves writes the loss, accuracy and per-task charts and adds them and the final metrics to the page.
func (w *reportWriter) curves(records []runner.Record) error {
	latest := Latest(records)
	rows := make([][]string, 0, len(latest))
	for _, k := range slices.Sorted(maps.Keys(latest)) {
		rows = append(rows, []string{k, fmt.Sprintf("%.4g", latest[k])})
	}
	w.page.Add(fmt.Sprintf("Last values (update %d)", records[len(records)-1].Step), viz.Table([]string{"metric", "value"}, rows))
	charts := []struct {
		file, title, y string
		series         []viz.Series
	}{
		{"curves.svg", "losses", "loss", LossCurves(records)},
		{"accuracy.svg", "accuracies", "accuracy", AccuracyCurves(records)},
	}
	for _, c := range charts {
		if len(c.series) == 0 {
			continue
		}
		svg, err := viz.LineChart{Title: c.title, YLabel: c.y, Width: 760, Height: 400, Series: c.series}.SVG()
		if err != nil {
			return err
		}
		if err := w.write(c.file, svg); err != nil {
			return err
		}
		w.page.Add(strings.ToUpper(c.title[:1])+c.title[1:], svg)
	}
	if tasks := TaskCharts(records); len(tasks) > 0 {
		h, err := ChartsHTML(tasks...)
		if err != nil {
			return err
		}
		if err := w.write("tasks.html", h); err != nil {
			return err
		}
		w.page.Add("Per task", h)
	}
	return nil
}

// attention draws the attention of one example and, for VQA runs, lists predictions.
func (w *reportWriter) attention(runDir string, opts Options) error {
	runType := opts.Split
	if runType == runner.SplitTrain {
		runType = "train"
	}
	r, err := OpenRun(runDir, "run_type="+runType)
	if err != nil {
		return err
	}
	defer r.Close()
	am, err := r.Attention(opts.Split, opts.Example)
	if err != nil {
		return fmt.Errorf("report for %s: %w", runDir, err)
	}
	v, err := DrawAttention(am, opts.Layer, opts.Head)
	if err != nil {
		return fmt.Errorf("report for %s: %w", runDir, err)
	}
	grid, err := AttentionGrid(am)
	if err != nil {
		return fmt.Errorf("report for %s: %w", runDir, err)
	}
	png := filepath.Join(w.dir, "attention_boxes.png")
	if err := viz.WritePNG(png, v.Scene); err != nil {
		return err
	}
	w.files = append(w.files, png)
	for _, f := range []struct{ name, content string }{
		{"attention_heatmap.svg", v.Heatmap}, {"attention_tokens.html", v.Tokens}, {"attention_grid.html", grid},
	} {
		if err := w.write(f.name, f.content); err != nil {
			return err
		}
	}
	heading := fmt.Sprintf("Attention: %s example %d, %s", opts.Split, opts.Example, HeadName(v.Layer, v.Head, len(am.Probs[v.Layer])))
	w.page.Add(heading, ExampleHTML(am)+v.Tokens+v.Heatmap)
	if err := w.page.AddImage("Regions by attention", v.Scene); err != nil {
		return err
	}
	w.page.Add("Every layer and head", grid)
	if opts.Predictions <= 0 || am.Predicted == "" {
		return nil
	}
	preds, err := r.Predict(opts.Split, opts.Predictions)
	if err != nil {
		return fmt.Errorf("report for %s: %w", runDir, err)
	}
	w.page.Add("Predictions", PredictionTable(preds))
	return nil
}

// PredictionTable renders VQA predictions as an HTML table: question, predicted answer, the most common human
// answer, and the VQA accuracy of the prediction.
func PredictionTable(preds []runner.Prediction) string {
	rows := make([][]string, len(preds))
	for i, p := range preds {
		rows[i] = []string{p.Question, p.Predicted, MajorityAnswer(p.Answers), fmt.Sprintf("%.2f", p.Accuracy)}
	}
	return viz.Table([]string{"question", "predicted", "true (majority)", "VQA accuracy"}, rows)
}

// MajorityAnswer returns the most frequent of the human answers (the first of equals; "" for none).
func MajorityAnswer(answers []string) string {
	best, count := "", 0
	seen := map[string]int{}
	for _, a := range answers {
		seen[a]++
		if seen[a] > count {
			best, count = a, seen[a]
		}
	}
	return best
}
