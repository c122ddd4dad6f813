package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/experiments/config"
)

// TestDecodeModelConfig decodes model_config.uniter of the synthetic VQA experiment: every key of the YAML files
// reaches its field, and the keys UNITER fixes take their values.
func TestDecodeModelConfig(t *testing.T) {
	cfg, err := config.Load(config.LoadOptions{Config: "../synthetic/vqa.yaml",
		Overrides: []string{"model_config.uniter.itm_ot_lambda=0.25", "model_config.uniter.layer_norm_eps=1e-5"}})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := DecodeModelConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := mc.Config
	// tiny_model.yaml sets the sizes; vqa.yaml the task; the defaults the rest.
	if c.HiddenSize != 128 || c.NumHiddenLayers != 3 || c.NumAttentionHeads != 4 || c.IntermediateSize != 256 ||
		c.MaxPositionEmbeddings != 64 || c.VocabSize != 30522 || c.ImgDim != 64 || c.ImgLabelDim != 37 ||
		c.InitializerRange != 0.07 || c.HiddenDropoutProb != 0 || c.TypeVocabSize != 2 {
		t.Errorf("sizes %+v", c)
	}
	if c.ITMOTLambda != 0.25 || c.LayerNormEps != 1e-5 || c.HiddenAct != "gelu" || c.PosDim != 7 || c.NumAnswers != 0 {
		t.Errorf("itm_ot_lambda %g, layer_norm_eps %g, hidden_act %q, pos_dim %d, num_answers %d", c.ITMOTLambda,
			c.LayerNormEps, c.HiddenAct, c.PosDim, c.NumAnswers)
	}
	if mc.DoPretraining || len(mc.Tasks) != 1 || mc.Tasks[0] != "synthetic_vqa" || mc.MixRatios["mlm"] != 2 ||
		mc.ITMNegProb != 0.5 || mc.MaskProbability != 0.15 || mc.Losses["synthetic_vqa"] != "logit_bce" {
		t.Errorf("runner keys %+v", mc)
	}
}

// TestConfigErrorsNameTheKey checks the errors of the model and task configuration: each names its key.
func TestConfigErrorsNameTheKey(t *testing.T) {
	tmp := t.TempDir()
	vqa, err := filepath.Abs("../synthetic/vqa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	misspelt := filepath.Join(tmp, "misspelt.yaml")
	if err := os.WriteFile(misspelt, []byte("includes: ["+vqa+"]\nmodel_config: {uniter: {hiden_size: 64}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(tmp, "data")
	for _, tc := range []struct {
		name, yaml string
		overrides  []string
		want       []string
	}{
		{"misspelt model key", misspelt, nil, []string{"config key model_config.uniter.hiden_size: unknown key", "hidden_size"}},
		{"unknown head type", "vqa.yaml", []string{"model_config.uniter.heads.synthetic_vqa.type=nlvr9"},
			[]string{"model_config.uniter.heads.synthetic_vqa.type", `"nlvr9"`, "mlp", "mrfr"}},
		{"head key of another task", "vqa.yaml", []string{"model_config.uniter.heads.synthetic_vqa.type=mrc"},
			[]string{"model_config.uniter.heads.synthetic_vqa.hidden_size: unknown key", "use_kl"}},
		{"task on the wrong data", "pretrain.yaml", []string{"model_config.uniter.heads.itm.type=mlp"},
			[]string{"model_config.uniter.heads.itm.type", "vqa", "synthetic_captions holds captions"}},
		{"metric no task reports", "vqa.yaml", []string{"evaluation.metrics=[itm_accuracy]"},
			[]string{"evaluation.metrics", "itm_accuracy", "vqa_accuracy"}},
		{"answers", "vqa.yaml", []string{"model_config.uniter.heads.synthetic_vqa.num_labels=3"},
			[]string{"model_config.uniter.heads.synthetic_vqa.num_labels: 3", "answers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.yaml
			if !filepath.IsAbs(file) {
				file = filepath.Join("..", "synthetic", file)
			}
			over := append(tinyOverrides(data, filepath.Join(tmp, "save")), "dataset_config.synthetic_vqa.num_images=40",
				"model_config.uniter.heads.synthetic_vqa.hidden_size=64")
			if tc.yaml == "pretrain.yaml" {
				over = append(tinyOverrides(data, filepath.Join(tmp, "save")), "dataset_config.synthetic_captions.num_images=40")
			}
			cfg, err := config.Load(config.LoadOptions{Config: file, Overrides: append(over, tc.overrides...)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(cfg)
			if err == nil {
				r.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
