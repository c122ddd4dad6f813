package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles writes name → content under dir (creating subdirectories) and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// clearEnv makes the ${env:...} defaults deterministic.
func clearEnv(t *testing.T) {
	for _, v := range []string{"MMF_CACHE_DIR", "MMF_DATA_DIR", "MMF_SAVE_DIR", "UNITER_ZOO_DIR"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", "/home/test")
}

// mustLoad loads or fails the test.
func mustLoad(t *testing.T, opts LoadOptions) *Config {
	t.Helper()
	c, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// check compares the value at key with want (ints, floats, strings, bools, string lists, float lists).
func check(t *testing.T, c *Config, key string, want any) {
	t.Helper()
	var got any
	var err error
	switch want.(type) {
	case int:
		got, err = c.Int(key)
	case float64:
		got, err = c.Float(key)
	case string:
		got, err = c.String(key)
	case bool:
		got, err = c.Bool(key)
	case []string:
		got, err = c.StringList(key)
	case []float64:
		got, err = c.FloatList(key)
	default:
		t.Fatalf("check %s: unsupported type %T", key, want)
	}
	if err != nil {
		t.Errorf("%s: %v", key, err)
	} else if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", key, got, want)
	}
}

// wantErr checks that err is non-nil and contains every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one containing %q", parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestIncludesAndMerge(t *testing.T) {
	clearEnv(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"base.yaml": `
datasets: synthetic_vqa
custom: {x: 1, y: 2, z: 3, list: [1, 2, 3], from: base}
training: {batch_size: 7}
`,
		"exp/parts/first.yaml": `
includes: [../../base.yaml]
custom: {y: 20, from: first, first_only: true}
`,
		"exp/parts/second.yaml": `
custom: {from: second}
`,
		"exp/top.yaml": `
includes: [parts/first.yaml, parts/second.yaml]
custom: {z: 30, list: [9]}
training: {max_updates: 11}
`,
	})
	c := mustLoad(t, LoadOptions{Config: filepath.Join(dir, "exp/top.yaml")})
	check(t, c, "custom.x", 1)                // from base, two levels of includes down
	check(t, c, "custom.y", 20)               // first.yaml overrides the file it includes
	check(t, c, "custom.z", 30)               // the including file wins
	check(t, c, "custom.from", "second")      // includes merge in list order
	check(t, c, "custom.first_only", true)    // maps merge
	check(t, c, "training.batch_size", 7)     // user files override defaults
	check(t, c, "training.max_updates", 11)   //
	check(t, c, "training.log_interval", 100) // untouched defaults stay
	if l, _ := c.Get("custom.list"); !reflect.DeepEqual(l, []any{9}) {
		t.Errorf("custom.list = %v, want [9] (lists are replaced, not merged)", l)
	}
	if _, ok := c.Get("includes"); ok {
		t.Error("includes key left in the effective config")
	}
}

func TestListReplacementOverDefaults(t *testing.T) {
	clearEnv(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"u.yaml": `
datasets: vqa2
dataset_config: {vqa2: {annotations: {train: [a.npy]}}}
`})
	c := mustLoad(t, LoadOptions{Config: filepath.Join(dir, "u.yaml")})
	check(t, c, "dataset_config.vqa2.annotations.train", []string{"a.npy"})
	check(t, c, "dataset_config.vqa2.annotations.val", []string{"vqa2/defaults/annotations/imdb_val2014.npy"})
}

func TestIncludeErrors(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"a.yaml":       "includes: [sub/b.yaml]\n",
		"sub/b.yaml":   "includes: [../a.yaml]\n",
		"missing.yaml": "includes: [nope.yaml]\n",
		"bad.yaml":     "includes: [sub/broken.yaml]\n",
		"sub/broken.yaml": `
ok: 1
bad: [1, 2
more: 3
`,
	})
	_, err := Load(LoadOptions{Config: filepath.Join(dir, "a.yaml")})
	wantErr(t, err, "include cycle", "a.yaml", "b.yaml")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "missing.yaml")})
	wantErr(t, err, "nope.yaml", "included by", "missing.yaml")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "bad.yaml")})
	wantErr(t, err, filepath.Join(dir, "sub", "broken.yaml"), "line ")
}

