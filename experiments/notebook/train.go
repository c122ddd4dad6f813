package notebook

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// Train runs an experiment afresh in the run directory of run (emptied first, so that a cell can run again) and
// shows its progress through show, which replaces the output with that display id (gonbui.UpdateHTML in a
// notebook): a status line and the train and val curves of every task, redrawn each time the runner logs. An
// interrupt (the notebook's stop button) ends the run with an error.
func (n *Notebook) Train(experiment, run string, show func(id, html string), overrides ...string) (*runner.Result, error) {
	cfg, err := n.Config(experiment, run, overrides...)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(n.RunDir(run)); err != nil {
		return nil, err
	}
	r, err := runner.New(cfg)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	r.Log = io.Discard // the status line and the curves below replace the log lines
	maxUpdates, err := cfg.Int("training.max_updates")
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("train-%s-%d", run, time.Now().UnixNano())
	var records []runner.Record
	r.OnLog = func(step int, m map[string]float64) {
		records = append(records, runner.Record{Step: step, Metrics: maps.Clone(m)})
		show(id, progressView(run, maxUpdates, records, nil))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := r.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", run, err)
	}
	show(id, progressView(run, maxUpdates, records, res))
	return res, nil
}

// progressView renders the live view of a training run: a status line (the update, the training loss, the speed, the
// time; once res is given, the final evaluation) above the train and val curves of every task.
func progressView(run string, maxUpdates int, records []runner.Record, res *runner.Result) string {
	var b strings.Builder
	b.WriteString(`<div style="font-family:sans-serif;font-size:13px;margin:4px 0">`)
	b.WriteString(html.EscapeString(status(run, maxUpdates, records, res)))
	b.WriteString("</div>")
	if charts := report.TaskCharts(records); len(charts) > 0 {
		h, err := report.ChartsHTML(charts...)
		if err != nil {
			h = "<pre>" + html.EscapeString(err.Error()) + "</pre>"
		}
		b.WriteString(h)
	}
	return b.String()
}

// status is the text of the status line of progressView.
func status(run string, maxUpdates int, records []runner.Record, res *runner.Result) string {
	latest := report.Latest(records)
	speed := ""
	if v, ok := examplesPerSecond(records); ok {
		speed = fmt.Sprintf(", %.0f examples/s", v)
	}
	if res == nil {
		step := 0
		if len(records) > 0 {
			step = records[len(records)-1].Step
		}
		return fmt.Sprintf("%s: update %d of %d, training loss %.4g%s, %s", run, step, maxUpdates,
			latest["train/total_loss"], speed, seconds(latest["elapsed_s"]))
	}
	final := make([]string, 0, len(res.Final))
	for _, k := range slices.Sorted(maps.Keys(res.Final)) {
		if !strings.HasSuffix(k, "total_loss") {
			final = append(final, fmt.Sprintf("%s %.4f", report.ShortName(k), res.Final[k]))
		}
	}
	best := ""
	if res.BestStep > 0 && res.BestStep != res.Step {
		best = fmt.Sprintf(" (the best checkpoint, update %d)", res.BestStep)
	}
	return fmt.Sprintf("%s: %d updates in %s%s; %s%s", run, res.Step, res.Elapsed.Round(time.Second), speed,
		strings.Join(final, ", "), best)
}

// seconds formats an elapsed time in seconds as a duration, e.g. "1m12s".
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// examplesPerSecond returns the median training speed of a run's records (train/examples_per_sec), leaving out the
// first log interval, which includes compiling the training graph; ok is false when no later interval was logged.
func examplesPerSecond(records []runner.Record) (float64, bool) {
	var v []float64
	first := true
	for _, rec := range records {
		x, ok := rec.Metrics["train/examples_per_sec"]
		if !ok || math.IsNaN(x) {
			continue
		}
		if first {
			first = false
			continue
		}
		v = append(v, x)
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}
