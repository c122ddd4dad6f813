package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/metrics"
)

// downstreamOverrides shrink experiments/<task>/synthetic.yaml to the tiny model and a synthetic task of 24 scenes
// (or pairs) for training and 6 for val and test, plus extra.
func downstreamOverrides(task, dataDir, saveDir string, extra ...string) []string {
	ds := "dataset_config.synthetic_" + task
	over := append(tinyOverrides(dataDir, saveDir), ds+".train=24", ds+".val=6", ds+".test=6", ds+".images=false",
		"training.max_updates=4", "training.evaluation_interval=2", "training.checkpoint_interval=2")
	return append(over, extra...)
}

// newDownstreamRunner loads experiments/<task>/synthetic.yaml with downstreamOverrides.
func newDownstreamRunner(t *testing.T, task, dataDir, saveDir string, extra ...string) *Runner {
	t.Helper()
	return loadRunner(t, filepath.Join("..", task, "synthetic.yaml"), downstreamOverrides(task, dataDir, saveDir, extra...))
}

// readResultsJSON reads a predictions file written as one JSON object.
func readResultsJSON[V any](t *testing.T, path string) map[string]V {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]V
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestVisualEntailmentRun trains, evaluates and tests SNLI-VE end to end: the val and test predictions files are
// ORIG's {id: label} JSON over every hypothesis, and the accuracy recomputed from the file is the reported one.
func TestVisualEntailmentRun(t *testing.T) {
	tmp := t.TempDir()
	r := newDownstreamRunner(t, "ve", filepath.Join(tmp, "data"), filepath.Join(tmp, "run"), "run_type=train_val_test")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{SplitVal, SplitTest} {
		preds := readResultsJSON[string](t, filepath.Join(res.SaveDir, "predictions", "synthetic_ve_"+split+"_results.json"))
		set := r.data.Splits[split]
		var correct float64
		for _, ex := range set.Examples {
			label, ok := preds[ex.ID]
			i := slices.Index(dataset.VELabels, label)
			if !ok || i < 0 {
				t.Fatalf("%s: hypothesis %s predicted %q", split, ex.ID, label)
			}
			correct += float64(ex.Targets[i])
		}
		acc := res.Final[split+"/synthetic_ve/ve_accuracy"]
		if len(preds) != set.Len() || math.Abs(correct/float64(set.Len())-acc) > 1e-9 {
			t.Errorf("%s: %d predictions for %d hypotheses, accuracy %g from the file, %g reported", split, len(preds),
				set.Len(), correct/float64(set.Len()), acc)
		}
	}
	am, err := r.Attention(SplitVal, 1)
	if err != nil {
		t.Fatal(err)
	}
	if am.Text != r.data.Splits[SplitVal].Examples[1].Text || len(am.Boxes) < 3 || !slices.Contains(dataset.VELabels, am.Predicted) {
		t.Errorf("attention of %q: %d boxes, prediction %q", am.Text, len(am.Boxes), am.Predicted)
	}
}

