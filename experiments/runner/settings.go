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
	dataset   string   // the one dataset name
	modelName string   // the model name (uniter)
	steps     []string // run_type split on "_": train, val, test, inference

	modelConfig *ModelConfig

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
	metrics         []string // evaluation.metrics

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

	saveDir, zooDir string
}

// ModelConfig is the section model_config.<model> of an experiment configuration
// (experiments/config/defaults/models/uniter/defaults.yaml): the model's sizes and hyper-parameters, decoded into
// uniter.Config by its json tags, and the keys of the tasks.
type ModelConfig struct {
	uniter.Config
	// DoPretraining draws one of the tasks per update, by MixRatios (ORIG MetaLoader); else the one task of Tasks
	// is trained alone.
	DoPretraining bool           `json:"do_pretraining"`
	Tasks         []string       `json:"tasks"`
	MixRatios     map[string]int `json:"mix_ratios"`
	// ITMNegProb is the probability of an ITM negative (the image swapped); MaskProbability the probability that
	// MRM masks a region.
	ITMNegProb      float64 `json:"itm_neg_prob"`
	MaskProbability float64 `json:"mask_probability"`
	// Heads holds the head section of each task, decoded by the task's constructor (see task).
	Heads  map[string]any    `json:"heads"`
	Losses map[string]string `json:"losses"`
	Compat struct {
		MMF bool `json:"mmf"`
	} `json:"compat"`
	// MMF's sub-configurations, accepted so that MMF's YAML files load; vocab_size takes
	// text_embeddings.vocab_size by interpolation in the defaults.
	TextEmbeddings  any `json:"text_embeddings"`
	ImageEmbeddings any `json:"image_embeddings"`
	Encoder         any `json:"encoder"`
}

// DecodeModelConfig decodes model_config.<model> of the model the configuration names. Keys without a field are
// errors; hidden_act and pos_dim, which UNITER fixes, default to "gelu" and 7; num_answers is set by the VQA task
// from the dataset's answers.
func DecodeModelConfig(c *config.Config) (*ModelConfig, error) {
	name, err := c.String("model")
	if err != nil {
		return nil, err
	}
	key := "model_config." + name
	if _, ok := c.Get(key); !ok {
		return nil, fmt.Errorf("config key %s: missing; the model %q has no configuration", key, name)
	}
	mc := &ModelConfig{Config: uniter.Config{HiddenAct: "gelu", PosDim: 7}}
	if err := c.Decode(key, mc); err != nil {
		return nil, err
	}
	if mc.Compat.MMF {
		return nil, fmt.Errorf("config key %s.compat.mmf: MMF-compatibility mode is not implemented by this runner; use false (ORIG semantics)", key)
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return mc, nil
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

// readSettings reads and checks every key the runner uses.
func readSettings(c *config.Config) (*settings, error) {
	g := &getter{c: c}
	s := &settings{}
	datasets := g.strings("datasets")
	s.modelName = g.str("model")
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

	var err error
	if s.modelConfig, err = DecodeModelConfig(c); err != nil {
		return nil, err
	}
	if err := s.checkTasks(); err != nil {
		return nil, err
	}
	if g.optional("evaluation.metrics") {
		s.metrics = g.strings("evaluation.metrics")
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
	if g.err != nil {
		return nil, g.err
	}
	return s, s.check()
}

// checkTasks validates model_config.<model>.tasks against do_pretraining and mix_ratios.
func (s *settings) checkTasks() error {
	mc := "model_config." + s.modelName
	tasks := s.modelConfig.Tasks
	switch {
	case len(tasks) == 0:
		return fmt.Errorf("config key %s.tasks: no task given", mc)
	case !s.modelConfig.DoPretraining && len(tasks) != 1:
		return fmt.Errorf("config key %s.tasks: a classification model has one task, got %q", mc, tasks)
	case len(s.taskMix()) == 0:
		return fmt.Errorf("config key %s.mix_ratios: every task of %q has weight 0", mc, tasks)
	}
	return nil
}

// taskMix returns the tasks with a positive weight (mix_ratios.<task>, default 1), in task order; a
// classification model's one task has weight 1.
func (s *settings) taskMix() []taskWeight {
	mc := s.modelConfig
	if !mc.DoPretraining {
		return []taskWeight{{mc.Tasks[0], 1}}
	}
	var mix []taskWeight
	for _, t := range mc.Tasks {
		w, ok := mc.MixRatios[t]
		if !ok {
			w = 1
		}
		if w > 0 {
			mix = append(mix, taskWeight{t, w})
		}
	}
	return mix
}

// taskWeight is a task and its mix ratio.
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