func TestMalformedYAMLNamesFileAndLine(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"bad.yaml":    "a: 1\nb: 2\nc 2\nd: 3\n",
		"scalar.yaml": "just a string\n",
	})
	_, err := Load(LoadOptions{Config: filepath.Join(dir, "bad.yaml")})
	wantErr(t, err, filepath.Join(dir, "bad.yaml"), "line 3")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "scalar.yaml")})
	wantErr(t, err, "scalar.yaml", "must be a mapping")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "absent.yaml")})
	wantErr(t, err, "absent.yaml")
}

func TestParseValue(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{"8e-5", 8e-5},
		{"3", 3},
		{"-1", -1},
		{"0.5", 0.5},
		{"True", true},
		{"true", true},
		{"FALSE", false},
		{"None", nil},
		{"null", nil},
		{"~", nil},
		{"[1, None, x]", []any{1, nil, "x"}},
		{"[]", []any{}},
		{"{a: 1, b: [True]}", map[string]any{"a": 1, "b": []any{true}}},
		{"'quoted # x'", "quoted # x"},
		{`"8e-5"`, "8e-5"},
		{"vqa2", "vqa2"},
		{"a #b", "a #b"},
		{"", ""},
		{"path/to/x.yaml", "path/to/x.yaml"},
		{"a: b", "a: b"},
		{"- x", "- x"},
		{"[unclosed", "[unclosed"},
		{"x=y", "x=y"},
		{"2001-12-14", "2001-12-14"},
		{"[2001-12-14, None]", []any{"2001-12-14", nil}},
	}
	for _, tc := range cases {
		if got := parseValue(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseValue(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Overrides: []string{
		"dataset=synthetic_vqa",
		"training.batch_size=32",
		"training.fp16=True",
		"training.lr_scheduler=true",
		"optimizer.params.lr=1e-3",
		"optimizer.params.betas[1]=0.999",
		"dataset_config.synthetic_vqa.train_fraction=0.5",
		"checkpoint.resume_file=None",
		"model_config.uniter.tasks=[a, b]",
		"evaluation.metrics=vqa_accuracy,itm_accuracy",
		"training.max_updates=123",
		"env.save_dir=/tmp/run=1",
	}})
	check(t, c, "datasets", []string{"synthetic_vqa"})
	check(t, c, "training.batch_size", 32)
	check(t, c, "training.fp16", true)
	check(t, c, "training.lr_scheduler", true)
	check(t, c, "optimizer.params.lr", 1e-3)
	check(t, c, "optimizer.params.betas", []float64{0.9, 0.999})
	check(t, c, "dataset_config.synthetic_vqa.train_fraction", 0.5)
	check(t, c, "dataset_config.synthetic_vqa.val_fraction", 0.1)
	check(t, c, "model_config.uniter.tasks", []string{"a", "b"})
	check(t, c, "evaluation.metrics", []string{"vqa_accuracy", "itm_accuracy"})
	check(t, c, "env.save_dir", "/tmp/run=1")
	if v, ok := c.Get("checkpoint.resume_file"); !ok || v != nil {
		t.Errorf("checkpoint.resume_file = %v, %v; want null", v, ok)
	}
	// Interpolations are resolved after the overrides: num_training_steps follows training.max_updates.
	check(t, c, "scheduler.params.num_training_steps", 123)
}

func TestOverrideErrors(t *testing.T) {
	clearEnv(t)
	load := func(o ...string) error {
		_, err := Load(LoadOptions{Overrides: append([]string{"dataset=vqa2"}, o...)})
		return err
	}
	wantErr(t, load("training.batchsize=3"), "training.batchsize", "did you mean training.batch_size")
	wantErr(t, load("trainig.seed=3"), "trainig", "did you mean training")
	wantErr(t, load("model_config.uniter.num_hiden_layers=3"), "model_config.uniter.num_hidden_layers")
	wantErr(t, load("optimizer.params.betas[2]=0.9"), "optimizer.params.betas[2]", "out of range")
	wantErr(t, load("training.seed.x=1"), "training.seed", "not a mapping")
	wantErr(t, load("training.batch_size"), "key=value")
	wantErr(t, load("a[x]=1"), "bad list index")
}

