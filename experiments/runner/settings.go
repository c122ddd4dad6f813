package runner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/uniter"
)

// settings are the typed values of the configuration keys the runner reads.
type settings struct {
	dataset string   // the one dataset name
	model   string   // the model name (uniter)
	steps   []string // run_type split on "_": train, val, test, inference

	uniter      uniter.Config
	pretraining bool
	tasks       []string            // model_config.uniter.tasks
	mixRatios   map[string]int      // pretraining task weights
	headLRMul   map[string]float64  // lr multiplier by head (task) name
	frozen      map[string]bool     // heads with freeze: true
	headHidden  map[string]int      // heads.<task>.hidden_size (classifier)
	numLabels   int                 // heads.<task>.num_labels of the classifier (0 = vocabulary size)
	useKL       bool                // heads.mrc.use_kl
	itmNegProb  float64             //
	itmOTLambda float64             //
	regionMaskP float64             // model_config.uniter.mask_probability
	rawHeads    map[string]struct{} // heads present in the config

	seed            int64
	batchSize       int
	maxUpdates      int
	updateFrequency int
	lrScheduler     bool
	clip            bool
	maxGradNorm     float64
	logInterval     int
	evalInterval    int
	ckptInterval    int
	earlyStop       bool
	criteria        string
	minimize        bool
	patience        int
	numWorkers      int
	backend         string

	optimizerType string
	lr, eps, wd   float64
	betas         []float64
	schedulerType string
	warmup, total int

	resume           bool
	resumeFile       string
	resumeZoo        string
	resumeBest       bool
	resumePretrained bool
	maxToKeep        int

	saveDir, zooDir, dataDir string
}

// getter reads typed keys from a config and collects the first error.
type getter struct {
	c   *config.Config
	err error
}

func (g *getter) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

func (g *getter) str(key string) string {
	v, err := g.c.String(key)
	g.fail(err)
	return v
}

func (g *getter) int(key string) int {
	v, err := g.c.Int(key)
	g.fail(err)
	return v
}

func (g *getter) float(key string) float64 {
	v, err := g.c.Float(key)
	g.fail(err)
	return v
}

func (g *getter) bool(key string) bool {
	v, err := g.c.Bool(key)
	g.fail(err)
	return v
}

func (g *getter) strings(key string) []string {
	v, err := g.c.StringList(key)
	g.fail(err)
	return v
}

// optional reports whether key exists; a missing key is not an error.
func (g *getter) optional(key string) bool {
	_, ok := g.c.Get(key)
	return ok
}

// Pretraining task names of model_config.uniter.tasks.
const (
	taskMLM  = "mlm"
	taskITM  = "itm"
	taskMRC  = "mrc"
	taskMRFR = "mrfr"
	taskWRA  = "wra"
)

