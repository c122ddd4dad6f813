// Package runner is the UNITER training and evaluation job, the equivalent of MMF's mmf_run (mmf_cli/run.py) with
// the semantics of ORIG's pretrain.py and train_vqa.py: from an effective configuration (experiments/config) it
// opens the dataset (data/datasets), builds the tasks of the run — the VQA classifier, or the pretraining tasks
// drawn by their mix ratios (see task for adding one) — trains them with ORIG's AdamW, parameter groups and
// warmup-linear schedule, evaluates, checkpoints, resumes, and writes VQA predictions.
//
// A run writes into its save directory (env.save_dir; when that is the default ./save, a new
// ./save/<experiment>-<timestamp>): config.yaml (the effective configuration), metrics.jsonl (see ReadMetrics),
// the checkpoints (see saveCheckpoint) and, for test/inference, predictions/<dataset>_<split>_results.json in the
// official VQA results format.
//
// Use from Go (e.g. a notebook):
//
//	cfg, _ := config.Load(config.LoadOptions{Config: "experiments/synthetic/vqa.yaml"})
//	r, _ := runner.New(cfg)
//	defer r.Close()
//	r.OnLog = func(step int, m map[string]float64) { /* live plot */ }
//	res, _ := r.Run(ctx)
//	preds, _ := r.Predict(runner.SplitVal, 10)
//	att, _ := r.Attention(runner.SplitVal, 0)
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/data/torchckpt"
	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/zoo"
	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
)

// Runner is one configured experiment: data, model, optimizer and run state. It is not safe for concurrent use.
type Runner struct {
	// OnLog, when set, is called with every record written to metrics.jsonl (training logs and evaluations).
	OnLog func(step int, metrics map[string]float64)
	// Log receives progress bars and log lines; New sets it to os.Stderr.
	Log io.Writer

	cfg      *config.Config
	s        *settings
	data     *datasets.Data
	tasks    []*task
	model    uniter.Config // the model of the run: model_config.<model> with what the tasks set from the data
	backend  compute.Backend
	store    *model.Store
	opt      *AdamW
	sched    Schedule
	execs    map[string]*executors
	builders map[string]*batch.Builder // by split
	saveDir  string
	state    trainerState
	loaded   string // the checkpoint or weights the model started from ("" = fresh initialization)
	// savedStep is the update of current.ckpt in the save directory (-1: none written or resumed from).
	savedStep int
	metrics   *metricsLog
	started   time.Time
}

// Result is the outcome of Run.
type Result struct {
	SaveDir string
	// Step is the number of updates done.
	Step int
	// Final is the final evaluation (val, then test; with run_type train alone, the last periodic evaluation),
	// by metric name; the command prints it as name=value pairs.
	Final map[string]float64
	// BestStep is the update of the best checkpoint (0 when there was no evaluation during training).
	BestStep int
	// Predictions is the results JSON written by test or inference ("" when none).
	Predictions string
	Elapsed     time.Duration
}

// New prepares a run from an effective configuration: it reads and checks the settings, loads (generating the
// synthetic data when needed) the dataset, creates the backend and the model store, and loads the starting
// weights (checkpoint.resume, resume_file or resume_zoo).
func New(cfg *config.Config) (*Runner, error) {
	s, err := readSettings(cfg)
	if err != nil {
		return nil, err
	}
	r := &Runner{Log: os.Stderr, cfg: cfg, s: s, execs: map[string]*executors{}, builders: map[string]*batch.Builder{}, savedStep: -1}
	if s.seed < 0 {
		s.seed = time.Now().UnixNano() % (1 << 31)
		fmt.Fprintf(r.Log, "training.seed is -1: using seed %d\n", s.seed)
	}
	if r.data, err = openData(cfg, s); err != nil {
		return nil, err
	}
	if err := r.setup(); err != nil {
		r.data.Close()
		return nil, err
	}
	return r, nil
}