func TestUnknownModelAndDataset(t *testing.T) {
	clearEnv(t)
	_, err := Load(LoadOptions{Overrides: []string{"model=bert", "dataset=vqa2"}})
	wantErr(t, err, `"bert"`, "known: uniter")
	_, err = Load(LoadOptions{Overrides: []string{"dataset=vqa2,coco"}})
	wantErr(t, err, `"coco"`, "masked_coco", "synthetic_captions", "synthetic_vqa", "vqa2")
	_, err = Load(LoadOptions{})
	wantErr(t, err, "datasets", "no dataset", "vqa2")
	if got := KnownModels(); !reflect.DeepEqual(got, []string{"uniter"}) {
		t.Errorf("KnownModels() = %q", got)
	}
	if got := KnownDatasets(); !reflect.DeepEqual(got, []string{"itm", "masked_coco", "nlvr2", "refcoco", "synthetic_captions", "synthetic_itr",
		"synthetic_nlvr2", "synthetic_refcoco", "synthetic_ve", "synthetic_vqa", "ve", "vqa2"}) {
		t.Errorf("KnownDatasets() = %q", got)
	}
}

func TestMultipleDatasetsMerged(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Overrides: []string{"datasets=vqa2,masked_coco"}})
	check(t, c, "dataset_config.vqa2.max_seq_length", 60)
	check(t, c, "dataset_config.masked_coco.max_seq_length", 25)
}

func TestInterpolation(t *testing.T) {
	clearEnv(t)
	t.Setenv("UNITER_TEST_VAR", "")
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"u.yaml": `
datasets: synthetic_vqa
x:
  whole: ${training.batch_size}
  text: run-${training.batch_size}-${optimizer.params.betas[1]}-${training.fp16}
  map: ${optimizer.params}
  chain: ${x.whole}
  env: ${env:UNITER_TEST_VAR,fallback-${training.seed}}
`,
		"cycle.yaml":    "datasets: vqa2\na: ${b}\nb: {c: '${a}'}\n",
		"missing.yaml":  "datasets: vqa2\na: ${training.nope}\n",
		"maptext.yaml":  "datasets: vqa2\na: x${optimizer.params}\n",
		"unclosed.yaml": "datasets: vqa2\na: ${training.seed\n",
	})
	c := mustLoad(t, LoadOptions{Config: filepath.Join(dir, "u.yaml")})
	check(t, c, "x.whole", 512)
	check(t, c, "x.text", "run-512-0.98-false")
	check(t, c, "x.map.lr", 5e-5)
	check(t, c, "x.chain", 512)
	check(t, c, "x.env", "fallback-42")
	check(t, c, "env.cache_dir", "/home/test/.cache/uniter")
	check(t, c, "env.data_dir", "/home/test/.cache/uniter/data")
	check(t, c, "env.save_dir", "./save")
	check(t, c, "dataset_config.synthetic_vqa.data_dir", "/home/test/.cache/uniter/data/synthetic")

	t.Setenv("UNITER_TEST_VAR", "from-env")
	t.Setenv("MMF_DATA_DIR", "/data")
	c = mustLoad(t, LoadOptions{Config: filepath.Join(dir, "u.yaml")})
	check(t, c, "x.env", "from-env")
	check(t, c, "env.data_dir", "/data")

	_, err := Load(LoadOptions{Config: filepath.Join(dir, "cycle.yaml")})
	wantErr(t, err, "interpolation cycle")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "missing.yaml")})
	wantErr(t, err, "${training.nope}", "training.nope")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "maptext.yaml")})
	wantErr(t, err, "cannot insert a mapping")
	_, err = Load(LoadOptions{Config: filepath.Join(dir, "unclosed.yaml")})
	wantErr(t, err, "unclosed")
}