// readSettings reads and checks every key the runner uses.
func readSettings(c *config.Config) (*settings, error) {
	g := &getter{c: c}
	s := &settings{}
	datasets := g.strings("datasets")
	s.model = g.str("model")
	runType := g.str("run_type")
	if g.err != nil {
		return nil, g.err
	}
	if len(datasets) != 1 {
		return nil, fmt.Errorf("config key datasets: the runner trains on exactly one dataset, got %q", datasets)
	}
	s.dataset = datasets[0]
	s.steps = strings.Split(runType, "_")
	for _, st := range s.steps {
		if !slices.Contains([]string{"train", "val", "test", "inference"}, st) {
			return nil, fmt.Errorf("config key run_type: %q has unknown step %q (use train, val, test, inference joined by _, e.g. train_val)", runType, st)
		}
	}

	mc := "model_config." + s.model
	if !g.optional(mc) {
		return nil, fmt.Errorf("config key %s: missing; the model %q has no configuration", mc, s.model)
	}
	s.uniter = uniter.Config{
		HiddenSize:                g.int(mc + ".hidden_size"),
		NumHiddenLayers:           g.int(mc + ".num_hidden_layers"),
		NumAttentionHeads:         g.int(mc + ".num_attention_heads"),
		IntermediateSize:          g.int(mc + ".intermediate_size"),
		VocabSize:                 g.int(mc + ".vocab_size"),
		HiddenAct:                 "gelu",
		HiddenDropoutProb:         g.float(mc + ".hidden_dropout_prob"),
		AttentionProbsDropoutProb: g.float(mc + ".attention_probs_dropout_prob"),
		MaxPositionEmbeddings:     g.int(mc + ".max_position_embeddings"),
		TypeVocabSize:             g.int(mc + ".type_vocab_size"),
		InitializerRange:          g.float(mc + ".initializer_range"),
		ImgDim:                    g.int(mc + ".img_dim"),
		PosDim:                    7,
		ImgLabelDim:               g.int(mc + ".img_label_dim"),
		LayerNormEps:              g.float(mc + ".layer_norm_eps"),
	}
	if g.optional(mc+".compat.mmf") && g.bool(mc+".compat.mmf") {
		g.fail(fmt.Errorf("config key %s.compat.mmf: MMF-compatibility mode is not implemented by this runner; use false (ORIG semantics)", mc))
	}
	s.pretraining = g.bool(mc + ".do_pretraining")
	s.tasks = g.strings(mc + ".tasks")
	s.itmNegProb = g.float(mc + ".itm_neg_prob")
	s.itmOTLambda = g.float(mc + ".itm_ot_lambda")
	s.regionMaskP = g.float(mc + ".mask_probability")
	s.mixRatios = map[string]int{}
	if g.optional(mc + ".mix_ratios") {
		keys, err := c.Keys(mc + ".mix_ratios")
		g.fail(err)
		for _, k := range keys {
			s.mixRatios[k] = g.int(mc + ".mix_ratios." + k)
		}
	}
	s.headLRMul, s.frozen, s.headHidden, s.rawHeads = map[string]float64{}, map[string]bool{}, map[string]int{}, map[string]struct{}{}
	heads, err := c.Keys(mc + ".heads")
	g.fail(err)
	for _, h := range heads {
		hk := mc + ".heads." + h
		s.rawHeads[h] = struct{}{}
		s.headLRMul[h] = 1
		if g.optional(hk + ".lr_multiplier") {
			s.headLRMul[h] = g.float(hk + ".lr_multiplier")
		}
		if g.optional(hk + ".freeze") {
			s.frozen[h] = g.bool(hk + ".freeze")
		}
		if g.optional(hk + ".hidden_size") {
			s.headHidden[h] = g.int(hk + ".hidden_size")
		}
	}
	if g.optional(mc + ".heads.mrc.use_kl") {
		s.useKL = g.bool(mc + ".heads.mrc.use_kl")
	}
	if g.err != nil {
		return nil, g.err
	}
	if err := s.checkTasks(mc); err != nil {
		return nil, err
	}
	if !s.pretraining {
		s.numLabels = g.int(mc + ".heads." + s.tasks[0] + ".num_labels")
	}
	if g.optional("evaluation.metrics") {
		// The evaluation always reports the losses and the accuracies the tasks have; the list is only checked.
		for _, m := range g.strings("evaluation.metrics") {
			if !slices.Contains([]string{"vqa_accuracy", "itm_accuracy", "mlm_accuracy"}, m) {
				return nil, fmt.Errorf("config key evaluation.metrics: unknown metric %q (known: vqa_accuracy, itm_accuracy, mlm_accuracy)", m)
			}
		}
	}

	s.seed = int64(g.int("training.seed"))
	s.batchSize = g.int("training.batch_size")
	s.maxUpdates = g.int("training.max_updates")
	s.updateFrequency = g.int("training.update_frequency")
	s.lrScheduler = g.bool("training.lr_scheduler")
	s.clip = g.bool("training.clip_gradients")
	s.maxGradNorm = g.float("training.max_grad_l2_norm")
	s.logInterval = g.int("training.log_interval")
	s.evalInterval = g.int("training.evaluation_interval")
	s.ckptInterval = g.int("training.checkpoint_interval")
	s.earlyStop = g.bool("training.early_stop.enabled")
	s.criteria = g.str("training.early_stop.criteria")
	s.minimize = g.bool("training.early_stop.minimize")
	s.patience = g.int("training.early_stop.patience")
	s.numWorkers = g.int("training.num_workers")
	s.backend = g.str("training.backend")
	if g.bool("training.fp16") {
		g.fail(errors.New("config key training.fp16: float16 training is not supported by this runner; use false"))
	}

	s.optimizerType = g.str("optimizer.type")
	s.lr = g.float("optimizer.params.lr")
	s.eps = g.float("optimizer.params.eps")
	s.wd = 0
	if g.optional("optimizer.params.weight_decay") {
		s.wd = g.float("optimizer.params.weight_decay")
	}
	s.betas = []float64{0.9, 0.999}
	if g.optional("optimizer.params.betas") {
		b, err := c.FloatList("optimizer.params.betas")
		g.fail(err)
		s.betas = b
	}
	s.schedulerType = g.str("scheduler.type")
	s.warmup = g.int("scheduler.params.num_warmup_steps")
	s.total = g.int("scheduler.params.num_training_steps")

	s.resume = g.bool("checkpoint.resume")
	s.resumeFile = g.str("checkpoint.resume_file")
	s.resumeZoo = g.str("checkpoint.resume_zoo")
	s.resumeBest = g.bool("checkpoint.resume_best")
	s.resumePretrained = g.bool("checkpoint.resume_pretrained")
	s.maxToKeep = g.int("checkpoint.max_to_keep")

	s.saveDir = g.str("env.save_dir")
	s.zooDir = g.str("env.zoo_dir")
	s.dataDir = g.str("env.data_dir")
	if g.err != nil {
		return nil, g.err
	}
	return s, s.check()
}

