package runner

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// mmfData generates a synthetic dataset and writes it in MMF's data layout with the real Python writers
// (testdata/write_mmf_data.py: np.save, lmdb, pickle), and a bert-base-cased vocabulary for its words into a
// Hugging Face cache that HF_HUB_CACHE points at. It returns MMF_DATA and the generated dataset.
func mmfData(t *testing.T, cfg synthetic.Config) (string, *synthetic.Dataset) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy, lmdb").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy and lmdb: %v", err)
	}
	ds, err := synthetic.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src, mmf := filepath.Join(tmp, "synthetic"), filepath.Join(tmp, "mmf")
	if err := ds.Write(src, synthetic.FormatNPZ); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/python3", "testdata/write_mmf_data.py", src, mmf).CombinedOutput(); err != nil {
		t.Fatalf("write_mmf_data.py: %v\n%s", err, out)
	}
	// A cased vocabulary holding every word of the questions and captions as written, as bert-base-cased's would.
	words := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", "?", ".", ","}
	for _, split := range synthetic.Splits {
		var texts []string
		for _, q := range ds.Questions[split].Questions {
			texts = append(texts, q.Question)
		}
		for _, c := range ds.Captions[split].Annotations {
			texts = append(texts, c.Caption)
		}
		for _, s := range texts {
			for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '?' || r == '.' || r == ',' }) {
				if !slices.Contains(words, w) {
					words = append(words, w)
				}
			}
		}
	}
	cache := filepath.Join(tmp, "hf")
	snap := filepath.Join(cache, "models--bert-base-cased", "snapshots", "0123abc")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, "vocab.txt"), []byte(strings.Join(words, "\n")+"\n"), 0o644)
	os.MkdirAll(filepath.Join(cache, "models--bert-base-cased", "refs"), 0o755)
	os.WriteFile(filepath.Join(cache, "models--bert-base-cased", "refs", "main"), []byte("0123abc"), 0o644)
	t.Setenv("HF_HUB_CACHE", cache)
	return mmf, ds
}

// mmfRunner loads one of MMF's UNITER configs as the commands do (dataset=… model=uniter
// env.data_dir=$MMF_DATA) with only size overrides.
func mmfRunner(t *testing.T, yaml, dataset, mmf string, sizes ...string) *Runner {
	t.Helper()
	over := append([]string{"run_type=train_val", "dataset=" + dataset, "model=uniter", "env.data_dir=" + mmf,
		"env.save_dir=" + filepath.Join(t.TempDir(), "save")}, sizes...)
	return loadRunner(t, filepath.Join("..", yaml), over)
}

// modelSizes shrink UNITER-base to a small model on 32-d region features with 37 detector classes.
var modelSizes = []string{"model_config.uniter.hidden_size=64", "model_config.uniter.num_hidden_layers=2",
	"model_config.uniter.num_attention_heads=2", "model_config.uniter.intermediate_size=128",
	"model_config.uniter.img_dim=32", "model_config.uniter.img_label_dim=37", "training.num_workers=1"}

// TestMMFLayoutVQA2 trains experiments/vqa2/defaults.yaml on an MMF data directory written by Python's writers:
// the held-out VQA accuracy must end well above the best constant answer.
func TestMMFLayoutVQA2(t *testing.T) {
	// The toy task: two objects per scene and no background regions, so answers are read off two regions.
	cfg := synthetic.DefaultConfig()
	cfg.NumImages, cfg.FeatureDim, cfg.NumClasses = 400, 32, 37
	cfg.MinObjects, cfg.MaxObjects, cfg.BackgroundRegions = 2, 2, 0
	mmf, ds := mmfData(t, cfg)
	// MMF's optimizer and schedule (AdamW, lr 8e-5, warmup_linear over 5,000 updates), run for its first updates
	// with a shorter warmup.
	const updates = 500
	sizes := append(slices.Clone(modelSizes),
		"model_config.uniter.heads.vqa2.num_labels=0", "model_config.uniter.heads.vqa2.hidden_size=128",
		"dataset_config.vqa2.max_features=12", "dataset_config.vqa2.processors.text_processor.params.max_seq_length=20",
		"training.batch_size=32", "training.max_updates="+strconv.Itoa(updates), "scheduler.params.num_warmup_steps=10",
		"training.evaluation_interval=100", "training.log_interval=100", "training.checkpoint_interval=1000")
	start := time.Now()
	r := mmfRunner(t, "vqa2/defaults.yaml", "vqa2", mmf, sizes...)
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Final["val/vqa2/vqa_accuracy"]
	// Chance: the best single answer given to every validation question, scored with MMF's targets.
	answers, err := vqa.ReadMMFAnswerVocab(filepath.Join(mmf, "datasets/vqa2/defaults/extras/vocabs/answers_vqa.txt"))
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float64, answers.Len())
	anns := ds.Annotations[synthetic.SplitVal].Annotations
	for _, a := range anns {
		var raw []string
		for _, x := range a.Answers {
			raw = append(raw, x.Answer)
		}
		tg, _, _ := vqa.MMFTargets(answers, raw)
		for i, s := range tg {
			mean[i] += float64(s) / float64(len(anns))
		}
	}
	chance := slices.Max(mean)
	t.Logf("vqa2 on the MMF layout: %d val questions, held-out vqa_accuracy %.3f, best constant answer %.3f, %d updates in %s",
		len(anns), acc, chance, updates, time.Since(start).Round(time.Second))
	if math.IsNaN(acc) || acc < chance+0.2 {
		t.Errorf("held-out accuracy %.3f is not well above chance %.3f", acc, chance)
	}
	if tk, err := tokenizer.FromPretrained("bert-base-cased", nil); err != nil || tk.LowerCase() {
		t.Errorf("the run's tokenizer: %v %v", tk, err)
	}
}

// TestMMFLayoutMaskedCOCO pretrains through experiments/masked_coco/defaults.yaml (MLM, ITM, MRC, MRFR, WRA) on
// the same kind of directory for a few updates: every task's loss is finite.
func TestMMFLayoutMaskedCOCO(t *testing.T) {
	cfg := synthetic.DefaultConfig()
	cfg.NumImages, cfg.FeatureDim, cfg.NumClasses = 60, 32, 37
	mmf, _ := mmfData(t, cfg)
	sizes := append(slices.Clone(modelSizes), "dataset_config.masked_coco.max_features=12",
		"training.batch_size=8", "training.max_updates=6", "scheduler.params.num_training_steps=6",
		"scheduler.params.num_warmup_steps=2", "training.evaluation_interval=6", "training.log_interval=3",
		"training.checkpoint_interval=1000")
	r := mmfRunner(t, "masked_coco/defaults.yaml", "masked_coco", mmf, sizes...)
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var losses []string
	for k, v := range res.Final {
		if strings.HasPrefix(k, "val/masked_coco/") {
			losses = append(losses, k)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s = %v", k, v)
			}
		}
	}
	slices.Sort(losses)
	t.Logf("masked_coco on the MMF layout: final %v", res.Final)
	if len(losses) < 4 {
		t.Errorf("final evaluation has only %v", losses)
	}
}