// TestNLVR2Runs trains each NLVR2 model end to end: the predictions files are ORIG's "identifier,True|False" CSV,
// which ORIG's official evaluation script (scripts/eval_nlvr2.py) scores with the accuracy the runner reports;
// the token type table has 3 rows; the paired model's attention is that of the left image's row.
func TestNLVR2Runs(t *testing.T) {
	tmp := t.TempDir()
	for _, model := range []string{"paired-attn", "paired", "triplet"} {
		t.Run(model, func(t *testing.T) {
			r := newDownstreamRunner(t, "nlvr2", filepath.Join(tmp, "data"), filepath.Join(tmp, model), "run_type=train_val",
				"model_config.uniter.heads.synthetic_nlvr2.model="+model)
			res, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.model.TypeVocabSize != 3 {
				t.Errorf("type_vocab_size %d, want 3", r.model.TypeVocabSize)
			}
			set := r.data.Pairs[SplitVal]
			annotations := filepath.Join(tmp, model+"_val.jsonl")
			var lines []string
			for _, ex := range set.Examples {
				lines = append(lines, fmt.Sprintf(`{"identifier": %q, "label": %q}`, ex.ID, nlvr2Label(ex.Label)))
			}
			if err := os.WriteFile(annotations, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			csv := res.Predictions
			if filepath.Base(csv) != "synthetic_nlvr2_val_results.csv" {
				t.Fatalf("predictions %s", csv)
			}
			f, err := os.Open(csv)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var ids []string
			for sc := bufio.NewScanner(f); sc.Scan(); {
				id, label, ok := strings.Cut(sc.Text(), ",")
				if !ok || (label != "True" && label != "False") {
					t.Fatalf("line %q is not identifier,True|False", sc.Text())
				}
				ids = append(ids, id)
			}
			if len(ids) != set.Len() || ids[0] != set.Examples[0].ID {
				t.Fatalf("%d lines (first %s) for %d statements (first %s)", len(ids), ids[0], set.Len(), set.Examples[0].ID)
			}
			out, err := exec.Command("/usr/bin/python3", "testdata/eval_nlvr2.py", csv, annotations).CombinedOutput()
			if err != nil {
				t.Fatalf("eval_nlvr2.py: %v\n%s", err, out)
			}
			var official float64
			if _, err := fmt.Sscanf(string(out), "accuracy=%g", &official); err != nil {
				t.Fatalf("eval_nlvr2.py printed %q", out)
			}
			if got := res.Final["val/synthetic_nlvr2/nlvr2_accuracy"]; math.Abs(got-official) > 1e-9 {
				t.Errorf("accuracy %g, official script %g", got, official)
			}
			am, err := r.Attention(SplitVal, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := 0 // regions of the left image (paired) or of both (triplet)
			for k, key := range set.Examples[0].ImageKeys {
				if f, err := r.data.ImageFeatures(SplitVal, key); err == nil && (k == 0 || model == "triplet") {
					want += f.NumBoxes
				}
			}
			if len(am.Boxes) != want || (am.Predicted != "True" && am.Predicted != "False") {
				t.Errorf("attention: %d boxes (want %d), prediction %q", len(am.Boxes), want, am.Predicted)
			}
		})
	}
}

// TestReferringExpressionRun trains on ground-truth regions and evaluates on detector regions: the predictions file
// is ORIG's {sentence id: {pred_box, tgt_box}} JSON, the accuracy recomputed from it with IoU > 0.5 is the reported
// one, and the rank loss trains too.
func TestReferringExpressionRun(t *testing.T) {
	tmp := t.TempDir()
	for _, loss := range []string{"cls", "rank"} {
		t.Run(loss, func(t *testing.T) {
			part := map[string]string{"cls": "cross_entropy", "rank": "rank_loss"}[loss]
			r := newDownstreamRunner(t, "refcoco", filepath.Join(tmp, "data"), filepath.Join(tmp, loss), "run_type=train_val",
				"model_config.uniter.heads.synthetic_refcoco.train_loss="+loss, "model_config.uniter.losses.synthetic_refcoco="+part)
			res, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			set := r.data.Refs[SplitVal]
			if set.GroundTruth || !r.data.Refs[SplitTrain].GroundTruth {
				t.Fatal("want training on ground-truth regions and evaluation on detector regions")
			}
			preds := readResultsJSON[refPrediction](t, res.Predictions)
			var correct float64
			for _, ex := range set.Examples {
				p, ok := preds[ex.ID]
				if !ok || p.TgtBox != [4]float32{float32(ex.TargetBox[0]), float32(ex.TargetBox[1]), float32(ex.TargetBox[2]), float32(ex.TargetBox[3])} {
					t.Fatalf("sentence %s: prediction %+v, target box %v", ex.ID, p, ex.TargetBox)
				}
				if metrics.RefCorrect(widen(p.PredBox), ex.TargetBox) {
					correct++
				}
			}
			acc := res.Final["val/synthetic_refcoco/re_accuracy"]
			if len(preds) != set.Len() || math.Abs(correct/float64(set.Len())-acc) > 1e-9 {
				t.Errorf("%d predictions for %d sentences, accuracy %g from the file, %g reported", len(preds), set.Len(),
					correct/float64(set.Len()), acc)
			}
			recs, err := ReadMetrics(res.SaveDir)
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := recs[0].Metrics["train/synthetic_refcoco/"+part]; !ok || !(l > 0) {
				t.Errorf("first training record %v lacks a positive %s", recs[0].Metrics, part)
			}
		})
	}
}