// openData opens the splits of the configured dataset that the run needs.
func openData(c *config.Config, s *settings) (*datasets.Data, error) {
	var splits []string
	if s.has("train") {
		splits = append(splits, SplitTrain, SplitVal)
	} else if s.has("val") {
		splits = append(splits, SplitVal)
	}
	if s.has("test") || s.has("inference") {
		splits = append(splits, SplitTest)
	}
	section := "dataset_config." + s.dataset
	if _, ok := c.Get(section); !ok {
		return nil, fmt.Errorf("config key %s: missing; dataset %q has no configuration", section, s.dataset)
	}
	mc := s.modelConfig
	d, err := datasets.Open(s.dataset, datasets.Request{
		Section: section, Decode: func(dst any) error { return c.Decode(section, dst) }, Splits: splits,
		FeatDim: mc.ImgDim, MaxTextLen: mc.MaxPositionEmbeddings,
	})
	if err != nil {
		return nil, err
	}
	if d.Tokenizer.VocabSize() > mc.VocabSize {
		d.Close()
		return nil, fmt.Errorf("dataset %s: the tokenizer vocabulary has %d tokens but model_config.%s.vocab_size is %d; "+
			"set %s.vocab_file to the model's vocab.txt or raise the vocab size",
			s.dataset, d.Tokenizer.VocabSize(), s.modelName, mc.VocabSize, section)
	}
	return d, nil
}

// setup builds everything after the data: tasks, backend, store, optimizer, save directory and start state.
func (r *Runner) setup() error {
	s := r.s
	r.model = s.modelConfig.Config
	var err error
	if r.tasks, err = r.newTasks(); err != nil {
		return err
	}
	if err := r.model.Validate(); err != nil {
		return fmt.Errorf("model_config.%s: %w", s.modelName, err)
	}
	if err := r.checkMetrics(); err != nil {
		return err
	}
	if s.backend == "" {
		r.backend, err = backend.Shared()
	} else {
		r.backend, err = backend.New(s.backend)
	}
	if err != nil {
		return err
	}
	r.store = model.NewStore()
	r.store.SetParam(model.ParamInitialSeed, s.seed)
	if err := r.store.SetRNGStateFromSeed(s.seed); err != nil {
		return fmt.Errorf("seeding the model RNG: %w", err)
	}
	r.opt = &AdamW{Beta1: s.betas[0], Beta2: s.betas[1], Eps: s.eps, WeightDecay: s.wd, LRMultipliers: map[string]float64{}}
	for _, t := range r.tasks {
		for _, k := range t.keys {
			r.opt.LRMultipliers[k] = t.lrMul
		}
	}
	if s.clip {
		r.opt.MaxGradNorm = s.maxGradNorm
	}
	r.sched = Constant(s.lr)
	if s.lrScheduler {
		if r.sched, err = newSchedule(s.schedulerType, s.lr, s.warmup, s.total); err != nil {
			return fmt.Errorf("config key scheduler: %w", err)
		}
	}
	r.state = trainerState{Seed: s.seed, Pretraining: s.modelConfig.DoPretraining, Heads: r.heads(), Uniter: r.model, Data: map[string]batch.State{}}
	if r.saveDir, err = resolveSaveDir(s, time.Now()); err != nil {
		return err
	}
	return r.loadStart()
}

// checkMetrics checks evaluation.metrics against the accuracies the tasks report (the evaluation reports them
// all, with the losses, whatever the list).
func (r *Runner) checkMetrics() error {
	var have []string
	for _, t := range r.tasks {
		if t.accuracy != "" {
			have = append(have, t.accuracy)
		}
	}
	for _, m := range r.s.metrics {
		if !slices.Contains(have, m) {
			return fmt.Errorf("config key evaluation.metrics: %q is not reported by the tasks of this run (they report: %s)",
				m, strings.Join(have, ", "))
		}
	}
	return nil
}

