package notebook

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// testNotebook returns the small-size notebook state with its work directory under a temporary folder.
func testNotebook(t *testing.T) *Notebook {
	t.Helper()
	t.Setenv(WorkDirEnv, t.TempDir())
	return New(false)
}

func TestNewFindsTheRepositoryAndSeparatesSizes(t *testing.T) {
	work := t.TempDir()
	t.Setenv(WorkDirEnv, work)
	small, full := New(false), New(true)
	if _, err := os.Stat(filepath.Join(small.Root, "experiments", "synthetic", "vqa.yaml")); err != nil {
		t.Fatalf("root %q is not the repository: %v", small.Root, err)
	}
	if small.Dir != filepath.Join(work, "small") || full.Dir != filepath.Join(work, "full") {
		t.Errorf("work directories %q and %q, want small/ and full/ under %s", small.Dir, full.Dir, work)
	}
	if got := small.experimentFile("vqa"); got != filepath.Join(small.Root, "experiments", "synthetic", "notebook", "vqa.yaml") {
		t.Errorf("small vqa experiment file %s", got)
	}
	if got := full.experimentFile("vqa"); got != filepath.Join(full.Root, "experiments", "synthetic", "vqa.yaml") {
		t.Errorf("full vqa experiment file %s", got)
	}
	if got := small.Relative(filepath.Join(small.Dir, "runs", "x", "best.ckpt")); got != "runs/x/best.ckpt" {
		t.Errorf("Relative inside the work directory: %s", got)
	}
	if got := small.Relative("/elsewhere/best.ckpt"); got != "/elsewhere/best.ckpt" {
		t.Errorf("Relative outside the work directory: %s", got)
	}
	t.Setenv(WorkDirEnv, "")
	if got := New(false).Dir; got != filepath.Join(os.TempDir(), "uniter-notebooks", "small") {
		t.Errorf("default work directory %s", got)
	}
}

// TestNotebookExperimentsLoad loads every experiment the notebooks name, at both sizes: the notebook files must
// be what their names say, the small version of the full one.
func TestNotebookExperimentsLoad(t *testing.T) {
	small := testNotebook(t)
	full := &Notebook{FullSize: true, Root: small.Root, Dir: small.Dir}
	for _, experiment := range []string{"vqa", "vqa_lowdata", "finetune_from_pretrained", "pretrain", "pretrain_mlm", "itr"} {
		for _, n := range []*Notebook{small, full} {
			cfg, err := n.Config(experiment, "run1", "training.seed=3")
			if err != nil {
				t.Fatalf("%s (full size %v): %v", experiment, n.FullSize, err)
			}
			if got, _ := cfg.String("env.save_dir"); got != n.RunDir("run1") {
				t.Errorf("%s: save dir %s, want %s", experiment, got, n.RunDir("run1"))
			}
			if got, _ := cfg.String("env.data_dir"); got != filepath.Join(n.Dir, "data") {
				t.Errorf("%s: data dir %s", experiment, got)
			}
			if seed, _ := cfg.Int("training.seed"); seed != 3 {
				t.Errorf("%s: the override training.seed=3 gave %d", experiment, seed)
			}
		}
		smallCfg, _ := small.Config(experiment, "r")
		fullCfg, _ := full.Config(experiment, "r")
		su, _ := smallCfg.Int("training.max_updates")
		fu, _ := fullCfg.Int("training.max_updates")
		if su >= fu {
			t.Errorf("%s: %d updates in the notebook settings, %d at full size", experiment, su, fu)
		}
		for _, key := range []string{"datasets", "model_config.uniter.do_pretraining", "model_config.uniter.hidden_size"} {
			a, _ := smallCfg.Get(key)
			b, _ := fullCfg.Get(key)
			if a == nil || !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s is %v in the notebook settings, %v at full size", experiment, key, a, b)
			}
		}
	}
	if _, err := small.Config("no_such_experiment", "r"); err == nil || !strings.Contains(err.Error(), "no_such_experiment") {
		t.Errorf("unknown experiment: error %v", err)
	}
	if _, err := (&Notebook{}).Config("vqa", "r"); err == nil || !strings.Contains(err.Error(), "go.mod") {
		t.Errorf("no repository: error %v", err)
	}
}

