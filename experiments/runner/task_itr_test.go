package runner

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/pydata"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// newITRRunner loads experiments/itr/synthetic.yaml with the tiny UNITER on 16 training and 6 val and test scenes
// of 2 captions each, 2 random negatives per group and 7 pairs per evaluation batch, plus extra overrides.
func newITRRunner(t *testing.T, dataDir, saveDir string, extra ...string) *Runner {
	t.Helper()
	over := append(tinyOverrides(dataDir, saveDir),
		"dataset_config.synthetic_itr.train=16", "dataset_config.synthetic_itr.val=6", "dataset_config.synthetic_itr.test=6",
		"dataset_config.synthetic_itr.per_image=2", "dataset_config.synthetic_itr.images=false",
		"dataset_config.synthetic_itr.scenes.feature_dim=16",
		"model_config.uniter.heads.synthetic_itr.negative_size=2", "model_config.uniter.heads.synthetic_itr.inf_minibatch_size=7",
		"training.checkpoint_interval=100")
	return loadRunner(t, filepath.Join("..", "itr", "synthetic.yaml"), append(over, extra...))
}

// TestRetrievalTrainValTest trains retrieval for a few updates and checks the whole-split evaluation: the recall
// of every evaluation against a brute-force ranking of the score matrix the test run writes, that matrix against
// scoring each caption alone (RetrieveImages), and the files in ORIG inf_itm.py's format read by Python.
func TestRetrievalTrainValTest(t *testing.T) {
	tmp := t.TempDir()
	save := filepath.Join(tmp, "run")
	r := newITRRunner(t, filepath.Join(tmp, "data"), save, "run_type=train_val_test", "training.max_updates=4",
		"training.evaluation_interval=2")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(save)
	if err != nil {
		t.Fatal(err)
	}
	var trainSteps, valSteps []int
	for _, rec := range recs {
		if loss, ok := rec.Metrics["train/synthetic_itr/rank_loss"]; ok {
			trainSteps = append(trainSteps, rec.Step)
			if loss < 0 || loss > 1.2 || math.IsNaN(loss) {
				t.Errorf("update %d: rank loss %v outside [0, 1 + margin]", rec.Step, loss)
			}
		}
		if _, ok := rec.Metrics["val/synthetic_itr/r_mean"]; ok {
			valSteps = append(valSteps, rec.Step)
		}
	}
	if !slices.Equal(trainSteps, []int{1, 2, 3, 4}) || !slices.Equal(valSteps, []int{2, 4, 4}) {
		t.Fatalf("train records at %v, val records at %v", trainSteps, valSteps)
	}

	// The files of the test evaluation, read by Python as ORIG's results.bin and scores.json are.
	prefix := filepath.Join(save, predictionsDir, "synthetic_itr_test")
	test, _ := r.data.Split(SplitTest)
	m := readRetrievalResults(t, prefix+"_results.bin")
	if len(m.TextIDs) != 12 || len(m.ImageIDs) != 6 || len(m.Scores) != 72 {
		t.Fatalf("results of %d captions × %d images (%d scores), want 12 × 6", len(m.TextIDs), len(m.ImageIDs), len(m.Scores))
	}
	for i, id := range m.TextIDs {
		if id != test.Examples[i].ID {
			t.Fatalf("caption %d is %s, want the split's %s", i, id, test.Examples[i].ID)
		}
	}
	var recall map[string]float64
	raw, err := os.ReadFile(prefix + "_scores.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &recall); err != nil {
		t.Fatal(err)
	}
	want := bruteForceRecall(m.Scores, m.TextIDs, m.ImageIDs, func(i int) string { return test.Examples[i].ImageKey })
	if len(recall) != len(want) {
		t.Errorf("scores.json has %v, want the keys of ORIG's itm_eval %v", recall, want)
	}
	for k, v := range want {
		if math.Abs(recall[k]-v) > 1e-12 || math.Abs(res.Final["test/synthetic_itr/"+k]-v) > 1e-12 {
			t.Errorf("%s: scores.json %v, final metric %v, brute force %v", k, recall[k], res.Final["test/synthetic_itr/"+k], v)
		}
	}

	// The attention maps of a caption with its image: the group's first row.
	am, err := r.Attention(SplitTest, 0)
	if err != nil {
		t.Fatal(err)
	}
	if am.Text != test.Examples[0].Text || am.Tokens[0] != "[CLS]" || len(am.Boxes) < 3 || len(am.Probs[0][0]) != len(am.Tokens)+len(am.Boxes) {
		t.Errorf("attention of %q: tokens %q, %d boxes, %d positions", am.Text, am.Tokens, len(am.Boxes), len(am.Probs[0][0]))
	}

	// Each caption scored alone against every image gives its row of the matrix.
	for i, ex := range test.Examples {
		ranked, err := r.RetrieveImages(SplitTest, ex.Text, 6)
		if err != nil {
			t.Fatal(err)
		}
		for k, im := range ranked {
			j := slices.Index(m.ImageIDs, im.Key)
			if got := m.Scores[i*6+j]; math.Abs(float64(got-im.Score)) > 1e-5 {
				t.Fatalf("caption %d image %s: %v in the matrix, %v scored alone", i, im.Key, got, im.Score)
			}
			if k > 0 && im.Score > ranked[k-1].Score {
				t.Fatalf("caption %d: images not ranked by score: %+v", i, ranked)
			}
		}
	}
}

