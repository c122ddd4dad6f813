#!/usr/bin/env python3
"""Writes the GoNB notebooks owned by the notebook harness (standard library only; any python3 runs it):

  00_smoke.ipynb              smoke test: repo packages (experiments/viz) and GoMLX work inside a notebook;
  01_quickstart.ipynb         config with overrides, the model's shapes and parameters, one batch, a scene with boxes;
  02_pretraining.ipynb        pretraining on synthetic captions (MLM, ITM+WRA, MRFR, MRC-kl), live curves per task;
  03_finetuning.ipynb         VQA from scratch and from 02's checkpoint: curves side by side, example predictions;
  04_attention.ipynb          word × region attention per layer and head, boxes over the scene, coloured tokens;
  testdata/failing.ipynb      negative test: the cells tagged "expect-failure" must be reported as failed;
  testdata/checked.ipynb      an already *executed* notebook (hand-made outputs) for the checker's unit test.

Run from anywhere:  python3 notebooks/make_notebooks.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# The per-notebook header (see README.md): pin gonbui to the kernel's version, point GoNB's module at this repo,
# build without XLA and with SIMD, and run GoMLX on the pure-Go backend.
HEADER = """\
!*go get github.com/janpfeifer/gonb@${GONB_VERSION} 2>go-get.log || { cat go-get.log; exit 1; }
!*go mod edit -require github.com/uniter-go/uniter@v0.0.0-00010101000000-000000000000 -replace github.com/uniter-go/uniter=${GONB_DIR}/..
%goflags -tags=noxla
%env GOEXPERIMENT simd
%env GOMLX_BACKEND go:parallelism=-1"""


def code(src, tags=(), outputs=None):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [],
            "source": src if isinstance(src, list) else src.strip("\n")}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


def markdown(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src.strip("\n")}


def notebook(cells):
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
                         "language_info": {"name": "go"}}}


def write(path, nb):
    with open(os.path.join(HERE, path), "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


SMOKE = notebook([
    markdown("""
# Smoke test: repository packages and GoMLX inside GoNB

Runs in CI (`go test ./notebooks/`). The first cell is the header every notebook in this folder starts with
(see `README.md`)."""),
    code(HEADER),
    markdown("Training curves with `viz.LineChart` (synthetic numbers), on a linear and on a log axis."),
    code("""
import (
	"math"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync() // flush the displays before the cell's program exits
var steps, train, val []float64
for s := 0; s <= 1000; s += 50 {
	steps = append(steps, float64(s))
	train = append(train, 0.3+4*math.Exp(-float64(s)/250))
	val = append(val, 0.45+4*math.Exp(-float64(s)/300))
}
chart := viz.LineChart{Title: "MLM loss", YLabel: "loss", Series: []viz.Series{
	{Name: "train", X: steps, Y: train}, {Name: "val", X: steps, Y: val}}}
svg, err := chart.SVG()
if err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)
chart.LogY, chart.Title = true, "MLM loss (log scale)"
if svg, err = chart.SVG(); err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)"""),
    markdown("Word × region attention with `viz.Heatmap` (a synthetic softmax over 6 regions)."),
    code("""
