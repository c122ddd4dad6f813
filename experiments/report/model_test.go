package report

import (
	"context"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// The tiny VQA run the model tests share: sizes of the model and of the batches.
const (
	tinyHidden, tinyLayers, tinyHeads, tinyInter = 32, 2, 4, 64
	tinyImgDim, tinyLabelDim                     = 64, 37 // experiments/synthetic/tiny_model.yaml
	tinyTextLen, tinyRegions                     = 20, 8  // max_seq_length, max_regions (= max_objects)
)

var (
	tinyOnce sync.Once
	tinyDir  string // the work directory: data/ and run/
	tinyErr  error
)

// tinyOverrides are the overrides of experiments/synthetic/vqa.yaml for the tiny model, with data and run under work.
func tinyOverrides(work string) []string {
	return []string{
		"env.data_dir=" + filepath.Join(work, "data"), "env.save_dir=" + filepath.Join(work, "run"),
		"dataset_config.synthetic_vqa.num_images=30", "training.max_updates=2", "training.batch_size=8",
		"training.log_interval=1", "training.num_workers=1", "scheduler.params.num_warmup_steps=1",
		"model_config.uniter.hidden_size=" + strconv.Itoa(tinyHidden), "model_config.uniter.intermediate_size=" + strconv.Itoa(tinyInter),
		"model_config.uniter.num_hidden_layers=" + strconv.Itoa(tinyLayers), "model_config.uniter.num_attention_heads=" + strconv.Itoa(tinyHeads),
		"model_config.uniter.heads.synthetic_vqa.hidden_size=" + strconv.Itoa(2*tinyHidden),
	}
}

// tinyRun trains the tiny VQA model for two updates (once per test binary) and returns the work directory.
func tinyRun(t *testing.T) string {
	t.Helper()
	tinyOnce.Do(func() {
		tinyDir, tinyErr = os.MkdirTemp("", "report-test-")
		if tinyErr != nil {
			return
		}
		cfg, err := config.Load(config.LoadOptions{Config: "../synthetic/vqa.yaml", Overrides: tinyOverrides(tinyDir)})
		if err != nil {
			tinyErr = err
			return
		}
		r, err := runner.New(cfg)
		if err != nil {
			tinyErr = err
			return
		}
		r.Log = io.Discard
		defer r.Close()
		_, tinyErr = r.Run(context.Background())
	})
	if tinyErr != nil {
		t.Fatalf("tiny run: %v", tinyErr)
	}
	return tinyDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(tinyDir)
	}
	os.Exit(code)
}

// reTooltip matches the value in the tooltip of a heat-map cell.
var reTooltip = regexp.MustCompile(`<rect class="cell"[^>]*><title>[^<]*: ([^<]*)</title>`)

// heatmapValues returns the values of a viz.Heatmap's cells (row by row) read from their tooltips.
func heatmapValues(t *testing.T, svg string) []float32 {
	t.Helper()
	var out []float32
	for _, m := range reTooltip.FindAllStringSubmatch(svg, -1) {
		v, err := strconv.ParseFloat(m[1], 32)
		if err != nil {
			t.Fatalf("heat-map tooltip value %q: %v", m[1], err)
		}
		out = append(out, float32(v))
	}
	return out
}