func TestExamplesPerSecondLeavesOutTheFirstInterval(t *testing.T) {
	rec := func(step int, m map[string]float64) runner.Record { return runner.Record{Step: step, Metrics: m} }
	records := []runner.Record{
		rec(10, map[string]float64{"train/examples_per_sec": 5}), // compiling
		rec(10, map[string]float64{"val/x/vqa_accuracy": 0.5}),
		rec(20, map[string]float64{"train/examples_per_sec": 100}),
		rec(30, map[string]float64{"train/examples_per_sec": 300}),
		rec(40, map[string]float64{"train/examples_per_sec": 200}),
	}
	if v, ok := examplesPerSecond(records); !ok || v != 200 {
		t.Errorf("median of 100, 300, 200 = %v (%v), want 200", v, ok)
	}
	if v, ok := examplesPerSecond(records[:4]); !ok || v != 200 {
		t.Errorf("median of 100, 300 = %v (%v), want 200", v, ok)
	}
	if _, ok := examplesPerSecond(records[:2]); ok {
		t.Error("only the compiling interval: ok")
	}
}

func TestQuestionPrior(t *testing.T) {
	ex := func(text string, answers ...string) dataset.Example {
		return dataset.Example{Text: text, Answers: answers}
	}
	ten := func(a string) []string { return slices.Repeat([]string{a}, 10) }
	train := []dataset.Example{
		ex("what color is the cube?", ten("red")...), ex("what color is the cube?", ten("red")...),
		ex("what color is the cube?", ten("blue")...), ex("is there a sphere?", ten("yes")...),
		ex("is there a sphere?", ten("no")...), ex("is there a sphere?", ten("no")...),
		ex("how many cubes?", ten("2")...),
	}
	val := []dataset.Example{
		ex("what color is the cube?", ten("red")...),  // red: 1
		ex("what color is the cube?", ten("blue")...), // red: 0
		ex("is there a sphere?", ten("no")...),        // no: 1
		ex("what shape is red?", ten("no")...),        // unseen text: the most common answer overall, no: 1
		ex("no annotations"),                          // left out
	}
	if got := questionPrior(train, val); math.Abs(got-0.75) > 1e-12 {
		t.Errorf("question prior %v, want 0.75", got)
	}
	if got := questionPrior(train, nil); !math.IsNaN(got) {
		t.Errorf("no validation questions: %v, want NaN", got)
	}
}

func TestStatement(t *testing.T) {
	runs := []measurement{{Run: "vqa_scratch", Best: 0.5, BestStep: 200, Updates: 300}, {Run: "vqa_pretrained", Best: 0.8125, BestStep: 300, Updates: 300}}
	want := "Measured here, best validation VQA accuracy: vqa_scratch 0.500 (update 200 of 300), vqa_pretrained 0.812 " +
		"(update 300 of 300); vqa_pretrained minus vqa_scratch: +0.312; answering from the question alone: 0.430."
	if got := statement(runs, 0.43); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFormatBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.27.3",
		Deps: []*debug.Module{
			{Path: "github.com/gomlx/gomlx", Version: "v0.28.16"},
			{Path: "github.com/gomlx/compute", Version: "v0.1.14", Replace: &debug.Module{Path: "/repo/third_party/compute", Version: "(devel)"}},
			{Path: "example.com/fork", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork2", Version: "v1.1.0"}},
			{Path: "example.com/outside", Version: "v1.0.0", Replace: &debug.Module{Path: "/elsewhere/outside"}},
			{Path: "github.com/uniter-go/uniter", Version: "v0.0.0-00010101000000-000000000000", Replace: &debug.Module{Path: "/repo", Version: "(devel)"}},
		},
		Settings: []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "GOEXPERIMENT", Value: "simd"}, {Key: "-tags", Value: "noxla"}},
	}
	want := "go go1.27.3\n-tags noxla\nGOEXPERIMENT simd\n" +
		"example.com/fork v1.0.0 => example.com/fork2 v1.1.0\n" +
		"example.com/outside v1.0.0 => /elsewhere/outside\n" +
		"github.com/gomlx/compute v0.1.14 => ./third_party/compute\n" +
		"github.com/gomlx/gomlx v0.28.16\n" +
		"github.com/uniter-go/uniter v0.0.0-00010101000000-000000000000 => .\n"
	if got := FormatBuildInfo(bi, "/repo"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The uniter command's go.mod writes the directory relative to the repository: the same line.
	bi.Deps = []*debug.Module{{Path: "github.com/gomlx/compute", Version: "v0.1.14", Replace: &debug.Module{Path: "./third_party/compute"}}}
	if got := FormatBuildInfo(bi, "/somewhere/else"); !strings.HasSuffix(got, "github.com/gomlx/compute v0.1.14 => ./third_party/compute\n") {
		t.Errorf("relative replacement: %s", got)
	}
}