import (
	"fmt"
	"math"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
words := []string{"[CLS]", "a", "dog", "on", "the", "grass", "[SEP]"}
regions := []string{"r0", "r1", "r2", "r3", "r4", "r5"}
attn := make([][]float32, len(words))
for i := range words {
	var sum float64
	row := make([]float64, len(regions))
	for j := range regions {
		row[j] = math.Exp(-math.Abs(float64(i-j)) / 1.5)
		sum += row[j]
	}
	attn[i] = make([]float32, len(regions))
	for j := range row {
		attn[i][j] = float32(row[j] / sum)
	}
}
svg, err := viz.Heatmap(attn, words, regions, "text→image attention (layer 12, head mean)")
if err != nil {
	panic(err)
}
gonbui.DisplaySVG(svg)
fmt.Printf("row sums ≈ 1: %.3f\\n", attn[2][0]+attn[2][1]+attn[2][2]+attn[2][3]+attn[2][4]+attn[2][5])"""),
    markdown("Boxes weighted by attention with `viz.DrawBoxes`, tokens with `viz.TokensHTML`, a `viz.Table`."),
    code("""
import (
	"image"
	"image/color"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
img := image.NewRGBA(image.Rect(0, 0, 320, 200))
for y := 0; y < 200; y++ {
	for x := 0; x < 320; x++ {
		img.SetRGBA(x, y, color.RGBA{uint8(60 + x/4), uint8(90 + y/3), 140, 255})
	}
}
boxes := [][4]float32{{20, 20, 140, 120}, {150, 60, 300, 180}, {60, 130, 200, 190}}
gonbui.DisplayImage(viz.DrawBoxes(img, boxes, []float32{0.2, 0.7, 0.1}, []string{"r0 .2", "r1 .7", "r2 .1"}))
gonbui.DisplayHTML(viz.TokensHTML([]string{"a", "dog", "<on>", "the", "grass"}, []float32{0.05, 0.6, 0.1, 0.05, 0.2}))
gonbui.DisplayHTML(viz.Table([]string{"task", "metric", "value"}, [][]string{{"VQA", "acc", "0.00"}, {"ITM", "acc", "0.00"}}))"""),
    markdown("GoMLX on the pure-Go backend (checks `-tags noxla`, `GOEXPERIMENT=simd` and `GOMLX_BACKEND`)."),
    code("""
import (
	"fmt"
	"runtime/debug"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/gomlx/gomlx/core/graph"
)

%%
backend, err := compute.New()
if err != nil {
	panic(err)
}
out, err := graph.CallOnce(backend, func(x *graph.Node) *graph.Node { return graph.Mul(x, x) }, []float32{1, 2, 3})
if err != nil {
	panic(err)
}
got := out.Value().([]float32)
if got[0] != 1 || got[1] != 4 || got[2] != 9 {
	panic(fmt.Sprintf("x² of [1 2 3] = %v", got))
}
settings := map[string]string{}
if bi, ok := debug.ReadBuildInfo(); ok {
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
}
if settings["-tags"] != "noxla" || settings["GOEXPERIMENT"] != "simd" {
	panic(fmt.Sprintf("built with -tags=%q GOEXPERIMENT=%q, want noxla and simd", settings["-tags"], settings["GOEXPERIMENT"]))
}
fmt.Println(backend.Name(), "x² =", got, "| -tags", settings["-tags"], "| GOEXPERIMENT", settings["GOEXPERIMENT"])"""),
])

# Cells tagged "expect-failure" must be reported by the checker, all others must pass. No header: it needs nothing
# from the repository.
FAILING = notebook([
    markdown("Negative test for `notebooks_test.go`: each failure mode GoNB has, between passing cells."),
    code('%%\nfmt.Println("before")'),
    code('%%\npanic("deliberate failure")', tags=["expect-failure"]),
    code("!false", tags=["expect-failure"]),
    code('%%\nvar x int = "not an int"\nfmt.Println(x)', tags=["expect-failure"]),
    code('%%\nlog.Fatal("deliberate log.Fatal")', tags=["expect-failure"]),
    code('%%\nfmt.Println("exit status 1 (on stdout: not a failure)")'),
])


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


# An executed notebook with hand-made outputs, in both of nbformat's text forms (string and list of lines).
CHECKED = notebook([
    markdown("exit status 1 (markdown: ignored)"),
    code("%%\nok()", outputs=[stream("stdout", ["exit status 3\n"]), stream("stderr", "warning: x\n")]),
    code("%%\npanic(1)", outputs=[stream("stderr", ["panic: 1\n", "exit status 2\n"]),
                                  {"output_type": "error", "ename": "ERROR", "evalue": "exit status 2",
                                   "traceback": []}]),
    code(["!false\n", "!true"], outputs=[stream("stderr", "exit status 1\n")]),
    code("!echo", outputs=[stream("stderr", "exit status 0\nexit status 12 and more\n")]),
    code("%%\nbad", outputs=[{"output_type": "error", "ename": "ERROR", "evalue": "./main.go:3:1: syntax error",
                              "traceback": []}]),
    code("%%\ngonbui.DisplayHTML(x)", outputs=[stream("stdout", "lost\n")]),
    code("%%\ngonbui.DisplaySVG(x)", outputs=[{"output_type": "display_data", "metadata": {},
                                              "data": {"text/html": "<div><svg></svg></div>"}}]),
])

# ---------------------------------------------------------------------------------------------------------------
# The UNITER notebooks. They share a work directory (the generated data and the runs: 02 pretrains, 03 finetunes
# from 02's checkpoint, 04 looks into 03's model); each also runs alone, training what it misses for a short while.

# Declarations every UNITER notebook starts with (after the header): the size knob, the work directory and the
# configuration loader. Each `%%` cell is its own program: only declarations like these carry over.
SETUP = r"""
import (
	"log"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/experiments/config"
)

// fullSize switches from the small settings below (about a minute of training per notebook on 2 CPU cores) to
// the sizes of the experiment files in experiments/synthetic/ (hours on a CPU).
const fullSize = false

// workDir holds what the notebooks share: the generated data and the runs. $UNITER_NOTEBOOK_DIR overrides it.
func workDir() string {
	if d := os.Getenv("UNITER_NOTEBOOK_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "uniter-notebooks")
}

// runDir is the save directory (checkpoints, metrics.jsonl, config.yaml) of the notebooks' run with that name.
func runDir(name string) string { return filepath.Join(workDir(), "runs", name) }

// small returns the overrides of the small settings for an experiment file: a smaller model (hidden 64), 200
// generated images, batches of 32 and a few hundred updates.
func small(experiment string) []string {
	ov := []string{
		"model_config.uniter.hidden_size=64", "model_config.uniter.intermediate_size=128",
		"training.batch_size=32", "training.log_interval=10", "training.evaluation_interval=50",
		"training.checkpoint_interval=1000", "training.num_workers=1", "scheduler.params.num_warmup_steps=20",
	}
	if experiment == "pretrain" {
		// pretrain.yaml's lr 5e-4 suits its 3,000 updates; 200 updates need tiny_model.yaml's faster rate.
		return append(ov, "dataset_config.synthetic_captions.num_images=200", "training.max_updates=200",
			"optimizer.params.lr=2e-3")
	}
	return append(ov, "dataset_config.synthetic_vqa.num_images=200", "training.max_updates=250",
		"model_config.uniter.heads.synthetic_vqa.hidden_size=128") // the ORIG VQA head is 2 × hidden_size wide
}

// loadConfig loads experiments/synthetic/<experiment>.yaml for the run named run: data under workDir(), the
// small settings unless fullSize, then overrides (key=value, as on the `uniter run` command line).
func loadConfig(experiment, run string, overrides ...string) (*config.Config, error) {
	ov := []string{"env.data_dir=" + filepath.Join(workDir(), "data"), "env.save_dir=" + runDir(run)}
	if !fullSize {
		ov = append(ov, small(experiment)...)
	}
	return config.Load(config.LoadOptions{
		Config:    filepath.Join("..", "experiments", "synthetic", experiment+".yaml"),
		Overrides: append(ov, overrides...),
	})
}

// must stops the cell on an error.
func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
"""

# The training helper of 02 and 03: a fresh run with live per-task curves.
TRAIN = r"""
import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// train runs an experiment in a fresh run directory and redraws the train and val curves of every task in the
// cell's output each time the runner logs.
func train(experiment, run string, overrides ...string) *runner.Result {
	cfg, err := loadConfig(experiment, run, overrides...)
	must(err)
	must(os.RemoveAll(runDir(run))) // start afresh, also when the cell runs again
	r, err := runner.New(cfg)
	must(err)
	defer r.Close()
	r.Log = os.Stdout
	id := "curves_" + gonbui.UniqueId()
	var records []runner.Record
	r.OnLog = func(step int, m map[string]float64) {
		records = append(records, runner.Record{Step: step, Metrics: maps.Clone(m)})
		if html, err := report.ChartsHTML(report.TaskCharts(records)...); err == nil {
			gonbui.UpdateHTML(id, html)
		}
	}
	res, err := r.Run(context.Background())
	must(err)
	fmt.Printf("%s: %d updates in %s; %s\n", run, res.Step, res.Elapsed.Round(time.Second), runner.FormatMetrics(res.Final))
	return res
}
"""

INTRO_KNOBS = """
**Size knob.** The next cell holds `fullSize` (false: small model, 200 generated images, a few hundred updates, so
the notebook runs in a minute or two on a laptop CPU; true: the sizes of `experiments/synthetic/*.yaml`) and the work
directory the notebooks share (`$UNITER_NOTEBOOK_DIR`, default `$TMPDIR/uniter-notebooks`)."""


def uniter_notebook(title, intro, cells, extra_setup=()):
    return notebook([markdown(f"# {title}\n\n{intro.strip()}"), code(HEADER), markdown(INTRO_KNOBS), code(SETUP)]
                    + [code(s) for s in extra_setup] + cells)


QUICKSTART = uniter_notebook("UNITER quickstart", """
Load an experiment configuration with overrides, build the UNITER model it describes and look at its parameters,
run it on one batch of the synthetic dataset, and look at a generated scene with its detector boxes.""", [
    markdown("""
## 1. Configuration

`config.Load` merges the built-in defaults, the model and dataset defaults, the experiment file
(`experiments/synthetic/vqa.yaml`, which includes `tiny_model.yaml`) and `key=value` overrides — here the small
settings of `loadConfig` plus one of our own."""),
    code(r"""
import (
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
cfg, err := loadConfig("vqa", "quickstart", "optimizer.params.lr=1e-4")
must(err)
var rows [][]string
for _, key := range []string{"datasets", "model_config.uniter.hidden_size", "model_config.uniter.num_hidden_layers",
	"model_config.uniter.num_attention_heads", "model_config.uniter.img_dim", "dataset_config.synthetic_vqa.num_images",
	"dataset_config.synthetic_vqa.max_seq_length", "dataset_config.synthetic_vqa.max_regions", "training.batch_size",
	"training.max_updates", "optimizer.params.lr"} {
	v, _ := cfg.Get(key)
	rows = append(rows, []string{key, fmt.Sprint(v)})
}
gonbui.DisplayHTML(viz.Table([]string{"key", "value"}, rows))"""),
    markdown("""
## 2. The model: shapes and parameter counts

The declarations below turn the configuration into a `uniter.Config` and generate the small synthetic dataset
(20 scenes) this notebook uses. `uniter.ParameterShapes` lists every tensor under its original PyTorch checkpoint
key."""),
    code(r"""
import (
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/uniter"
)

// quickData returns the generator config and directory of this notebook's small synthetic dataset (20 scenes,
// region features as wide as the model's img_dim), generating it on first use.
func quickData(cfg *config.Config) (synthetic.Config, synthetic.Layout, error) {
	sc := synthetic.DefaultConfig()
	sc.NumImages = 20
	var err error
	if sc.FeatureDim, err = cfg.Int("model_config.uniter.img_dim"); err != nil {
		return sc, synthetic.Layout{}, err
	}
	if sc.NumClasses, err = cfg.Int("model_config.uniter.img_label_dim"); err != nil {
		return sc, synthetic.Layout{}, err
	}
	l := synthetic.Layout{Dir: filepath.Join(workDir(), "quickstart-data")}
	return sc, l, synthetic.EnsureDataset(l.Dir, sc)
}

// modelConfig reads model_config.uniter.* into a uniter.Config with a VQA head over the dataset's answers.
func modelConfig(cfg *config.Config, l synthetic.Layout) (uniter.Config, error) {
	c := uniter.Base()
	for key, p := range map[string]*int{"hidden_size": &c.HiddenSize, "num_hidden_layers": &c.NumHiddenLayers,
		"num_attention_heads": &c.NumAttentionHeads, "intermediate_size": &c.IntermediateSize, "vocab_size": &c.VocabSize,
		"max_position_embeddings": &c.MaxPositionEmbeddings, "img_dim": &c.ImgDim, "img_label_dim": &c.ImgLabelDim} {
		v, err := cfg.Int("model_config.uniter." + key)
		if err != nil {
			return c, err
		}
		*p = v
	}
	answers, err := vqa.ReadAnswerVocab(l.Answers())
	if err != nil {
		return c, err
	}
	c.NumAnswers = answers.Len()
	return c, c.Validate()
}"""),
    code(r"""
import (
	"maps"
	"slices"
	"strings"
)

%%
defer gonbui.Sync()
cfg, err := loadConfig("vqa", "quickstart")
must(err)
_, l, err := quickData(cfg)
must(err)
mc, err := modelConfig(cfg, l)
must(err)
fmt.Printf("hidden %d, %d layers × %d heads, FFN %d, vocabulary %d, regions %d-d, %d answers\n",
	mc.HiddenSize, mc.NumHiddenLayers, mc.NumAttentionHeads, mc.IntermediateSize, mc.VocabSize, mc.ImgDim, mc.NumAnswers)
shapes, err := uniter.ParameterShapes(mc, uniter.HeadVQA)
must(err)
// Group the tensors by module: embeddings, each encoder layer, pooler, VQA head.
group := func(key string) string {
	parts := strings.Split(key, ".")
	if parts[0] == "uniter" && parts[1] == "encoder" {
		return strings.Join(parts[:4], ".")
	}
	if parts[0] == "uniter" {
		return strings.Join(parts[:2], ".")
	}
	return parts[0]
}
counts, tensors := map[string]int{}, map[string]int{}
for key, dims := range shapes {
	counts[group(key)] += uniter.CountParameters(map[string][]int{key: dims})
	tensors[group(key)]++
}
var rows [][]string
for _, g := range slices.Sorted(maps.Keys(counts)) {
	rows = append(rows, []string{g, fmt.Sprint(tensors[g]), fmt.Sprint(counts[g])})
}
base, _ := uniter.ParameterShapes(uniter.Base(), uniter.HeadVQA)
rows = append(rows, []string{"total (this model)", fmt.Sprint(len(shapes)), fmt.Sprint(uniter.CountParameters(shapes))},
	[]string{"total (UNITER-base + VQA head)", fmt.Sprint(len(base)), fmt.Sprint(uniter.CountParameters(base))})
gonbui.DisplayHTML(viz.Table([]string{"module", "tensors", "parameters"}, rows))
for _, key := range slices.Sorted(maps.Keys(shapes)) {
	if strings.HasPrefix(key, "uniter.encoder.layer.0.") {
		fmt.Printf("%-55s %v\n", key, shapes[key])
	}
}"""),
    markdown("""
## 3. One batch through the model

The dataset packages read the generated files like real VQA data (questions, annotations, npz region features);
`batch.Builder` pads them to `[B, Lt]` text and `[B, Nr]` regions. The model runs on GoMLX's pure-Go backend with
freshly initialised weights: the VQA logits mean nothing yet, but every shape is the real one, and each row of the
attention probabilities sums to 1."""),
    code(r"""
import (
	"math/rand/v2"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
)

%%
cfg, err := loadConfig("vqa", "quickstart")
must(err)
_, l, err := quickData(cfg)
must(err)
mc, err := modelConfig(cfg, l)
must(err)
tok := tokenizer.BertBaseUncased()
answers, err := vqa.ReadAnswerVocab(l.Answers())
must(err)
store, err := features.Open(l.Features(synthetic.FormatNPZ))
must(err)
defer store.Close()
set, err := dataset.LoadVQA(dataset.VQAConfig{Questions: l.Questions(synthetic.SplitTrain), Annotations: l.Annotations(synthetic.SplitTrain),
	AnswerVocab: answers, Features: store, FeaturesPath: l.Features(synthetic.FormatNPZ), Tokenizer: tok, ImageKeyFormat: synthetic.FeatureKeyFormat})
must(err)
lt, err := cfg.Int("dataset_config.synthetic_vqa.max_seq_length")
must(err)
nr, err := cfg.Int("dataset_config.synthetic_vqa.max_regions")
must(err)
const B = 4
builder, err := batch.NewBuilder(batch.Config{BatchSize: B, TextLen: lt, NumRegions: nr, FeatDim: mc.ImgDim,
	NumAnswers: answers.Len(), Bucket: B, Tokens: batch.TokenIDsOf(tok)}, set)
must(err)
bt, err := builder.Build(batch.TaskVQA, []int{0, 1, 2, 3}, rand.New(rand.NewPCG(1, 2)))
must(err)
fmt.Printf("%d training questions; batch: input_ids [%d %d], img_feat [%d %d %d], img_pos [%d %d 7], targets [%d %d]\n",
	set.Len(), B, lt, B, nr, mc.ImgDim, B, nr, B, answers.Len())
for i := range B {
	ex, _ := set.Example(i)
	fmt.Printf("  %s  %q\n", ex.ImageKey, ex.Text)
}

backend, err := compute.New()
must(err)
ms := model.NewStore()
exec, err := model.NewExec(backend, ms, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
	out := uniter.Backbone(scope, mc, uniter.Inputs{InputIDs: in[0], TxtMask: in[1], ImgFeat: in[2], ImgPos: in[3], ImgMask: in[4]},
		uniter.Options{AttentionProbs: true})
	logits := uniter.VQAHead(scope, mc, out.Pooled)
	return []*graph.Node{out.Sequence, out.Pooled, logits, graph.Stack(out.AttentionProbs, 0)}
})
must(err)
outs, err := exec.Call(tensors.FromFlatDataAndDimensions(bt.InputIDs, B, lt), tensors.FromFlatDataAndDimensions(bt.TxtMask, B, lt),
	tensors.FromFlatDataAndDimensions(bt.ImgFeat, B, nr, mc.ImgDim), tensors.FromFlatDataAndDimensions(bt.ImgPos, B, nr, 7),
	tensors.FromFlatDataAndDimensions(bt.ImgMask, B, nr))
must(err)
for i, name := range []string{"sequence [B, Lt+Nr, H]", "pooled [B, H]", "vqa_logits [B, answers]", "attention [layers, B, heads, L, L]"} {
	fmt.Printf("%-36s %v\n", name, outs[i].Shape())
}
probs := outs[3].Value().([][][][][]float32)
var sum float32
for _, p := range probs[0][0][0][0] {
	sum += p
}
fmt.Printf("layer 0, example 0, head 0, [CLS] row of the attention sums to %.6f\n", sum)"""),
    markdown("""
## 4. A scene and its regions

The generator renders every scene to `images/<key>.png`; the detector boxes of its objects (plus two large
"background" proposals) are the regions the model reads. `viz.DrawBoxes` draws them over the picture."""),
    code(r"""
import "github.com/uniter-go/uniter/experiments/report"

%%
defer gonbui.Sync()
cfg, err := loadConfig("vqa", "quickstart")
must(err)
sc, l, err := quickData(cfg)
must(err)
ds, err := synthetic.Generate(sc) // the same seeded generator: the scenes of the files on disk
must(err)
scene := ds.Scenes[0]
img, err := report.LoadImage(l.Image(scene.Key))
must(err)
var boxes [][4]float32
var weights []float32
var labels []string
for _, o := range scene.Objects {
	boxes, weights, labels = append(boxes, o.Box), append(weights, 1), append(labels, o.Size+" "+o.Color+" "+o.Shape)
}
for _, b := range scene.Background {
	boxes, weights, labels = append(boxes, b), append(weights, 0), append(labels, "background")
}
img, boxes = report.Enlarge(img, boxes, 480) // 2×, so that the labels fit
must(gonbui.DisplayImage(viz.DrawBoxes(img, boxes, weights, labels)))
answers := map[int64]string{}
for _, a := range ds.Annotations[scene.Split].Annotations {
	answers[a.QuestionID] = a.MultipleChoiceAnswer
}
var rows [][]string
for _, q := range ds.Questions[scene.Split].Questions {
	if q.ImageID == scene.ImageID {
		rows = append(rows, []string{q.Question, answers[q.QuestionID]})
	}
}
gonbui.DisplayHTML(viz.Table([]string{"question about " + scene.Key, "answer"}, rows))"""),
], extra_setup=[])

PRETRAINING = uniter_notebook("UNITER pretraining on synthetic captions", """
Pretrain UNITER on template captions of the synthetic scenes ("a small red cube left of a blue sphere.") with the
tasks of the paper, drawn per update with ORIG's ratios MLM 2 : ITM 2 : MRFR 1 : MRC-kl 1:

* **MLM** — masked language modelling: predict the masked words from the other words and all regions;
* **ITM** + **WRA** — image-text matching (half the pairs have another scene's image), plus word-region alignment by
  optimal transport between the words and the regions (weight 0.1 in the ITM loss);
* **MRFR** — regress the features of masked regions;
* **MRC-kl** — match the detector's class distribution of masked regions (KL divergence).

The checkpoint this notebook writes is where `03_finetuning` starts from.

At full size (`experiments/synthetic/pretrain.yaml`: 3,000 updates at lr 5e-4, about 20 minutes on 2 cores) ITM leaves
chance after about 1,500 updates and reaches 0.78, MLM 0.88. The small setting below shows the mechanics: its ITM
stays near chance.""", [
    markdown("""
## Training, with live curves per task

Each chart shows one task's training loss (mean over the updates since the last log line) and its validation loss
or accuracy (every 50 updates)."""),
    code(r"""
%%
defer gonbui.Sync()
train("pretrain", "pretrain")"""),
    markdown("""
## The run directory

Everything is in the run directory: `config.yaml` (the effective configuration), `metrics.jsonl` and the
checkpoints. The same pictures come from the command line: `go run -tags noxla ./tools/uniter plot --run DIR`."""),
    code(r"""
import (
	"maps"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
records, err := runner.ReadMetrics(runDir("pretrain"))
must(err)
// Log scale; WRA's optimal-transport loss, which can be negative, is in its own chart above.
svg, err := viz.LineChart{Title: "pretraining: training loss of each task", YLabel: "loss", LogY: true,
	Series: report.Curves(records, func(name string) bool {
		return strings.HasPrefix(name, "train/") && strings.HasSuffix(name, "_loss") &&
			name != "train/total_loss" && !strings.HasSuffix(name, "/wra_loss")
	})}.SVG()
must(err)
gonbui.DisplaySVG(svg)
var rows [][]string
latest := report.Latest(records)
for _, name := range slices.Sorted(maps.Keys(latest)) {
	if strings.HasPrefix(name, "val/") {
		rows = append(rows, []string{name, fmt.Sprintf("%.4f", latest[name])})
	}
}
gonbui.DisplayHTML(viz.Table([]string{"validation metric (last)", "value"}, rows))
entries, err := os.ReadDir(runDir("pretrain"))
must(err)
for _, e := range entries {
	fmt.Println(filepath.Join(runDir("pretrain"), e.Name()))
}
fmt.Println("checkpoint for 03_finetuning:", report.Checkpoint(runDir("pretrain")))"""),
], extra_setup=[TRAIN])

FINETUNING = uniter_notebook("UNITER finetuning for VQA: from scratch and from the pretrained checkpoint", """
Train the VQA classifier (the ORIG head on the pooled [CLS] output, soft-score BCE) twice on the same data: once
from a random initialisation and once starting from the backbone pretrained by `02_pretraining`. With `fullSize`
the two runs are `experiments/synthetic/vqa_lowdata.yaml` and `finetune_from_pretrained.yaml` (10% of the training
images: the low-data regime, where pretraining helps most).

Measured at full size by `experiments/synthetic/pretraining_vs_scratch.sh`: pretraining with MLM alone
(`pretrain_mlm.yaml`, 1,000 updates) lifts the held-out accuracy from 0.528 to 0.766, while the four-task mix of
`02_pretraining` (`pretrain.yaml`) does not yet help on this data. In the small setting neither pretraining runs
long enough to ground words in regions (MLM alone needs about 300 updates of 512 captions), so the two runs here
show the mechanics, not the gain.""", [
    markdown("""
## The pretrained checkpoint

From `02_pretraining`; when it has not run, a short pretraining run here makes one."""),
    code(r"""
%%
defer gonbui.Sync()
if report.Checkpoint(runDir("pretrain")) == "" {
	fmt.Println("no checkpoint from 02_pretraining: pretraining for 100 updates")
	train("pretrain", "pretrain", "training.max_updates=100")
}
fmt.Println("pretrained checkpoint:", report.Checkpoint(runDir("pretrain")))"""),
    markdown("## From scratch"),
    code(r"""
%%
defer gonbui.Sync()
train(vqaExperiment(), "vqa_scratch")"""),
    markdown("""
## From the pretrained backbone

`checkpoint.resume_pretrained=true` loads only the backbone (`uniter.*`) weights: the VQA head starts fresh, as in
the scratch run."""),
    code(r"""
%%
defer gonbui.Sync()
train(vqaExperiment(), "vqa_pretrained", "checkpoint.resume_file="+report.Checkpoint(runDir("pretrain")),
	"checkpoint.resume_pretrained=true")"""),
    markdown("## Side by side"),
    code(r"""
import (
	"strings"

	"github.com/uniter-go/uniter/experiments/viz"
)

%%
defer gonbui.Sync()
var acc, loss []viz.Series
for _, run := range []string{"vqa_scratch", "vqa_pretrained"} {
	records, err := runner.ReadMetrics(runDir(run))
	must(err)
	for _, s := range report.Curves(records, func(name string) bool { return strings.HasSuffix(name, "/vqa_accuracy") }) {
		s.Name = run
		acc = append(acc, s)
	}
	for _, s := range report.Curves(records, func(name string) bool { return strings.HasSuffix(name, "/logit_bce") }) {
		s.Name = run + " " + strings.Split(s.Name, "/")[0]
		loss = append(loss, s)
	}
}
html, err := report.ChartsHTML(
	viz.LineChart{Title: "validation VQA accuracy", YLabel: "accuracy", Width: 520, Height: 320, Series: acc},
	viz.LineChart{Title: "VQA loss (soft-score BCE)", YLabel: "loss", Width: 520, Height: 320, Series: loss})
must(err)
gonbui.DisplayHTML(html)"""),
    markdown("""
## Example questions

The first validation questions with the answer most annotators gave and the two models' predictions (each run's
best checkpoint by validation accuracy)."""),
    code(r"""
%%
defer gonbui.Sync()
const n = 12
preds := map[string][]runner.Prediction{}
for _, run := range []string{"vqa_scratch", "vqa_pretrained"} {
	r, err := report.OpenRun(runDir(run))
	must(err)
	preds[run], err = r.Predict(runner.SplitVal, n)
	r.Close()
	must(err)
}
var rows [][]string
for i, p := range preds["vqa_scratch"] {
	q := preds["vqa_pretrained"][i]
	rows = append(rows, []string{p.ImageKey, p.Question, report.MajorityAnswer(p.Answers), p.Predicted, q.Predicted})
}
gonbui.DisplayHTML(viz.Table([]string{"image", "question", "true", "from scratch", "from pretrained"}, rows))"""),
], extra_setup=[TRAIN, r"""
// vqaExperiment is the experiment file of both VQA runs: the full data in the small setting, 10% of the
// training images (the low-data regime) at full size.
func vqaExperiment() string {
	if fullSize {
		return "vqa_lowdata"
	}
	return "vqa"
}"""])

ATTENTION = uniter_notebook("UNITER attention: which regions does each word look at?", """
For one validation question of a trained VQA model: the word × region attention of every layer and head (the
model's own attention probabilities, `uniter.Backbone` with `AttentionProbs`), the regions drawn as boxes over the
rendered scene with opacity by attention, and the words coloured by how much of their attention goes to the image.

Row *t*, column *r* of a heat map is the softmax weight that text token *t* (the query) gives region *r* (the key);
a row sums to the part of the token's attention that goes to the image (the rest goes to the text).""", [
    markdown("""
## The model and the example

`03_finetuning`'s model finetuned from the pretrained checkpoint (else the one from scratch, else a short training
run made here). The attention of the chosen example is kept in the work directory, so the drawing cells below
run instantly after you change `example`, `layer` or `head`."""),
    code(r"""
%%
r, err := report.OpenRun(modelRun())
must(err)
defer r.Close()
am, err := r.Attention(runner.SplitVal, example)
must(err)
preds, err := r.Predict(runner.SplitVal, example+1)
must(err)
p := preds[example]
fmt.Printf("question %d: %q\npredicted: %q, annotators: %q\n%d layers × %d heads, %d tokens, %d regions, image %s\n",
	example, am.Text, am.Predicted, report.MajorityAnswer(p.Answers), len(am.Probs), len(am.Probs[0]), len(am.Tokens), len(am.Boxes), am.ImagePath)
must(saveAttention(am))"""),
    markdown("""
## The chosen layer and head

The heat map, the regions over the scene (box opacity and width: the region's attention averaged over the
words), and the words (colour: the share of the word's attention that goes to the regions)."""),
    code(r"""
import "github.com/janpfeifer/gonb/gonbui"

%%
defer gonbui.Sync()
am, err := loadAttention()
must(err)
v, err := report.DrawAttention(am, layer, head)
must(err)
gonbui.DisplayHTML(report.ExampleHTML(am) + v.Tokens)
gonbui.DisplaySVG(v.Heatmap)
must(gonbui.DisplayImage(v.Scene))"""),
    markdown("## Every layer and head (the last heat map of each row: the mean of the heads)"),
    code(r"""
%%
defer gonbui.Sync()
am, err := loadAttention()
must(err)
grid, err := report.AttentionGrid(am)
must(err)
gonbui.DisplayHTML(grid)"""),
    markdown("## The regions each head of the chosen layer attends to"),
    code(r"""
import "strings"

%%
defer gonbui.Sync()
am, err := loadAttention()
must(err)
var b strings.Builder
b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:8px">`)
for h := report.AllHeads; h < len(am.Probs[0]); h++ {
	v, err := report.DrawAttention(am, layer, h)
	must(err)
	src, err := gonbui.EmbedImageAsPNGSrc(v.Scene)
	must(err)
	fmt.Fprintf(&b, `<figure style="margin:0"><img src="%s" style="width:360px"><figcaption>%s</figcaption></figure>`,
		src, report.HeadName(v.Layer, h, len(am.Probs[v.Layer])))
}
b.WriteString(`</div>`)
gonbui.DisplayHTML(b.String())"""),
    markdown("""
## Your own images

`DrawAttention` draws on whatever image `am.ImagePath` names (PNG or JPEG), so with real data — region boxes in
the picture's pixel coordinates — set it to the photo:

```go
am.ImagePath = "/data/coco/val2014/COCO_val2014_000000000042.jpg"
v, err := report.DrawAttention(am, layer, head)
```

From the command line, `go run -tags noxla ./tools/uniter plot --run DIR --example 3 --layer 1 --head 2` writes these pictures
(and the run's curves) as SVG/PNG/HTML files."""),
], extra_setup=[r"""
import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// What to draw: change these and run the cells below again.
const (
	example = 0                // index of the question in the val split
	layer   = report.LastLayer // 0 … layers-1, or report.LastLayer
	head    = report.AllHeads  // 0 … heads-1, or report.AllHeads (the mean of the heads)
)

// modelRun returns the run directory of the VQA model to look into: 03's model finetuned from the pretrained
// checkpoint, else the one from scratch, else a model trained here for 150 updates.
func modelRun() string {
	for _, run := range []string{"vqa_pretrained", "vqa_scratch", "attention"} {
		if report.Checkpoint(runDir(run)) != "" {
			return runDir(run)
		}
	}
	fmt.Println("no model from 03_finetuning: training one for 150 updates")
	cfg, err := loadConfig("vqa", "attention", "training.max_updates=150")
	must(err)
	r, err := runner.New(cfg)
	must(err)
	defer r.Close()
	r.Log = os.Stdout
	_, err = r.Run(context.Background())
	must(err)
	return runDir("attention")
}

// attentionFile keeps the attention of the chosen example between cells.
func attentionFile() string { return filepath.Join(workDir(), "attention.json") }

func saveAttention(am *runner.AttentionMap) error {
	b, err := json.Marshal(am)
	if err != nil {
		return err
	}
	return os.WriteFile(attentionFile(), b, 0o644)
}

func loadAttention() (*runner.AttentionMap, error) {
	b, err := os.ReadFile(attentionFile())
	if err != nil {
		return nil, fmt.Errorf("run the cell above first: %w", err)
	}
	am := &runner.AttentionMap{}
	return am, json.Unmarshal(b, am)
}"""])


if __name__ == "__main__":
    write("00_smoke.ipynb", SMOKE)
    write("01_quickstart.ipynb", QUICKSTART)
    write("02_pretraining.ipynb", PRETRAINING)
    write("03_finetuning.ipynb", FINETUNING)
    write("04_attention.ipynb", ATTENTION)
    write("testdata/failing.ipynb", FAILING)
    write("testdata/checked.ipynb", CHECKED)