func TestParseArgs(t *testing.T) {
	opts, err := ParseArgs([]string{"config=exp.yaml", "model=uniter", "dataset=vqa2", "a.b=1"})
	if err != nil {
		t.Fatal(err)
	}
	want := LoadOptions{Config: "exp.yaml", Overrides: []string{"model=uniter", "dataset=vqa2", "a.b=1"}}
	if !reflect.DeepEqual(opts, want) {
		t.Errorf("ParseArgs = %+v, want %+v", opts, want)
	}
	opts, err = ParseArgs([]string{"config", "exp.yaml", "training.seed", "3"})
	if err != nil {
		t.Fatal(err)
	}
	want = LoadOptions{Config: "exp.yaml", Overrides: []string{"training.seed=3"}}
	if !reflect.DeepEqual(opts, want) {
		t.Errorf("ParseArgs pairs = %+v, want %+v", opts, want)
	}
	_, err = ParseArgs([]string{"config", "exp.yaml", "training.seed"})
	wantErr(t, err, "odd")
}

// TestVQA2ProjectConfig checks MMF's vqa2 project YAML (projects/uniter/configs/vqa2/defaults.yaml) over the model
// and dataset defaults.
func TestVQA2ProjectConfig(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Config: "../vqa2/defaults.yaml", Overrides: []string{"model=uniter", "dataset=vqa2", "run_type=train_val"}})
	check(t, c, "run_type", "train_val")
	check(t, c, "model", "uniter")
	check(t, c, "datasets", []string{"vqa2"})
	u := "model_config.uniter."
	check(t, c, u+"do_pretraining", false)
	check(t, c, u+"tasks", []string{"vqa2"})
	check(t, c, u+"heads.vqa2.type", "mlp")
	check(t, c, u+"heads.vqa2.num_labels", 3129)
	check(t, c, u+"heads.vqa2.lr_multiplier", 10.0)
	check(t, c, u+"heads.vqa2.in_dim", 768)
	check(t, c, u+"heads.vqa2.hidden_size", 1536)
	check(t, c, u+"heads.vqa2.pooler_name", "bert_pooler")
	check(t, c, u+"heads.vqa2.freeze", false)
	check(t, c, u+"losses.vqa2", "logit_bce")
	check(t, c, u+"text_embeddings.vocab_size", 28996)
	check(t, c, u+"vocab_size", 28996)
	check(t, c, u+"hidden_size", 768)
	check(t, c, u+"num_hidden_layers", 12)
	check(t, c, u+"num_attention_heads", 12)
	check(t, c, u+"intermediate_size", 3072)
	check(t, c, u+"img_dim", 2048)
	check(t, c, u+"encoder.params.num_hidden_layers", 12)
	check(t, c, u+"encoder.params.bert_model_name", "bert-base-uncased")
	check(t, c, u+"image_embeddings.type", "uniter_image_embeddings")
	check(t, c, u+"compat.mmf", false)
	d := "dataset_config.vqa2."
	check(t, c, d+"return_features_info", true)
	check(t, c, d+"use_features", true)
	check(t, c, d+"use_images", false)
	check(t, c, d+"processors.text_processor.type", "uniter_text_tokenizer")
	check(t, c, d+"processors.text_processor.params.from_pretrained", "bert-base-cased")
	check(t, c, d+"max_seq_length", 60)
	check(t, c, d+"do_lower_case", false)
	check(t, c, d+"mask_probability", 0.0)
	check(t, c, d+"max_regions", 100)
	check(t, c, d+"data_dir", "/home/test/.cache/uniter/data/datasets")
	check(t, c, "optimizer.type", "adam_w")
	check(t, c, "optimizer.params.lr", 8e-5)
	check(t, c, "optimizer.params.eps", 1e-8)
	check(t, c, "optimizer.params.weight_decay", 0.01)
	check(t, c, "scheduler.type", "warmup_linear")
	check(t, c, "scheduler.params.num_warmup_steps", 600)
	check(t, c, "scheduler.params.num_training_steps", 5000)
	check(t, c, "evaluation.metrics", []string{"vqa_accuracy"})
	check(t, c, "training.batch_size", 5120)
	check(t, c, "training.lr_scheduler", true)
	check(t, c, "training.max_updates", 5000)
	check(t, c, "training.early_stop.criteria", "vqa2/vqa_accuracy")
	check(t, c, "training.early_stop.minimize", false)
	check(t, c, "training.early_stop.enabled", false)
	check(t, c, "training.update_frequency", 1)
	check(t, c, "training.clip_gradients", false)
	check(t, c, "training.evaluation_interval", 1000)
}