// tinyModel makes the UNITER of an experiment tiny: 1 layer of 32, 2 heads, 16-d region features.
var tinyModel = []string{
	"model_config.uniter.hidden_size=32", "model_config.uniter.num_hidden_layers=1",
	"model_config.uniter.num_attention_heads=2", "model_config.uniter.intermediate_size=64",
	"model_config.uniter.img_dim=16",
}

// TestTrainAndWhatTheNotebooksDrawFromIt trains a tiny VQA model through Train and checks the live view, the
// comparison, the run summary, the prediction table and the attention the notebooks show from it.
func TestTrainAndWhatTheNotebooksDrawFromIt(t *testing.T) {
	nb := testNotebook(t)
	tiny := append(slices.Clone(tinyModel), "model_config.uniter.heads.synthetic_vqa.hidden_size=64",
		"dataset_config.synthetic_vqa.num_images=40", "training.batch_size=8", "training.max_updates=6",
		"training.log_interval=2", "training.evaluation_interval=3", "training.num_workers=1",
		"scheduler.params.num_warmup_steps=2")
	var ids []string
	var views []string
	show := func(id, html string) { ids, views = append(ids, id), append(views, html) }
	res, err := nb.Train("vqa", "tiny", show, tiny...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 6 {
		t.Errorf("trained %d updates, want 6", res.Step)
	}
	// Logs at 2, 4, 6, evaluations at 3 and 6, the final evaluation, then the final view.
	if len(views) < 6 {
		t.Fatalf("%d views shown, want one per log and evaluation plus the final one", len(views))
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("display ids %v: every view must replace the same output", ids)
		}
	}
	if !strings.Contains(views[0], "tiny: update 2 of 6, training loss") {
		t.Errorf("first view's status: %.300s", views[0])
	}
	last := views[len(views)-1]
	for _, want := range []string{"tiny: 6 updates in ", "vqa_accuracy", "<svg", "logit_bce"} {
		if !strings.Contains(last, want) {
			t.Errorf("the final view lacks %q: %.400s", want, last)
		}
	}
	// A second run of the cell starts afresh: the metrics of the first run are gone.
	if _, err := nb.Train("vqa", "tiny", show, tiny...); err != nil {
		t.Fatal(err)
	}
	records, err := runner.ReadMetrics(nb.RunDir("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(records); n > 8 {
		t.Errorf("%d records after the second run: the first run's were kept", n)
	}
	if nb.Checkpoint("tiny") == "" {
		t.Fatal("no checkpoint")
	}

	m, err := nb.measureVQA("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if m.Updates != 6 || (m.BestStep != 3 && m.BestStep != 6) || m.Best < 0 || m.Best > 1 {
		t.Errorf("measured %+v", m)
	}
	cmp, err := nb.CompareVQA("tiny", "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(cmp, "<svg") != 2 || !strings.Contains(cmp, "tiny minus tiny: +0.000") ||
		!regexp.MustCompile(`answering from the question alone: 0\.[0-9]{3}\.`).MatchString(cmp) {
		t.Errorf("comparison: %.600s", cmp)
	}
	sum, err := nb.RunSummary("tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "val/synthetic_vqa/vqa_accuracy", "metrics.jsonl", "config.yaml"} {
		if !strings.Contains(sum, want) {
			t.Errorf("run summary lacks %q", want)
		}
	}
	table, err := nb.PredictionTable(5, "tiny", "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(table, "<tr>"); rows != 6 {
		t.Errorf("prediction table has %d rows, want a header and 5 questions: %s", rows, table)
	}
	if _, err := nb.PredictionTable(5, "tiny", "missing"); err == nil {
		t.Error("a run without checkpoint: no error")
	}

	r, err := report.OpenRun(nb.RunDir("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	params, err := ParameterTable(r)
	if err != nil {
		t.Fatal(err)
	}
	// 1 layer of 32: the embeddings (30522 words), one encoder layer, the pooler and the VQA head.
	for _, want := range []string{">uniter.embeddings<", ">uniter.encoder.layer.0<", ">uniter.pooler<", ">vqa_output<", ">total (UNITER-base, the same heads)<"} {
		if !strings.Contains(params, want) {
			t.Errorf("parameter table lacks %s: %s", want, params)
		}
	}
	if strings.Contains(params, "layer.1<") {
		t.Errorf("parameter table of a 1-layer model lists layer 1: %s", params)
	}
	img, questions, err := Scene(r, runner.SplitVal, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); min(b.Dx(), b.Dy()) < 480 {
		t.Errorf("scene of %v: not enlarged to 480 pixels", b)
	}
	if !strings.Contains(questions, "question about ") || strings.Count(questions, "<tr>") < 2 {
		t.Errorf("scene questions: %s", questions)
	}
	if _, _, err := Scene(r, runner.SplitVal, 1<<20); err == nil {
		t.Error("scene of an example outside the split: no error")
	}

	if _, err := nb.LoadAttention(); err == nil {
		t.Error("LoadAttention before SaveAttention: no error")
	}
	am := &runner.AttentionMap{Text: "is there a cube?", Tokens: []string{"[CLS]", "cube"}, Probs: [][][][]float32{{{{1}}}}}
	if err := nb.SaveAttention(am); err != nil {
		t.Fatal(err)
	}
	got, err := nb.LoadAttention()
	if err != nil || got.Text != am.Text || len(got.Probs) != 1 {
		t.Errorf("LoadAttention = %+v, %v", got, err)
	}
}

func TestFirstCorrect(t *testing.T) {
	preds := []runner.Prediction{
		{Predicted: "2", Answers: []string{"3", "3", "2"}},
		{Predicted: "red"},
		{Predicted: "yes", Answers: []string{"yes", "no", "yes"}},
	}
	if got := FirstCorrect(preds); got != 2 {
		t.Errorf("FirstCorrect = %d, want 2", got)
	}
	if got := FirstCorrect(preds[:2]); got != -1 {
		t.Errorf("FirstCorrect with no correct answer = %d, want -1", got)
	}
}

func TestConfigTable(t *testing.T) {
	nb := testNotebook(t)
	cfg, err := nb.Config("vqa", "r")
	if err != nil {
		t.Fatal(err)
	}
	table, err := ConfigTable(cfg, "training.batch_size", "model_config.uniter.hidden_size")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`training\.batch_size</td><td[^>]*>128<`).MatchString(table) {
		t.Errorf("table: %s", table)
	}
	if _, err := ConfigTable(cfg, "training.no_such_key"); err == nil || !strings.Contains(err.Error(), "training.no_such_key") {
		t.Errorf("missing key: error %v", err)
	}
}
