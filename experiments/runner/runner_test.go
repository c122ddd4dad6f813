package runner

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/uniter"
)

// tinyOverrides shrink the synthetic experiments to a 1-layer, 32-wide UNITER on 40 images.
func tinyOverrides(dataDir, saveDir string) []string {
	return []string{
		"model_config.uniter.hidden_size=32", "model_config.uniter.num_hidden_layers=1",
		"model_config.uniter.num_attention_heads=2", "model_config.uniter.intermediate_size=64",
		"model_config.uniter.img_dim=16", "training.batch_size=8", "training.log_interval=1", "training.num_workers=1",
		"scheduler.params.num_warmup_steps=2", "env.save_dir=" + saveDir, "env.data_dir=" + dataDir,
	}
}

// newTinyRunner loads an experiment YAML of experiments/synthetic with the tiny overrides plus extra.
func newTinyRunner(t *testing.T, yaml, dataDir, saveDir string, extra ...string) *Runner {
	t.Helper()
	over := append(tinyOverrides(dataDir, saveDir), extra...)
	if yaml == "vqa.yaml" {
		over = append(over, "dataset_config.synthetic_vqa.num_images=40", "model_config.uniter.heads.synthetic_vqa.hidden_size=64")
	} else {
		over = append(over, "dataset_config.synthetic_captions.num_images=40")
	}
	cfg, err := config.Load(config.LoadOptions{Config: filepath.Join("..", "synthetic", yaml), Overrides: over})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Log = testWriter{t}
	t.Cleanup(func() { r.Close() })
	return r
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func TestRunnerTrainValPredictAttention(t *testing.T) {
	tmp := t.TempDir()
	save := filepath.Join(tmp, "run")
	r := newTinyRunner(t, "vqa.yaml", filepath.Join(tmp, "data"), save,
		"training.max_updates=6", "training.evaluation_interval=3", "training.checkpoint_interval=3")
	var logged []int
	r.OnLog = func(step int, m map[string]float64) { logged = append(logged, step) }
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 6 || res.SaveDir != save {
		t.Fatalf("result %+v", res)
	}
	acc, ok := res.Final["val/synthetic_vqa/vqa_accuracy"]
	if !ok || acc < 0 || acc > 1 {
		t.Fatalf("final evaluation %v lacks a VQA accuracy in [0,1]", res.Final)
	}
	for _, f := range []string{"config.yaml", "current.ckpt", "best.ckpt", "models/model_3.ckpt", "models/model_6.ckpt"} {
		if _, err := os.Stat(filepath.Join(save, f)); err != nil {
			t.Errorf("save directory lacks %s: %v", f, err)
		}
	}
	recs, err := ReadMetrics(save)
	if err != nil {
		t.Fatal(err)
	}
	var trainSteps, valSteps []int
	for _, rec := range recs {
		if _, ok := rec.Metrics["train/synthetic_vqa/logit_bce"]; ok {
			trainSteps = append(trainSteps, rec.Step)
			if lr := rec.Metrics["train/lr"]; lr <= 0 || math.IsNaN(rec.Metrics["train/total_loss"]) {
				t.Errorf("step %d: bad train record %v", rec.Step, rec.Metrics)
			}
		}
		if _, ok := rec.Metrics["val/synthetic_vqa/vqa_accuracy"]; ok {
			valSteps = append(valSteps, rec.Step)
		}
	}
	if !slices.Equal(trainSteps, []int{1, 2, 3, 4, 5, 6}) || !slices.Equal(valSteps, []int{3, 6, 6}) {
		t.Fatalf("train records at %v, val records at %v", trainSteps, valSteps)
	}
	if len(logged) != len(recs) {
		t.Errorf("OnLog called %d times for %d records", len(logged), len(recs))
	}

	preds, err := r.Predict(SplitVal, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != 5 || preds[0].Question == "" || len(preds[0].Answers) != 10 || preds[0].ImagePath == "" {
		t.Fatalf("predictions %+v", preds)
	}
	if _, ok := r.data.Answers.Index(preds[0].Predicted); !ok {
		t.Errorf("predicted %q is not in the answer vocabulary", preds[0].Predicted)
	}

	am, err := r.Attention(SplitVal, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := len(am.Tokens) + len(am.Boxes)
	if am.Tokens[0] != "[CLS]" || am.Tokens[len(am.Tokens)-1] != "[SEP]" || len(am.Boxes) < 3 {
		t.Fatalf("attention tokens %q, %d boxes", am.Tokens, len(am.Boxes))
	}
	if len(am.Probs) != 1 || len(am.Probs[0]) != 2 || len(am.Probs[0][0]) != n || len(am.Probs[0][0][0]) != n {
		t.Fatalf("attention probabilities not [1][2][%d][%d]", n, n)
	}
	for q, row := range am.Probs[0][1] {
		var sum float64
		for _, p := range row {
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("attention row %d sums to %v over the real positions", q, sum)
		}
	}
}

func TestRunnerTestWritesOfficialResults(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	first := newTinyRunner(t, "vqa.yaml", data, filepath.Join(tmp, "train"), "training.max_updates=3", "run_type=train")
	if _, err := first.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(tmp, "train", currentName)
	r := newTinyRunner(t, "vqa.yaml", data, filepath.Join(tmp, "test"), "run_type=test", "checkpoint.resume_file="+ckpt)
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 3 {
		t.Errorf("test run restored update %d, want 3 (full state from a checkpoint of the same model)", res.Step)
	}
	results, err := vqa.ReadResults(res.Predictions)
	if err != nil {
		t.Fatal(err)
	}
	test, _ := r.data.Split(SplitTest)
	if len(results) != len(test.Examples) || results[0].QuestionID != test.Examples[0].QuestionID {
		t.Fatalf("%d results for %d test questions", len(results), len(test.Examples))
	}
	raw, err := os.ReadFile(res.Predictions)
	if err != nil {
		t.Fatal(err)
	}
	var generic []map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil || len(generic[0]) != 2 || generic[0]["answer"] == nil {
		t.Fatalf("results are not the official [{question_id, answer}] list: %v %v", err, generic[0])
	}
	if _, ok := res.Final["test/synthetic_vqa/vqa_accuracy"]; !ok {
		t.Errorf("the annotated synthetic test split was not scored: %v", res.Final)
	}
}

func TestPretrainThenFinetuneLoadsBackboneOnly(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	pre := newTinyRunner(t, "pretrain.yaml", data, filepath.Join(tmp, "pre"), "training.max_updates=3", "run_type=train",
		"model_config.uniter.tasks=[mlm,mrfr]")
	if _, err := pre.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(tmp, "pre", currentName)
	ts, _, _, err := readCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	ft := newTinyRunner(t, "vqa.yaml", data, filepath.Join(tmp, "ft"), "checkpoint.resume_file="+ckpt, "checkpoint.resume_pretrained=true")
	if ft.state.Step != 0 {
		t.Fatalf("finetuning starts at update %d, want 0", ft.state.Step)
	}
	for _, key := range []string{"uniter.pooler.dense.weight", "uniter.img_embeddings.img_linear.weight", "uniter.encoder.layer.0.output.dense.bias"} {
		path := uniter.VariablePath(key)
		v := ft.store.GetVariable(path)
		if v == nil || !equalBytes(t, v.MustValue(), ts[path]) {
			t.Errorf("%s not loaded from the pretraining checkpoint", key)
		}
	}
	for _, path := range []string{"/cls/predictions/bias", "/feat_regress/bias", statePath(firstMoment, "/uniter/pooler/dense/weight")} {
		if ft.store.GetVariable(path) != nil {
			t.Errorf("%s was loaded into the finetuning model", path)
		}
	}
}

// TestEvaluationSeesLatestWeights guards against evaluation graphs that keep the weights of their first call: GoMLX's
// Go backend bakes the variables of a non-training graph in as constants unless they are made parameters.
func TestEvaluationSeesLatestWeights(t *testing.T) {
	tmp := t.TempDir()
	r := newTinyRunner(t, "vqa.yaml", filepath.Join(tmp, "data"), filepath.Join(tmp, "run"),
		"training.max_updates=3", "training.evaluation_interval=100", "training.checkpoint_interval=100")
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The evaluation graph is compiled now, when every variable has a value.
	trained, err := r.Evaluate(SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	// Setting the VQA output layer to zero makes every logit 0: the loss is then exactly A·ln 2 per example.
	for _, key := range []string{"vqa_output.3.weight", "vqa_output.3.bias"} {
		v := r.store.GetVariable(uniter.VariablePath(key))
		v.MustSetValue(tensors.FromShape(v.Shape()))
	}
	zeroed, err := r.Evaluate(SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	key, want := "val/synthetic_vqa/logit_bce", float64(r.model.NumAnswers)*math.Ln2
	if got := zeroed[key]; math.Abs(got-want) > 1e-4*want {
		t.Fatalf("with a zero output layer the evaluation loss is %.6f (%.6f before), want A·ln 2 = %.6f: the evaluation graph does not see the latest weights",
			got, trained[key], want)
	}
}