// checkTasks validates model_config.<model>.tasks against do_pretraining and the heads.
func (s *settings) checkTasks(mc string) error {
	if len(s.tasks) == 0 {
		return fmt.Errorf("config key %s.tasks: no task given", mc)
	}
	if !s.pretraining {
		if len(s.tasks) != 1 {
			return fmt.Errorf("config key %s.tasks: a classification model has one task, got %q", mc, s.tasks)
		}
		if _, ok := s.rawHeads[s.tasks[0]]; !ok {
			return fmt.Errorf("config key %s.heads.%s: missing; the classification task %q needs a head", mc, s.tasks[0], s.tasks[0])
		}
		return nil
	}
	for _, t := range s.tasks {
		if !slices.Contains([]string{taskMLM, taskITM, taskMRC, taskMRFR, taskWRA}, t) {
			return fmt.Errorf("config key %s.tasks: unknown pretraining task %q (known: mlm, itm, mrc, mrfr, wra)", mc, t)
		}
	}
	if len(s.pretrainingMix()) == 0 {
		return fmt.Errorf("config key %s.mix_ratios: every task of %q has weight 0", mc, s.tasks)
	}
	return nil
}

// pretrainingMix returns the pretraining tasks with a positive weight, in task order. wra is folded into itm
// (ORIG: itm loss + itm_ot_lambda × ot) and never drawn on its own.
func (s *settings) pretrainingMix() []taskWeight {
	var mix []taskWeight
	for _, t := range s.tasks {
		w, ok := s.mixRatios[t]
		if !ok {
			w = 1
		}
		if t == taskWRA || w <= 0 {
			continue
		}
		mix = append(mix, taskWeight{t, w})
	}
	return mix
}

// taskWeight is a pretraining task and its mix ratio.
type taskWeight struct {
	task   string
	weight int
}

// check validates the numeric settings.
func (s *settings) check() error {
	switch {
	case s.optimizerType != "adam_w":
		return fmt.Errorf("config key optimizer.type: %q is not supported (use adam_w)", s.optimizerType)
	case len(s.betas) != 2:
		return fmt.Errorf("config key optimizer.params.betas: want two numbers, got %v", s.betas)
	case s.lr <= 0 || s.eps <= 0 || s.wd < 0:
		return fmt.Errorf("config keys optimizer.params: lr %g and eps %g must be positive and weight_decay %g ≥ 0", s.lr, s.eps, s.wd)
	case s.batchSize < 1 || s.updateFrequency < 1 || s.batchSize%s.updateFrequency != 0:
		return fmt.Errorf("config keys training.batch_size %d and training.update_frequency %d: the batch size must be a positive multiple of the update frequency",
			s.batchSize, s.updateFrequency)
	case s.maxUpdates < 0:
		return fmt.Errorf("config key training.max_updates: %d < 0", s.maxUpdates)
	case s.logInterval < 1 || s.evalInterval < 1 || s.ckptInterval < 1:
		return fmt.Errorf("config keys training.log_interval %d, evaluation_interval %d, checkpoint_interval %d must be ≥ 1",
			s.logInterval, s.evalInterval, s.ckptInterval)
	case s.saveDir == "":
		return errors.New("config key env.save_dir: empty")
	}
	return nil
}

// has reports whether the run type includes step.
func (s *settings) has(step string) bool { return slices.Contains(s.steps, step) }

// heads returns the uniter head names the model needs.
func (s *settings) heads() []string {
	if !s.pretraining {
		return []string{uniter.HeadVQA}
	}
	var hs []string
	for _, t := range s.tasks {
		switch t {
		case taskMLM:
			hs = append(hs, uniter.HeadMLM)
		case taskITM, taskWRA:
			hs = append(hs, uniter.HeadITM)
		case taskMRC:
			hs = append(hs, uniter.HeadMRC)
		case taskMRFR:
			hs = append(hs, uniter.HeadMRFR)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// headKeyPrefixes maps config head names to the ORIG key prefixes of their variables.
var headKeyPrefixes = map[string][]string{
	taskMLM: {"cls."}, taskITM: {"itm_output."}, taskMRC: {"region_classifier."}, taskMRFR: {"feat_regress."},
}

// lrMultipliers returns the learning-rate multiplier of each head's variables (by ORIG key prefix).
func (s *settings) lrMultipliers() map[string]float64 {
	out := map[string]float64{}
	mul := func(head string) float64 {
		if m, ok := s.headLRMul[head]; ok {
			return m
		}
		return 1
	}
	if !s.pretraining {
		out["vqa_output."] = mul(s.tasks[0])
		return out
	}
	for h, prefixes := range headKeyPrefixes {
		for _, p := range prefixes {
			out[p] = mul(h)
		}
	}
	return out
}

// frozenPrefixes returns the ORIG key prefixes of the heads marked freeze: true.
func (s *settings) frozenPrefixes() []string {
	var out []string
	if !s.pretraining {
		if s.frozen[s.tasks[0]] {
			out = append(out, "vqa_output.")
		}
		return out
	}
	for h, prefixes := range headKeyPrefixes {
		if s.frozen[h] {
			out = append(out, prefixes...)
		}
	}
	slices.Sort(out)
	return out
}