// TestMaskedCOCOProjectConfig checks MMF's masked_coco pretraining YAML (projects/uniter/configs/masked_coco/defaults.yaml).
func TestMaskedCOCOProjectConfig(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Config: "../masked_coco/defaults.yaml", Overrides: []string{"model=uniter", "dataset=masked_coco"}})
	u := "model_config.uniter."
	check(t, c, u+"do_pretraining", true)
	check(t, c, u+"mask_probability", 0.15)
	check(t, c, u+"tasks", []string{"mlm", "itm", "mrc", "mrfr", "wra"})
	for _, task := range []string{"mlm", "itm", "mrc", "mrfr", "wra"} {
		check(t, c, u+"heads."+task+".type", task)
	}
	check(t, c, u+"heads.mlm.vocab_size", 28996)
	check(t, c, u+"heads.mrc.use_kl", true)
	check(t, c, u+"vocab_size", 28996)
	check(t, c, u+"itm_neg_prob", 0.5)
	check(t, c, u+"itm_ot_lambda", 0.1)
	check(t, c, u+"mix_ratios.mlm", 2)
	d := "dataset_config.masked_coco."
	check(t, c, d+"false_caption", true)
	check(t, c, d+"false_caption_probability", 0.1)
	check(t, c, d+"zoo_requirements", []string{"coco.defaults"})
	check(t, c, d+"processors.masked_token_processor.params.mask_probability", 0.15)
	check(t, c, d+"max_seq_length", 25)
	check(t, c, d+"mask_probability", 0.15)
	check(t, c, d+"do_lower_case", false)
	check(t, c, d+"images.train", []string{"coco/defaults/images/train2014", "coco/defaults/images/val2014",
		"coco/defaults/images/train2014", "coco/defaults/images/val2014", "coco/defaults/images/val2014"})
	check(t, c, d+"images.test", []string{"coco/defaults/images/test2015"})
	check(t, c, "optimizer.params.lr", 5e-5)
	check(t, c, "optimizer.params.eps", 1e-8)
	check(t, c, "optimizer.params.betas", []float64{0.9, 0.98})
	check(t, c, "scheduler.params.num_warmup_steps", 6000)
	check(t, c, "scheduler.params.num_training_steps", 60000)
	check(t, c, "training.batch_size", 480)
	check(t, c, "training.lr_scheduler", true)
	check(t, c, "training.max_updates", 60000)
}

// TestModelDefaults checks the built-in UNITER model defaults against MMF's model YAML
// (mmf/configs/models/uniter/defaults.yaml) and ORIG's config/uniter-base.json.
func TestModelDefaults(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Overrides: []string{"dataset=vqa2"}})
	u := "model_config.uniter."
	check(t, c, u+"tasks", []string{"vqa2"})
	check(t, c, u+"heads.vqa2.lr_multiplier", 1.0)
	check(t, c, u+"heads.vqa2.num_labels", 3129)
	check(t, c, u+"text_embeddings.type", "bert_embeddings")
	check(t, c, u+"encoder.type", "transformer")
	check(t, c, u+"encoder.params.hidden_size", 768)
	check(t, c, u+"encoder.params.num_attention_heads", 12)
	check(t, c, u+"encoder.params.output_attentions", false)
	check(t, c, u+"layer_norm_eps", 1e-12)
	check(t, c, u+"img_label_dim", 1601)
	check(t, c, u+"initializer_range", 0.02)
	check(t, c, "optimizer.params.eps", 1e-6)
	check(t, c, "scheduler.params.num_training_steps", 22000)
}

