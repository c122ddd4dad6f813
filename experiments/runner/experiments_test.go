package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/uniter-go/uniter/experiments/config"
)

// TestExperimentConfigsHaveORIGValues loads the experiment configs of the downstream tasks and checks every
// hyper-parameter against the original configuration file they follow (testdata/orig: ORIG's config/train-*.json
// and VILLA's config/train-*-adv.json, unchanged). ORIG's batch per GPU and accumulation steps become
// update_frequency = accumulation steps × GPUs micro-batches of the same size on one device.
func TestExperimentConfigsHaveORIGValues(t *testing.T) {
	for _, tc := range []struct {
		yaml, orig, task string
		gpus             int
	}{
		{"../ve/defaults.yaml", "train-ve-base-2gpu.json", "ve", 2},
		{"../nlvr2/defaults.yaml", "train-nlvr2-base-1gpu.json", "nlvr2", 1},
		{"../refcoco/defaults.yaml", "train-refcoco-base-1gpu.json", "refcoco", 1},
		{"../ve/villa_base.yaml", "villa-train-ve-base-2gpu-adv.json", "ve", 2},
		{"../nlvr2/villa_base.yaml", "villa-train-nlvr2-base-1gpu-adv.json", "nlvr2", 1},
		{"../vqa2/villa_base.yaml", "villa-train-vqa-base-4gpu-adv.json", "vqa2", 4},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "orig", tc.orig))
			if err != nil {
				t.Fatal(err)
			}
			var orig map[string]any
			if err := json.Unmarshal(b, &orig); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.LoadOptions{Config: tc.yaml})
			if err != nil {
				t.Fatal(err)
			}
			s, err := readSettings(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.dataset != tc.task {
				t.Errorf("dataset %s, want %s", s.dataset, tc.task)
			}
			num := func(key string) float64 { return orig[key].(float64) }
			head := "model_config.uniter.heads." + tc.task + "."
			mc := s.modelConfig
			check := func(what string, got, want any) {
				t.Helper()
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("%s = %s, ORIG %s", what, g, w)
				}
			}
			check("optimizer.params.lr", s.lr, num("learning_rate"))
			check("optimizer.params.betas", s.betas, orig["betas"])
			check("optimizer.params.weight_decay", s.wd, num("weight_decay"))
			check("optimizer.params.eps (ORIG AdamW's)", s.eps, 1e-6)
			check("training.max_grad_l2_norm", s.maxGradNorm, num("grad_norm"))
			check("training.clip_gradients", s.clip, true)
			check("scheduler.params.num_warmup_steps", s.warmup, num("warmup_steps"))
			check("training.max_updates", s.maxUpdates, num("num_train_steps"))
			check("scheduler.params.num_training_steps", s.total, num("num_train_steps"))
			check("training.lr_scheduler", s.lrScheduler, true)
			check("training.seed", s.seed, num("seed"))
			check("model_config.uniter.hidden_dropout_prob", mc.HiddenDropoutProb, num("dropout"))
			check("model_config.uniter.attention_probs_dropout_prob", mc.AttentionProbsDropoutProb, num("dropout"))
			check("training.update_frequency", s.updateFrequency, int(num("gradient_accumulation_steps"))*tc.gpus)
			if tc.task == "refcoco" { // ORIG batches referring expressions by examples
				check("training.batch_size", s.batchSize, num("train_batch_size"))
				check("training.batching.tokens", s.batching.Tokens, 0)
			} else {
				check("training.batching.tokens", s.batching.Tokens, num("train_batch_size"))
				check("training.batching.val_tokens", s.batching.ValTokens, num("val_batch_size"))
			}
			if v, ok := orig["valid_steps"]; ok {
				check("training.evaluation_interval", s.evalInterval, v)
			}
			if tc.task != "vqa2" { // the vqa2 dataset reads MMF's files, not ORIG's txt_dbs
				maxTxtLen, err := cfg.Int("dataset_config." + tc.task + ".max_txt_len")
				if err != nil {
					t.Fatal(err)
				}
				check("max_txt_len", maxTxtLen, num("max_txt_len"))
			}
			lrMul := 1.0
			if v, ok := orig["lr_mul"]; ok {
				lrMul = v.(float64)
			}
			got, err := cfg.Float(head + "lr_multiplier")
			if err != nil {
				t.Fatal(err)
			}
			check(head+"lr_multiplier", got, lrMul)
			switch tc.task {
			case "nlvr2":
				model, _ := cfg.String(head + "model")
				imgType, _ := cfg.Bool(head + "use_img_type")
				check(head+"model", model, orig["model"])
				check(head+"use_img_type", imgType, orig["use_img_type"])
			case "refcoco":
				mlp, _ := cfg.Int(head + "mlp")
				check(head+"mlp", mlp, 1) // train_re.py's default; the RefCOCO config sets none
			}
			zoo := map[string]string{"/pretrain/uniter-base.pt": "uniter.pretrained", "/pretrain/villa-base.pt": "villa.pretrained"}
			check("checkpoint.resume_zoo", s.resumeZoo, zoo[orig["checkpoint"].(string)])
			check("checkpoint.resume_pretrained", s.resumePretrained, true)
			adv := mc.Adversarial
			if _, ok := orig["adv_training"]; !ok {
				check("model_config.uniter.adversarial.adv_training", adv.AdvTraining, false)
				return
			}
			ours, err := json.Marshal(adv)
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]any
			if err := json.Unmarshal(ours, &keys); err != nil {
				t.Fatal(err)
			}
			for key, v := range keys {
				check("model_config.uniter.adversarial."+key, v, orig[key])
			}
			if len(keys) != 8 || !slices.Contains(adv.AdvModality, "text") {
				t.Errorf("adversarial keys %v", keys)
			}
		})
	}
}