// readRetrievalResults reads a results.bin with Python's pickle (ORIG inf_itm.py: (score matrix, caption ids,
// image ids)) and returns what Python found.
func readRetrievalResults(t *testing.T, path string) *retrievalMatrix {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy: %v", err)
	}
	const script = `import json, pickle, sys
import numpy as np
scores, txt_ids, img_ids = pickle.load(open(sys.argv[1], "rb"))
assert isinstance(scores, np.ndarray) and scores.dtype == np.float32 and scores.shape == (len(txt_ids), len(img_ids)), (type(scores), scores.dtype, scores.shape)
json.dump({"TextIDs": txt_ids, "ImageIDs": img_ids, "Scores": scores.ravel().tolist()}, sys.stdout)
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path).Output()
	if err != nil {
		t.Fatalf("python reading %s: %v", path, err)
	}
	var m retrievalMatrix
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// bruteForceRecall is ORIG's itm_eval by sorting: each caption's images and each image's captions are ordered by
// score (stable, so equal scores keep the lower index first, as torch.topk), and the recall at 1, 5 and 10 counts
// the captions whose image, and the images one of whose captions, come within the first K.
func bruteForceRecall(scores []float32, texts, images []string, imageOf func(i int) string) map[string]float64 {
	nt, ni := len(texts), len(images)
	r := map[string]float64{"txt_r1": 0, "txt_r5": 0, "txt_r10": 0, "img_r1": 0, "img_r5": 0, "img_r10": 0}
	for i := range nt {
		order := make([]int, ni)
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(scores[i*ni+a], scores[i*ni+b]) })
		rank := slices.IndexFunc(order, func(j int) bool { return images[j] == imageOf(i) })
		for _, k := range []int{1, 5, 10} {
			if rank < k {
				r["img_r"+itoa(k)] += 1 / float64(nt)
			}
		}
	}
	for j := range ni {
		order := make([]int, nt)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(scores[a*ni+j], scores[b*ni+j]) })
		rank := slices.IndexFunc(order, func(i int) bool { return imageOf(i) == images[j] })
		for _, k := range []int{1, 5, 10} {
			if rank < k {
				r["txt_r"+itoa(k)] += 1 / float64(ni)
			}
		}
	}
	r["txt_r_mean"] = (r["txt_r1"] + r["txt_r5"] + r["txt_r10"]) / 3
	r["img_r_mean"] = (r["img_r1"] + r["img_r5"] + r["img_r10"]) / 3
	r["r_mean"] = (r["txt_r_mean"] + r["img_r_mean"]) / 2
	return r
}

func cmpFloat(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func itoa(k int) string { return map[int]string{1: "1", 5: "5", 10: "10"}[k] }

// TestRetrievalHardNegatives checks the hard-negative step: its loss is the sum of the losses of the text-sampled
// and the image-sampled pool, each computed alone by uniter.ImageTextRetrievalHardNegatives, and training runs.
func TestRetrievalHardNegatives(t *testing.T) {
	tmp := t.TempDir()
	r := newITRRunner(t, filepath.Join(tmp, "data"), filepath.Join(tmp, "run"), "run_type=train", "training.max_updates=3",
		"model_config.uniter.heads.synthetic_itr.negative_size=5", "model_config.uniter.heads.synthetic_itr.hard_neg_size=2",
		"training.batch_size=2")
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk := r.tasks[0]
	it, err := r.iterator(tk, 0, SplitTrain, true, batch.State{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	bt, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	if bt.GroupSize != 12 || bt.Size != 24 {
		t.Fatalf("hard-negative batch of %d rows in groups of %d, want 2 examples × 2 pools × 6", bt.Size, bt.GroupSize)
	}
	ex, err := r.execsFor(tk)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := call(ex.eval, tk, bt)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := r.evalEnv(tk, SplitTrain, false).exec("pool_loss", func(scope *model.Scope, cfg uniter.Config, in named.Nodes) named.Nodes {
		x := named.Bind[uniter.Inputs](in)
		out := uniter.ImageTextRetrievalHardNegatives(scope, cfg, uniter.RetrievalConfig{Margin: 0.2, HardNegSize: 2},
			uniter.HardNegativeInputs{Inputs: x, PoolSize: 6})
		return named.Nodes{"loss": out.Loss}
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for p := range 4 { // example 0 text pool, example 0 image pool, example 1 text pool, example 1 image pool
		rows := []int{6 * p, 6*p + 1, 6*p + 2, 6*p + 3, 6*p + 4, 6*p + 5}
		one, err := bt.SelectRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		o, err := pool.Call(backboneInputs(one))
		if err != nil {
			t.Fatal(err)
		}
		sum += scalar(o["loss"]) / 2 // the mean over the 2 examples
	}
	if got := scalar(outs["loss"]); math.Abs(got-sum) > 1e-5 || got <= 0 {
		t.Fatalf("hard-negative loss %v, want the sum of the two pools' losses averaged over the examples %v", got, sum)
	}
}

// TestRetrievalHeadFromITM starts retrieval from a pretrained checkpoint with backbone weights only: rank_output is
// row 1 (the "matched" logit) of the checkpoint's itm_output, as ORIG's init_output sets it.
func TestRetrievalHeadFromITM(t *testing.T) {
	tmp := t.TempDir()
	const h = 32
	w, b := make([]float32, 2*h), []float32{-0.5, 0.75}
	for i := range w {
		w[i] = float32(i) / 100
	}
	arrs := map[string]*pydata.Array{
		"itm_output.weight": pydata.Float32Array("<f4", []int{2, h}, w), "itm_output.bias": pydata.Float32Array("<f4", []int{2}, b),
	}
	ckpt := filepath.Join(tmp, "pretrained.npz")
	f, err := os.Create(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if err := pydata.EncodeNPZ(f, []string{"itm_output.weight", "itm_output.bias"}, arrs, false); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := newITRRunner(t, filepath.Join(tmp, "data"), filepath.Join(tmp, "run"), "run_type=train",
		"checkpoint.resume_file="+ckpt, "checkpoint.resume_pretrained=true")
	for key, want := range map[string][]float32{"rank_output.weight": w[h:], "rank_output.bias": b[1:]} {
		v := r.store.GetVariable(uniter.VariablePath(key))
		if v == nil {
			t.Fatalf("%s not created", key)
		}
		if got := tensors.MustCopyFlatData[float32](v.MustValue()); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want itm_output row 1 %v", key, got, want)
		}
	}
}

// TestRetrievalConfigs reads experiments/itr/defaults.yaml and hard_negatives.yaml: ORIG's Flickr30K settings of
// config/train-itm-flickr-base-8gpu.json and config/train-itm-flickr-base-16gpu-hn.json, as the runner takes them.
func TestRetrievalConfigs(t *testing.T) {
	for _, c := range []struct {
		file                                        string
		negatives, hard, batch, freq, steps, warmup int
	}{
		{"defaults.yaml", 1, 0, 1280, 32, 20000, 2000},
		{"hard_negatives.yaml", 399, 31, 128, 128, 5000, 500},
	} {
		cfg, err := config.Load(config.LoadOptions{Config: filepath.Join("..", "itr", c.file)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := readSettings(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var h retrievalHead
		if err := cfg.Decode("model_config.uniter.heads.itm", &h); err != nil {
			t.Fatal(err)
		}
		mc := s.modelConfig
		if h.Type != "itr" || h.Margin != 0.2 || h.NegativeSize != c.negatives || h.HardNegSize != c.hard {
			t.Errorf("%s: head %+v", c.file, h)
		}
		if s.dataset != "itm" || s.lr != 5e-5 || s.wd != 0.01 || !slices.Equal(s.betas, []float64{0.9, 0.98}) || !s.clip ||
			s.maxGradNorm != 2 || s.batchSize != c.batch || s.updateFrequency != c.freq || s.maxUpdates != c.steps ||
			s.warmup != c.warmup || s.criteria != "itm/r_mean" || s.minimize || !s.resumePretrained {
			t.Errorf("%s: settings %+v", c.file, s)
		}
		if mc.HiddenSize != 768 || mc.NumHiddenLayers != 12 || mc.VocabSize != 28996 || mc.HiddenDropoutProb != 0.1 || mc.ImgDim != 2048 {
			t.Errorf("%s: model %+v", c.file, mc.Config)
		}
	}
}