// TestSyntheticConfigs loads the synthetic experiment files (nested includes) and checks that the pretraining and
// finetuning models agree, so a pretrained checkpoint fits.
func TestSyntheticConfigs(t *testing.T) {
	clearEnv(t)
	load := func(name string) *Config {
		return mustLoad(t, LoadOptions{Config: filepath.Join("../synthetic", name)})
	}
	vqa := load("vqa.yaml")
	check(t, vqa, "datasets", []string{"synthetic_vqa"})
	check(t, vqa, "model_config.uniter.hidden_size", 128)
	check(t, vqa, "model_config.uniter.num_attention_heads", 4)
	check(t, vqa, "model_config.uniter.vocab_size", 30522)
	check(t, vqa, "model_config.uniter.tasks", []string{"synthetic_vqa"})
	check(t, vqa, "model_config.uniter.heads.synthetic_vqa.in_dim", 128)
	check(t, vqa, "model_config.uniter.losses.synthetic_vqa", "logit_bce")
	check(t, vqa, "dataset_config.synthetic_vqa.feature_dim", 64)
	check(t, vqa, "dataset_config.synthetic_vqa.low_data_fraction", 1.0)
	check(t, vqa, "dataset_config.synthetic_vqa.max_seq_length", 18)
	check(t, vqa, "dataset_config.synthetic_vqa.max_regions", 8)
	check(t, vqa, "scheduler.params.num_training_steps", 1000) // interpolated from training.max_updates
	check(t, vqa, "scheduler.params.num_warmup_steps", 40)
	check(t, vqa, "training.batch_size", 512)
	check(t, vqa, "optimizer.params.lr", 2e-3)
	check(t, vqa, "training.early_stop.criteria", "synthetic_vqa/vqa_accuracy")
	check(t, vqa, "env.save_dir", "./save/synthetic_vqa")

	pre := load("pretrain.yaml")
	check(t, pre, "model_config.uniter.do_pretraining", true)
	check(t, pre, "model_config.uniter.tasks", []string{"mlm", "itm", "mrfr", "mrc"})
	check(t, pre, "model_config.uniter.heads.mlm.vocab_size", 30522)
	check(t, pre, "dataset_config.synthetic_captions.feature_dim", 64)
	check(t, pre, "dataset_config.synthetic_captions.num_classes", 37)
	check(t, pre, "optimizer.params.lr", 5e-4)
	check(t, pre, "scheduler.params.num_training_steps", 3000)

	mlm := load("pretrain_mlm.yaml")
	check(t, mlm, "model_config.uniter.do_pretraining", true)
	check(t, mlm, "model_config.uniter.tasks", []string{"mlm"})
	check(t, mlm, "optimizer.params.lr", 2e-3) // tiny_model.yaml's, not pretrain.yaml's
	check(t, mlm, "training.max_updates", 1000)
	check(t, mlm, "scheduler.params.num_training_steps", 1000)
	check(t, mlm, "env.save_dir", "./save/synthetic_pretrain_mlm")

	low := load("vqa_lowdata.yaml")
	check(t, low, "dataset_config.synthetic_vqa.low_data_fraction", 0.1)
	check(t, low, "env.save_dir", "./save/synthetic_vqa_lowdata")
	check(t, low, "scheduler.params.num_training_steps", 800) // its own max_updates, the measured comparisons' setting

	ft := load("finetune_from_pretrained.yaml")
	check(t, ft, "dataset_config.synthetic_vqa.low_data_fraction", 0.1)
	check(t, ft, "checkpoint.resume_pretrained", true)
	check(t, ft, "checkpoint.resume_file", "./save/synthetic_pretrain_mlm/current.ckpt")
	check(t, ft, "env.save_dir", "./save/synthetic_finetune")

	for _, k := range []string{"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
		"vocab_size", "max_position_embeddings", "type_vocab_size", "img_dim"} {
		b, _ := ft.Get("model_config.uniter." + k)
		for name, p := range map[string]*Config{"pretrain": pre, "pretrain_mlm": mlm} {
			if a, _ := p.Get("model_config.uniter." + k); !reflect.DeepEqual(a, b) {
				t.Errorf("model_config.uniter.%s: %s %v != finetune %v", k, name, a, b)
			}
		}
	}
	// Apart from the checkpoint and the output directory, finetuning equals the low-data baseline.
	for _, k := range []string{"model_config", "dataset_config", "optimizer", "scheduler", "training"} {
		a, _ := low.Get(k)
		b, _ := ft.Get(k)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs between vqa_lowdata.yaml and finetune_from_pretrained.yaml", k)
		}
	}
}

