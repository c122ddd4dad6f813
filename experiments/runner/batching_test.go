package runner

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/experiments/config"
)

// TestTokenBucketBatches checks the runner's token-bucket batching (training.batching.tokens) on SNLI-VE and on
// VQA (the batch builder's tasks): every batch holds at most the configured tokens, padding included, its shape
// is one of the buckets, an evaluation pass over the training split holds every example once, and updates of two
// micro-batches train. Buckets that cannot hold the largest row are an error naming the key.
func TestTokenBucketBatches(t *testing.T) {
	tmp := t.TempDir()
	const tokens = 240
	for _, tc := range []struct{ name, yaml string }{{"ve", "ve"}, {"vqa", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			over := []string{"training.batching.tokens=240", "training.batching.size_multiple=2", "training.batching.text_buckets=[8,16,32]",
				"training.batching.region_buckets=[4,10]", "training.update_frequency=2", "training.max_updates=3", "run_type=train"}
			var r *Runner
			if tc.yaml == "" {
				r = newTinyRunner(t, "vqa.yaml", filepath.Join(tmp, "data"), filepath.Join(tmp, tc.name), over...)
			} else {
				r = newDownstreamRunner(t, tc.yaml, filepath.Join(tmp, "data"), filepath.Join(tmp, tc.name), over...)
			}
			it, err := r.iterator(r.tasks[0], 0, SplitTrain, false, batch.State{})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			seen := map[string]int{}
			shapes := map[[3]int]bool{}
			for {
				b, err := it.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if b.Size*(b.TextLen+b.NumRegions) > tokens || !slices.Contains([]int{8, 16, 32}, b.TextLen) || !slices.Contains([]int{4, 10}, b.NumRegions) {
					t.Fatalf("batch of %d rows × (%d + %d) tokens, limit %d, buckets [8 16 32] × [4 10]", b.Size, b.TextLen, b.NumRegions, tokens)
				}
				shapes[[3]int{b.Size, b.TextLen, b.NumRegions}] = true
				for row, ok := range b.ExampleOK {
					if ok {
						seen[b.ExampleIDs[row]]++
					}
				}
			}
			if n := r.data.NumExamples(SplitTrain); len(seen) != n {
				t.Errorf("evaluation batches hold %d of the %d examples", len(seen), n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("example %s batched %d times", id, k)
				}
			}
			if len(shapes) > 6 {
				t.Errorf("%d shapes, more than the 3 × 2 buckets: %v", len(shapes), shapes)
			}
			res, err := r.Run(context.Background())
			if err != nil || res.Step != 3 {
				t.Fatalf("training %v, %d updates", err, res.Step)
			}
		})
	}
	r := newDownstreamRunner(t, "refcoco", filepath.Join(tmp, "data"), filepath.Join(tmp, "small"), "training.batching.region_buckets=[4,8]")
	if _, err := r.iterator(r.tasks[0], 0, SplitVal, false, batch.State{}); err == nil ||
		!strings.Contains(err.Error(), "training.batching.region_buckets: [4 8]") || !strings.Contains(err.Error(), "10") {
		t.Errorf("region buckets below the 10 regions of a row: %v", err)
	}
}

// TestAdversarialFinetuningRun trains VQA, SNLI-VE and NLVR2 with VILLA's adversarial finetuning: the first update
// reports the clean task loss of plain finetuning from the same start, plus the KL term; a task VILLA does not
// train is an error naming the key.
func TestAdversarialFinetuningRun(t *testing.T) {
	tmp := t.TempDir()
	villa := []string{"model_config.uniter.adversarial.adv_training=true", "model_config.uniter.adversarial.adv_modality=[text,image]",
		"model_config.uniter.adversarial.adv_lr_txt=0.1", "model_config.uniter.adversarial.adv_lr_img=0.1"}
	for _, task := range []string{"vqa", "ve", "nlvr2"} {
		t.Run(task, func(t *testing.T) {
			first := func(name string, extra ...string) map[string]float64 {
				over := append([]string{"run_type=train", "training.max_updates=1", "training.lr_scheduler=false"}, extra...)
				var r *Runner
				if task == "vqa" {
					r = newTinyRunner(t, "vqa.yaml", filepath.Join(tmp, "data"), filepath.Join(tmp, task+name), over...)
				} else {
					r = newDownstreamRunner(t, task, filepath.Join(tmp, "data"), filepath.Join(tmp, task+name), over...)
				}
				if _, err := r.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				recs, err := ReadMetrics(r.SaveDir())
				if err != nil {
					t.Fatal(err)
				}
				return recs[0].Metrics
			}
			plain, adv := first("plain"), first("villa", villa...)
			part := "train/synthetic_" + task + "/" + map[string]string{"vqa": "logit_bce", "ve": "logit_bce", "nlvr2": "cross_entropy"}[task]
			kl := adv["train/synthetic_"+task+"/adv_kl"]
			if math.Abs(adv[part]-plain[part]) > 1e-5*plain[part] || !(kl > 0) {
				t.Errorf("first update: task loss %g with AFT, %g without; KL term %g (want equal losses, KL > 0)", adv[part], plain[part], kl)
			}
			if adv["train/total_loss"] == plain["train/total_loss"] {
				t.Error("the adversarial loss equals the plain loss")
			}
		})
	}
	cfg, err := config.Load(config.LoadOptions{Config: "../refcoco/synthetic.yaml",
		Overrides: downstreamOverrides("refcoco", filepath.Join(tmp, "data"), filepath.Join(tmp, "re"), villa...)})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := New(cfg); err == nil || !strings.Contains(err.Error(), "model_config.uniter.adversarial.adv_training") {
		if r != nil {
			r.Close()
		}
		t.Errorf("adv_training with referring expressions: %v", err)
	}
}