// randomWeights returns backbone weights for cfg under their ORIG keys: N(0, 0.5) (LayerNorm weights 1 + N(0, 0.1)),
// far from BERT's small initialisation so that the attention is far from uniform.
func randomWeights(cfg uniter.Config) (map[string]*tensors.Tensor, error) {
	shapes, err := uniter.ParameterShapes(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	out := map[string]*tensors.Tensor{}
	for _, key := range slices.Sorted(maps.Keys(shapes)) {
		dims := shapes[key]
		n := 1
		for _, d := range dims {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			if strings.Contains(strings.ToLower(key), "layernorm.weight") || strings.HasSuffix(key, "layer_norm.weight") {
				data[i] = 1 + float32(0.1*rng.NormFloat64())
			} else {
				data[i] = float32(0.5 * rng.NormFloat64())
			}
		}
		out[key] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return out, nil
}

// tinyModelConfig is the backbone of the tiny run's configuration.
func tinyModelConfig() uniter.Config {
	cfg := uniter.Base()
	cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = tinyHidden, tinyLayers, tinyHeads, tinyInter
	cfg.VocabSize, cfg.MaxPositionEmbeddings = tokenizer.BertBaseUncased().VocabSize(), 64
	cfg.ImgDim, cfg.ImgLabelDim = tinyImgDim, tinyLabelDim
	return cfg
}

// independentAttention computes the attention probabilities of example index of the val split of the synthetic
// dataset under dataDir without the runner: it reads the dataset from disk, builds a one-row batch, loads weights
// into a new store and runs uniter.Backbone. It returns probs [layers][heads][L][L] over the padded layout, the
// batch, and the tokenizer.
func independentAttention(t *testing.T, dataDir string, weights map[string]*tensors.Tensor, index int) ([][][][]float32, *batch.Batch, *tokenizer.Tokenizer) {
	t.Helper()
	cfgs, _ := filepath.Glob(filepath.Join(dataDir, "synthetic", "synthetic-*", "config.json"))
	if len(cfgs) != 1 {
		t.Fatalf("want one generated dataset, found %v", cfgs)
	}
	l := synthetic.Layout{Dir: filepath.Dir(cfgs[0])}
	answers, err := vqa.ReadAnswerVocab(l.Answers())
	if err != nil {
		t.Fatal(err)
	}
	store, err := features.Open(l.Features(synthetic.FormatNPZ))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tok := tokenizer.BertBaseUncased()
	set, err := dataset.LoadVQA(dataset.VQAConfig{Questions: l.Questions(synthetic.SplitVal), Annotations: l.Annotations(synthetic.SplitVal),
		AnswerVocab: answers, Features: store, FeaturesPath: l.Features(synthetic.FormatNPZ), Tokenizer: tok,
		ImageKeyFormat: synthetic.FeatureKeyFormat})
	if err != nil {
		t.Fatal(err)
	}
	builder, err := batch.NewBuilder(batch.Config{BatchSize: 1, TextLen: tinyTextLen, NumRegions: tinyRegions, FeatDim: tinyImgDim,
		NumAnswers: answers.Len(), Bucket: 1, Tokens: batch.TokenIDsOf(tok)}, set)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := builder.Build(batch.TaskVQA, []int{index}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}

	cfg := tinyModelConfig()
	ms := model.NewStore()
	rep, err := uniter.LoadWeights(ms, cfg, weights)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) > 0 || len(rep.Unexpected) > 0 {
		t.Fatalf("loading the weights: %s", rep)
	}
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := named.NewExec(be, ms, func(scope *model.Scope, in named.Nodes) named.Nodes {
		out := uniter.Backbone(scope, cfg, named.Bind[uniter.Inputs](in), uniter.Options{AttentionProbs: true})
		return named.Nodes{"attention": Stack(out.AttentionProbs, 0)}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(named.Tensors{
		"InputIDs": tensors.FromFlatDataAndDimensions(bt.InputIDs, 1, tinyTextLen),
		"TxtMask":  tensors.FromFlatDataAndDimensions(bt.TxtMask, 1, tinyTextLen),
		"ImgFeat":  tensors.FromFlatDataAndDimensions(bt.ImgFeat, 1, tinyRegions, tinyImgDim),
		"ImgPos":   tensors.FromFlatDataAndDimensions(bt.ImgPos, 1, tinyRegions, 7),
		"ImgMask":  tensors.FromFlatDataAndDimensions(bt.ImgMask, 1, tinyRegions)})
	if err != nil {
		t.Fatal(err)
	}
	all := outs["attention"].Value().([][][][][]float32) // [layers, B, heads, L, L]
	probs := make([][][][]float32, len(all))
	for layer := range all {
		probs[layer] = all[layer][0]
	}
	return probs, bt, tok
}

// TestHeatmapIsTheModelsAttention checks that the pictures of DrawAttention — drawn from the runner's attention
// for a val question — show the model's attention probabilities. The runner starts from random weights written to
// an npz file (run_type=val, checkpoint.resume_file); the same probabilities computed independently (own data
// loading, batch, weight loading and uniter.Backbone call) agree element-wise with the matrix the heat map was
// drawn from, for every layer and head, and the heat map's cells carry those values.
func TestHeatmapIsTheModelsAttention(t *testing.T) {
	work := t.TempDir()
	weights, err := randomWeights(tinyModelConfig())
	if err != nil {
		t.Fatal(err)
	}
	npz := filepath.Join(work, "weights.npz")
	if err := numpy.ToNpzFile(weights, npz); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Config: "../synthetic/vqa.yaml", Overrides: append(tinyOverrides(work),
		"run_type=val", "checkpoint.resume_file="+npz)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Log = io.Discard
	const index = 1
	am, err := r.Attention(runner.SplitVal, index)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	probs, bt, tok := independentAttention(t, filepath.Join(work, "data"), weights, index)

	txtLen, nbb := 0, 0
	var tokens []string
	for i, m := range bt.TxtMask {
		if m > 0 {
			txtLen++
			s, err := tok.Token(bt.InputIDs[i])
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, s)
		}
	}
	for _, m := range bt.ImgMask {
		if m > 0 {
			nbb++
		}
	}
	if !slices.Equal(am.Tokens, tokens) || len(am.Boxes) != nbb {
		t.Fatalf("runner example: tokens %q and %d boxes; independent batch: tokens %q and %d regions", am.Tokens, len(am.Boxes), tokens, nbb)
	}
	if nbb < 2 || txtLen < 4 {
		t.Fatalf("example too small to test: %d tokens, %d regions", txtLen, nbb)
	}
	for layer := range tinyLayers {
		for head := AllHeads; head < tinyHeads; head++ {
			want := textToRegion(probs, layer, head, txtLen, nbb)
			v, err := DrawAttention(am, layer, head)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(v.Matrix, want); d > 1e-5 {
				t.Errorf("layer %d head %d: the plotted matrix differs from the model's attention by %g", layer, head, d)
			}
			if got := heatmapValues(t, v.Heatmap); !closeSlice(got, flatten(v.Matrix), 1e-3) {
				t.Errorf("layer %d head %d: heat-map cells %v are not the matrix %v", layer, head, got, v.Matrix)
			}
		}
	}
	// The comparison can fail: another layer's or head's attention is not the same.
	v, _ := DrawAttention(am, 1, 0)
	for _, other := range [][2]int{{0, 0}, {1, 1}} {
		if d := maxDiff(v.Matrix, textToRegion(probs, other[0], other[1], txtLen, nbb)); d < 1e-3 {
			t.Errorf("layer 1 head 0 and layer %d head %d have the same attention (max diff %g): the test cannot tell them apart", other[0], other[1], d)
		}
	}
}

// textToRegion reads the expected heat map straight from the padded probabilities [layers][heads][L][L]: the
// queries of the txtLen real tokens, the keys of the nbb real regions (which start at tinyTextLen), one head or
// the mean of all.
func textToRegion(probs [][][][]float32, layer, head, txtLen, nbb int) [][]float32 {
	heads := []int{head}
	if head == AllHeads {
		heads = heads[:0]
		for h := range tinyHeads {
			heads = append(heads, h)
		}
	}
	m := make([][]float32, txtLen)
	for q := range m {
		m[q] = make([]float32, nbb)
		for r := range m[q] {
			for _, h := range heads {
				m[q][r] += probs[layer][h][q][tinyTextLen+r] / float32(len(heads))
			}
		}
	}
	return m
}

func maxDiff(a, b [][]float32) float32 {
	if len(a) != len(b) {
		return float32(1e30)
	}
	var d float32
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return float32(1e30)
		}
		for j := range a[i] {
			d = max(d, a[i][j]-b[i][j], b[i][j]-a[i][j])
		}
	}
	return d
}

func TestWriteRunReport(t *testing.T) {
	work := tinyRun(t)
	out := t.TempDir()
	files, err := WriteRunReport(filepath.Join(work, "run"), out, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"accuracy.svg", "attention_boxes.png", "attention_grid.html", "attention_heatmap.svg", "attention_tokens.html",
		"curves.svg", "index.html", "tasks.html"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"train/logit_bce", "val/vqa_accuracy", "data:image/png;base64,", "<th", "VQA accuracy", "mean of 4 heads"} {
		if !strings.Contains(string(index), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	for _, s := range []string{`src="http`, `href="http`, "<script", "<link"} {
		if strings.Contains(string(index), s) {
			t.Errorf("index.html loads something (%s): it must render offline", s)
		}
	}
	if n := strings.Count(string(index), "<svg"); n < 2+2*(tinyHeads+1) {
		t.Errorf("index.html has %d SVGs, want the curves, the heat map and the grid", n)
	}
	img, err := LoadImage(filepath.Join(out, "attention_boxes.png"))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
		t.Errorf("attention_boxes.png is %v, want the 320×240 scene enlarged 2×", b)
	}
}