// heads returns the uniter heads the tasks train, sorted.
func (r *Runner) heads() []string {
	var hs []string
	for _, t := range r.tasks {
		hs = append(hs, t.head)
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// frozenPrefixes returns the ORIG key prefixes of the heads set to freeze, sorted.
func (r *Runner) frozenPrefixes() []string {
	var out []string
	for _, t := range r.tasks {
		if t.freeze {
			out = append(out, t.keys...)
		}
	}
	slices.Sort(out)
	return out
}

// defaultSaveDir is the value env.save_dir has when the user did not choose one.
func defaultSaveDir() string {
	if d := os.Getenv("MMF_SAVE_DIR"); d != "" {
		return d
	}
	return "./save"
}

// resolveSaveDir returns the run's save directory: env.save_dir itself, or when it is the default,
// <default>/<experiment>-<timestamp> (with checkpoint.resume: the newest such directory holding a checkpoint).
func resolveSaveDir(s *settings, now time.Time) (string, error) {
	if filepath.Clean(s.saveDir) != filepath.Clean(defaultSaveDir()) {
		return s.saveDir, nil
	}
	experiment := s.dataset + "_" + s.modelName
	if s.resume {
		matches, _ := filepath.Glob(filepath.Join(s.saveDir, experiment+"-*", currentName))
		if len(matches) > 0 {
			slices.Sort(matches) // timestamps sort chronologically
			return filepath.Dir(matches[len(matches)-1]), nil
		}
	}
	return filepath.Join(s.saveDir, experiment+"-"+now.Format("20060102T150405")), nil
}

// SaveDir returns the run's save directory.
func (r *Runner) SaveDir() string { return r.saveDir }

// Step returns the number of updates done so far (including those of a resumed checkpoint).
func (r *Runner) Step() int { return r.state.Step }

// Close releases the data stores.
func (r *Runner) Close() error {
	var errs []error
	if r.metrics != nil {
		errs = append(errs, r.metrics.close())
		r.metrics = nil
	}
	return errors.Join(append(errs, r.data.Close())...)
}

// loadStart loads the starting point: with checkpoint.resume the save directory's current (or best) checkpoint,
// full state; else resume_file; else resume_zoo.
func (r *Runner) loadStart() error {
	s := r.s
	if s.resume {
		name := currentName
		if s.resumeBest {
			name = bestName
		}
		path := filepath.Join(r.saveDir, name)
		if _, err := os.Stat(path); err == nil {
			return r.loadFile(path, "checkpoint.resume", false)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checkpoint.resume: %w", err)
		}
		fmt.Fprintf(r.Log, "checkpoint.resume: no %s in %s yet, starting from scratch\n", name, r.saveDir)
	}
	if s.resumeFile != "" {
		if _, err := os.Stat(s.resumeFile); err != nil {
			return fmt.Errorf("config key checkpoint.resume_file: %w", err)
		}
		return r.loadFile(s.resumeFile, "checkpoint.resume_file", s.resumePretrained)
	}
	if s.resumeZoo != "" {
		path, err := zoo.Find(zoo.Dir(s.zooDir), s.resumeZoo)
		if err != nil {
			return fmt.Errorf("config key checkpoint.resume_zoo: %w", err)
		}
		return r.loadFile(path, "checkpoint.resume_zoo="+s.resumeZoo, true)
	}
	return nil
}

// loadFile loads a checkpoint. A checkpoint of this project for the same model restores the full training state
// unless weightsOnly; otherwise (another model, an ORIG or MMF .pt/.pth, safetensors or .npz) only the matching
// weights are loaded — with weightsOnly only the backbone ("uniter." keys).
func (r *Runner) loadFile(path, why string, weightsOnly bool) error {
	if isProjectCheckpoint(path) {
		ts, st, _, err := readCheckpoint(path)
		if err != nil {
			return fmt.Errorf("%s: %w", why, err)
		}
		same := st.Pretraining == r.state.Pretraining && slices.Equal(st.Heads, r.state.Heads) && sameArchitecture(st.Uniter, r.model)
		if same && !weightsOnly {
			if err := restoreStore(r.store, ts); err != nil {
				return fmt.Errorf("%s %s: %w", why, path, err)
			}
			r.state = *st
			r.s.seed = st.Seed // the data order continues with the seed of the checkpointed run
			if filepath.Dir(path) == filepath.Clean(r.saveDir) && filepath.Base(path) == currentName {
				r.savedStep = st.Step
			}
			if r.state.Data == nil {
				r.state.Data = map[string]batch.State{}
			}
			r.loaded = path
			fmt.Fprintf(r.Log, "%s: resumed from %s at update %d\n", why, path, st.Step)
			return nil
		}
		weights := map[string]*tensors.Tensor{}
		for name, t := range ts {
			if !strings.HasPrefix(name, optimizerScope+"/") && !strings.HasPrefix(name, "/#") {
				weights[uniter.KeyOfPath(name)] = t
			}
		}
		return r.loadWeights(weights, path, why, weightsOnly)
	}
	sd, err := torchckpt.Read(path)
	if err != nil {
		return fmt.Errorf("%s: %w", why, err)
	}
	weights := make(map[string]*tensors.Tensor, len(sd))
	for k, t := range sd {
		weights[k] = tensors.FromFlatDataAndDimensions(t.Data, t.Shape...)
	}
	return r.loadWeights(weights, path, why, weightsOnly)
}

// sameArchitecture reports whether two model configurations have the same variables and computation, ignoring
// the training hyper-parameters (dropout, initialization range, the WRA weight).
func sameArchitecture(a, b uniter.Config) bool {
	a.HiddenDropoutProb, a.AttentionProbsDropoutProb, a.InitializerRange = b.HiddenDropoutProb, b.AttentionProbsDropoutProb, b.InitializerRange
	a.ITMOTLambda = b.ITMOTLambda
	return a == b
}

// loadWeights copies checkpoint tensors (any key spelling uniter.LoadWeights accepts) into the model.
func (r *Runner) loadWeights(weights map[string]*tensors.Tensor, path, why string, backboneOnly bool) error {
	if backboneOnly {
		for k := range weights {
			if !strings.HasPrefix(uniter.CanonicalKey(k), "uniter.") {
				delete(weights, k)
			}
		}
	}
	rep, err := uniter.LoadWeights(r.store, r.model, weights, r.state.Heads...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", why, path, err)
	}
	if len(rep.Loaded) == 0 {
		return fmt.Errorf("%s %s: no tensor of the checkpoint matches the model (%s)", why, path, rep)
	}
	r.loaded = path
	fmt.Fprintf(r.Log, "%s: weights from %s: %s\n", why, path, rep)
	return nil
}

// Run executes the run_type steps: train (with periodic evaluation on val and checkpoints), then val, test
// and inference on the final model (the best checkpoint when one was selected during training).
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	s := r.s
	r.started = time.Now()
	if !s.has("train") && r.loaded == "" {
		return nil, fmt.Errorf("run_type %s evaluates a trained model, but none was loaded: set checkpoint.resume=true with the env.save_dir of a run, checkpoint.resume_file=PATH or checkpoint.resume_zoo=NAME",
			strings.Join(s.steps, "_"))
	}
	if err := os.MkdirAll(r.saveDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating save directory: %w", err)
	}
	if err := r.writeConfig(); err != nil {
		return nil, err
	}
	keep := -1
	if r.state.Step > 0 {
		keep = r.state.Step
	}
	var err error
	if r.metrics, err = openMetricsLog(r.saveDir, keep); err != nil {
		return nil, err
	}
	res := &Result{SaveDir: r.saveDir, Final: map[string]float64{}}
	if s.has("train") {
		if err := r.train(ctx); err != nil {
			return nil, err
		}
		if r.state.Best.Step > 0 && r.state.Best.Step != r.state.Step {
			if err := r.restoreBest(); err != nil {
				return nil, err
			}
		}
	}
	if s.has("val") {
		m, err := r.evaluateAndLog(SplitVal)
		if err != nil {
			return nil, err
		}
		res.Final = m
	}
	for _, step := range []string{"test", "inference"} {
		if !s.has(step) {
			continue
		}
		m, file, err := r.test(step == "test")
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			res.Final[k] = v
		}
		res.Predictions = file
	}
	if len(res.Final) == 0 {
		res.Final = r.state.Evaluation // run_type train: the last periodic evaluation
	}
	res.Step, res.BestStep, res.Elapsed = r.state.Step, r.state.Best.Step, time.Since(r.started)
	return res, nil
}