// TestRunnerKeys is the contract with the runner: every key it reads exists in the effective configuration of
// each dataset, with a default.
func TestRunnerKeys(t *testing.T) {
	clearEnv(t)
	common := []string{
		"model", "datasets", "run_type",
		"model_config.uniter.do_pretraining", "model_config.uniter.tasks", "model_config.uniter.heads",
		"model_config.uniter.losses", "model_config.uniter.mask_probability", "model_config.uniter.hidden_size",
		"model_config.uniter.num_hidden_layers", "model_config.uniter.num_attention_heads",
		"model_config.uniter.intermediate_size", "model_config.uniter.vocab_size",
		"model_config.uniter.max_position_embeddings", "model_config.uniter.type_vocab_size",
		"model_config.uniter.layer_norm_eps", "model_config.uniter.img_dim", "model_config.uniter.img_label_dim",
		"model_config.uniter.hidden_dropout_prob", "model_config.uniter.attention_probs_dropout_prob",
		"model_config.uniter.initializer_range", "model_config.uniter.itm_neg_prob",
		"model_config.uniter.itm_ot_lambda", "model_config.uniter.mix_ratios", "model_config.uniter.compat.mmf",
		"optimizer.type", "optimizer.params.lr", "optimizer.params.eps", "optimizer.params.weight_decay",
		"optimizer.params.betas", "scheduler.type", "scheduler.params.num_warmup_steps",
		"scheduler.params.num_training_steps",
		"training.seed", "training.batch_size", "training.max_updates", "training.update_frequency",
		"training.lr_scheduler", "training.clip_gradients", "training.max_grad_l2_norm", "training.log_interval",
		"training.evaluation_interval", "training.checkpoint_interval", "training.early_stop.enabled",
		"training.early_stop.criteria", "training.early_stop.minimize", "training.early_stop.patience",
		"training.num_workers", "training.fp16", "training.backend", "evaluation.metrics",
		"checkpoint.resume", "checkpoint.resume_file", "checkpoint.resume_zoo", "checkpoint.resume_best",
		"checkpoint.resume_pretrained", "checkpoint.max_to_keep",
		"env.data_dir", "env.save_dir", "env.cache_dir", "env.zoo_dir",
	}
	perDataset := map[string][]string{
		"vqa2": {"data_dir", "questions.train", "annotations.val", "features.test", "answer_vocab", "vocab_file",
			"tokenizer", "do_lower_case", "max_seq_length", "max_regions", "mask_probability"},
		"masked_coco": {"data_dir", "annotations.train", "karpathy_splits.train", "features.val", "vocab_file",
			"tokenizer", "do_lower_case", "max_seq_length", "max_regions", "mask_probability", "false_caption_probability"},
		"synthetic_vqa": {"data_dir", "seed", "detector_seed", "num_images", "questions_per_image",
			"min_objects", "max_objects", "feature_dim", "num_classes", "feature_noise",
			"train_fraction", "val_fraction", "low_data_fraction",
			"max_regions", "max_seq_length", "vocab_file", "do_lower_case", "mask_probability"},
		"synthetic_captions": {"data_dir", "seed", "detector_seed", "num_images", "captions_per_image",
			"min_objects", "max_objects", "feature_dim", "num_classes", "feature_noise", "train_fraction",
			"max_regions", "max_seq_length", "vocab_file", "do_lower_case", "mask_probability"},
	}
	for ds, keys := range perDataset {
		c := mustLoad(t, LoadOptions{Overrides: []string{"dataset=" + ds}})
		for _, k := range common {
			if _, ok := c.Get(k); !ok {
				t.Errorf("dataset %s: missing %s", ds, k)
			}
		}
		for _, k := range keys {
			if _, ok := c.Get("dataset_config." + ds + "." + k); !ok {
				t.Errorf("dataset %s: missing dataset_config.%s.%s", ds, ds, k)
			}
		}
	}
}

// TestSavedConfigReloads checks that the effective config written by YAML loads back unchanged.
func TestSavedConfigReloads(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, LoadOptions{Config: "../synthetic/finetune_from_pretrained.yaml", Overrides: []string{"training.seed=5"}})
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "effective.yaml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	back := mustLoad(t, LoadOptions{Config: file})
	if !reflect.DeepEqual(c.tree, back.tree) {
		t.Errorf("reloaded effective config differs:\n%s", out)
	}
}