// restoreBest loads best.ckpt for the final evaluations (MMF restores the best model at the end of training).
func (r *Runner) restoreBest() error {
	path := filepath.Join(r.saveDir, bestName)
	ts, st, _, err := readCheckpoint(path)
	if err != nil {
		return fmt.Errorf("restoring the best checkpoint: %w", err)
	}
	if err := restoreStore(r.store, ts); err != nil {
		return fmt.Errorf("restoring the best checkpoint %s: %w", path, err)
	}
	fmt.Fprintf(r.Log, "final evaluation with the best checkpoint (update %d, %s %.4g)\n", st.Step, r.s.criteria, st.Best.Value)
	return nil
}

// writeConfig saves the effective configuration as config.yaml.
func (r *Runner) writeConfig() error {
	y, err := r.cfg.YAML()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.saveDir, "config.yaml"), func(w io.Writer) error {
		_, err := w.Write(y)
		return err
	})
}

// emit writes a metrics record (with the elapsed time) and calls OnLog.
func (r *Runner) emit(metrics map[string]float64) error {
	metrics["elapsed_s"] = time.Since(r.started).Seconds()
	if r.metrics != nil {
		if err := r.metrics.add(Record{Step: r.state.Step, Metrics: metrics}); err != nil {
			return err
		}
	}
	if r.OnLog != nil {
		r.OnLog(r.state.Step, metrics)
	}
	return nil
}
