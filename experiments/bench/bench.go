// Package bench times UNITER forward passes and training steps (VQA finetuning and each pretraining task) on
// synthetic batches of fixed shape, for `uniter bench` and the `go test -bench` benchmarks.
//
// A training step is what the runner does per batch: the backbone and the task's head and loss with dropout on,
// the gradients of every trainable variable the loss uses, global-norm clipping and ORIG's AdamW update
// (runner.AdamW). A forward step is the same graph to the loss in evaluation mode, without gradients.
package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Modes of a benchmark step.
const (
	ModeTrain   = "train"
	ModeForward = "forward"
	// ModeGrad is a training step without the optimizer: forward and gradients, reduced to their global norm. Its
	// difference from ModeTrain is the cost of the AdamW update.
	ModeGrad = "grad"
)

// Modes lists the modes a Spec accepts.
var Modes = []string{ModeTrain, ModeForward, ModeGrad}

// Tasks a step can run: VQA finetuning and the pretraining tasks.
const (
	TaskVQA  = "vqa"
	TaskMLM  = "mlm"
	TaskMRFR = "mrfr"
	TaskMRC  = "mrc"
	TaskITM  = "itm"
)

// Tasks lists every task in the order the benchmarks run them.
var Tasks = []string{TaskVQA, TaskMLM, TaskMRFR, TaskMRC, TaskITM}

// maskRate is the fraction of text tokens (MLM) or regions (MRFR, MRC) masked per example, as in ORIG.
const maskRate = 0.15

// Spec describes one benchmark.
type Spec struct {
	Config  uniter.Config
	Batch   int
	TextLen int // Lt, padded text length.
	Regions int // Nr, padded number of regions.
	Mode    string
	Task    string
	// DType is the activation dtype: Float32, or BFloat16 for mixed precision (float32 weights, optimizer and loss).
	DType dtypes.DType
	// FullLastLayer makes the VQA step compute every row of the last layer, as ORIG's PyTorch code does. By default
	// it computes the [CLS] row alone, the only one the VQA head reads (uniter.Options.PooledOnly).
	FullLastLayer bool
	// FusedAttention runs the self-attention through the backend's fused attention where it can
	// (uniter.SetFusedAttention): cuDNN flash attention on xla:cuda with BFloat16.
	FusedAttention bool
}

// pooledOnly reports whether the step computes the last layer for the [CLS] row alone.
func (s Spec) pooledOnly() bool { return s.Task == TaskVQA && !s.FullLastLayer }

// Validate reports the first unusable field.
func (s Spec) Validate() error {
	if err := s.Config.Validate(); err != nil {
		return err
	}
	switch {
	case s.Batch <= 0 || s.TextLen < 2 || s.Regions <= 0:
		return fmt.Errorf("bench: batch (%d) and regions (%d) must be positive and text length (%d) at least 2",
			s.Batch, s.Regions, s.TextLen)
	case !slices.Contains(Modes, s.Mode):
		return fmt.Errorf("bench: unknown mode %q (known: %s)", s.Mode, strings.Join(Modes, ", "))
	case !slices.Contains(Tasks, s.Task):
		return fmt.Errorf("bench: unknown task %q (known: %s)", s.Task, strings.Join(Tasks, ", "))
	case s.DType != dtypes.Float32 && s.DType != dtypes.BFloat16:
		return fmt.Errorf("bench: dtype %s not supported (float32 or bfloat16)", s.DType)
	}
	return nil
}

// maskedTokens is the number of MLM positions per example: 15% of the real tokens between [CLS] and [SEP].
func (s Spec) maskedTokens() int { return max(1, int(maskRate*float64(s.TextLen-2)+0.5)) }

// maskedRegions is the number of MRM-masked regions per example.
func (s Spec) maskedRegions() int { return max(1, int(maskRate*float64(s.Regions)+0.5)) }

// FLOPs returns the floating-point operations of one step counted from its matrix products (2 per multiply-add):
// the forward pass, and three times that for a training or gradient step (forward, then input and weight gradients).
// Element-wise work, the optimizer update and IPOT are not counted.
func (s Spec) FLOPs() float64 {
	c := s.Config
	b, h, l := float64(s.Batch), float64(c.HiddenSize), float64(s.TextLen+s.Regions)
	nr := float64(s.Regions)
	// layer counts a layer computed for q query rows out of l.
	layer := func(q float64) float64 {
		return 2*b*l*h*h*2 + 2*b*q*h*h*2 + 2*b*q*l*h*2 + 2*b*q*h*float64(c.IntermediateSize)*2
	}
	f := float64(c.NumHiddenLayers)*layer(l) + 2*b*nr*h*float64(c.ImgDim+c.PosDim) + 2*b*h*h // embeddings, pooler
	if s.pooledOnly() && c.NumHiddenLayers > 0 {
		f += layer(1) - layer(l)
	}
	kt, kr := b*float64(s.maskedTokens()), b*float64(s.maskedRegions())
	switch s.Task {
	case TaskVQA:
		f += 2*b*h*2*h + 2*b*2*h*float64(c.NumAnswers)
	case TaskMLM:
		f += 2*kt*h*h + 2*kt*h*float64(c.VocabSize)
	case TaskMRFR:
		f += 2*kr*h*h + 2*kr*h*float64(c.ImgDim)
	case TaskMRC:
		f += 2*kr*h*h + 2*kr*h*float64(c.ImgLabelDim)
	case TaskITM:
		f += 2*b*h*2 + 2*b*float64(s.TextLen)*nr*h // ITM head, OT cosine cost
	}
	if s.Mode != ModeForward {
		f *= 3
	}
	return f
}

// Result is the outcome of Run.
type Result struct {
	Seconds []float64 // wall time of each timed step.
	Median  float64   // median of Seconds.
	// CPUSeconds is the process's CPU time (user + system) per timed step, the mean; with other processes on the
	// machine it varies less than the wall time.
	CPUSeconds float64
	// CompileSeconds is the time to build and compile the step's graph, before any step runs.
	CompileSeconds float64
	ExamplesPerSec float64
	GFLOPs         float64 // Spec.FLOPs / Median / 1e9.
	PeakRSSMB      float64 // the process's peak resident memory (VmHWM), 0 where unknown.
	Loss           float64 // loss of the last step.
}

// String is the summary line scripts parse (it is always printed last by `uniter bench`).
func (r Result) String() string {
	return fmt.Sprintf("step_seconds=%.4f examples_per_s=%.2f gflops=%.1f peak_rss_mb=%.0f compile_seconds=%.2f",
		r.Median, r.ExamplesPerSec, r.GFLOPs, r.PeakRSSMB, r.CompileSeconds)
}

// Runner holds a compiled benchmark step and its model.
type Runner struct {
	spec  Spec
	store *model.Store
	exec  *named.Exec
	batch named.Tensors
}

// New builds the step of spec on backend, with variables initialised from seed; nothing runs until Step.
func New(backend compute.Backend, spec Spec, seed uint64) (*Runner, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(seed))
	uniter.SetComputeDType(store.RootScope(), spec.DType)
	uniter.SetFusedAttention(store.RootScope(), spec.FusedAttention)
	r := &Runner{spec: spec, store: store, batch: newBatch(spec, seed)}
	exec, err := named.NewExec(backend, store, r.graph)
	if err != nil {
		return nil, fmt.Errorf("bench: building the %s %s step: %w", spec.Task, spec.Mode, err)
	}
	r.exec = exec
	return r, nil
}

// Step runs one step on the runner's batch and returns the loss.
func (r *Runner) Step() (float64, error) {
	in := make(named.Tensors, len(r.batch))
	for name, t := range r.batch { // fresh copies: an Exec call may take ownership of its arguments
		c, err := t.LocalClone()
		if err != nil {
			return 0, fmt.Errorf("bench: copying input %s: %w", name, err)
		}
		in[name] = c
	}
	outs, err := r.exec.Call(in)
	if err != nil {
		return 0, fmt.Errorf("bench: %s %s step: %w", r.spec.Task, r.spec.Mode, err)
	}
	loss := tensors.MustCopyFlatData[float32](outs["loss"])[0]
	for _, o := range outs {
		o.MustFinalizeAll()
	}
	return float64(loss), nil
}

// Compile builds and compiles the step's graph for the runner's batch and returns the time it took.
func (r *Runner) Compile() (float64, error) {
	start := time.Now()
	if err := r.exec.Compile(r.batch); err != nil {
		return 0, fmt.Errorf("bench: compiling the %s %s step: %w", r.spec.Task, r.spec.Mode, err)
	}
	return time.Since(start).Seconds(), nil
}

// Finalize releases the compiled step.
func (r *Runner) Finalize() { r.exec.Finalize() }

// Options control Run.
type Options struct {
	Warmup int // untimed steps first (the graph is compiled before them: Result.CompileSeconds).
	Steps  int // timed steps.
	// BeforeTimed, when set, is called once between the warm-up and the timed steps (e.g. to start a profile).
	BeforeTimed func()
}

// Run builds the step, runs the warm-up steps, then times the timed ones.
func Run(backend compute.Backend, spec Spec, opts Options) (Result, error) {
	if opts.Steps <= 0 || opts.Warmup < 0 {
		return Result{}, fmt.Errorf("bench: need steps > 0 and warmup >= 0, got %d and %d", opts.Steps, opts.Warmup)
	}
	r, err := New(backend, spec, 1)
	if err != nil {
		return Result{}, err
	}
	defer r.Finalize()
	var res Result
	if res.CompileSeconds, err = r.Compile(); err != nil {
		return Result{}, err
	}
	var cpuStart float64
	for i := range opts.Warmup + opts.Steps {
		if i == opts.Warmup {
			if opts.BeforeTimed != nil {
				opts.BeforeTimed()
			}
			cpuStart = cpuSeconds()
		}
		start := time.Now()
		if res.Loss, err = r.Step(); err != nil {
			return Result{}, err
		}
		if i >= opts.Warmup {
			res.Seconds = append(res.Seconds, time.Since(start).Seconds())
		}
	}
	res.CPUSeconds = (cpuSeconds() - cpuStart) / float64(opts.Steps)
	res.Median = median(res.Seconds)
	res.ExamplesPerSec = float64(spec.Batch) / res.Median
	res.GFLOPs = spec.FLOPs() / res.Median / 1e9
	res.PeakRSSMB = PeakRSSMB()
	return res, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cpuSeconds returns the CPU time (user + system) the process has used so far, 0 where unknown.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// PeakRSSMB returns the process's peak resident set size in MiB (VmHWM of /proc/self/status), 0 where unknown.
func PeakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// graph builds the step: the task loss, and for training the AdamW update of every variable it uses.
func (r *Runner) graph(scope *model.Scope, in named.Nodes) named.Nodes {
	g := in["InputIDs"].Graph()
	r.store.SetTraining(g, r.spec.Mode != ModeForward)
	loss := taskLoss(scope, r.spec, in)
	out := named.Nodes{"loss": loss}
	if r.spec.Mode == ModeForward {
		return out
	}
	vars := runner.TrainableVariables(r.store, g, nil)
	values := make([]*Node, len(vars))
	for i, v := range vars {
		values[i] = v.NodeValue(g)
	}
	grads := Gradient(loss, values...)
	if r.spec.Mode == ModeGrad {
		out["grad_norm"] = runner.GlobalNorm(grads)
		return out
	}
	opt := &runner.AdamW{Beta1: 0.9, Beta2: 0.98, Eps: 1e-6, WeightDecay: 0.01, MaxGradNorm: 2,
		LRMultipliers: map[string]float64{"vqa_output.": 10}}
	opt.Update(r.store, vars, grads, Scalar(g, dtypes.Float32, 8e-5), false, 1)
	return out
}

// taskLoss builds the task's objective on the inputs of newBatch and returns its loss. ITM includes word-region
// alignment, weighted by the config's itm_ot_lambda, as ORIG's itm task.
func taskLoss(scope *model.Scope, spec Spec, in named.Nodes) *Node {
	cfg := spec.Config
	switch spec.Task {
	case TaskVQA:
		x := named.Bind[uniter.VQAInputs](in)
		x.Options.PooledOnly = spec.pooledOnly()
		return uniter.VQA(scope, cfg, x).Loss
	case TaskMLM:
		return uniter.MaskedLanguageModeling(scope, cfg, named.Bind[uniter.MLMInputs](in)).Loss
	case TaskMRFR:
		return uniter.MaskedRegionFeatureRegression(scope, cfg, named.Bind[uniter.MRMInputs](in)).Loss
	case TaskMRC:
		return uniter.MaskedRegionClassificationKL(scope, cfg, named.Bind[uniter.MRMInputs](in)).Loss
	default: // TaskITM
		return uniter.ImageTextMatching(scope, cfg, named.Bind[uniter.ITMInputs](in)).Loss
	}
}

// newBatch returns a synthetic batch of the task's objective inputs, by name: all text tokens and regions real,
// fixed by the seed.
func newBatch(spec Spec, seed uint64) named.Tensors {
	c := spec.Config
	r := rand.New(rand.NewPCG(seed, 2))
	bs, lt, nr := spec.Batch, spec.TextLen, spec.Regions
	floats := func(n int, f func() float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = f()
		}
		return x
	}
	one := func() float32 { return 1 }
	ids := make([]int32, bs*lt)
	for i := range ids {
		ids[i] = int32(1000 + r.IntN(c.VocabSize-1000))
	}
	feat := floats(bs*nr*c.ImgDim, func() float32 { return max(0, 2*float32(r.NormFloat64())) })
	pos := floats(bs*nr*c.PosDim, r.Float32)
	t := named.Tensors{
		"TxtMask": tensors.FromFlatDataAndDimensions(floats(bs*lt, one), bs, lt),
		"ImgPos":  tensors.FromFlatDataAndDimensions(pos, bs, nr, c.PosDim),
		"ImgMask": tensors.FromFlatDataAndDimensions(floats(bs*nr, one), bs, nr),
	}
	// positions returns k distinct (b, index) rows per example, index in [lo, hi), and a [B,n] 0/1 mask of them.
	positions := func(k, lo, hi, n int) ([]int32, []float32) {
		pos, mask := make([]int32, 0, 2*bs*k), make([]float32, bs*n)
		for b := range bs {
			for _, j := range r.Perm(hi - lo)[:k] {
				pos = append(pos, int32(b), int32(lo+j))
				mask[b*n+lo+j] = 1
			}
		}
		return pos, mask
	}
	switch spec.Task {
	case TaskVQA:
		targets := floats(bs*c.NumAnswers, func() float32 {
			if r.Float64() < 0.002 {
				return 1
			}
			return 0
		})
		t["Targets"] = tensors.FromFlatDataAndDimensions(targets, bs, c.NumAnswers)
	case TaskMLM:
		k := spec.maskedTokens()
		p, _ := positions(k, 1, lt-1, lt)
		labels := make([]int32, bs*k)
		for i := range labels {
			b, j := p[2*i], p[2*i+1]
			labels[i] = ids[int(b)*lt+int(j)]
			ids[int(b)*lt+int(j)] = 103 // [MASK]
		}
		t["Positions"], t["Labels"] = tensors.FromFlatDataAndDimensions(p, bs*k, 2), tensors.FromFlatDataAndDimensions(labels, bs*k)
	case TaskMRFR, TaskMRC:
		k := spec.maskedRegions()
		p, mask := positions(k, 0, nr, nr)
		if spec.Task == TaskMRFR {
			t["Targets"] = tensors.FromFlatDataAndDimensions(floats(bs*k*c.ImgDim, r.Float32), bs*k, c.ImgDim)
		} else {
			t["Targets"] = tensors.FromFlatDataAndDimensions(softmaxRows(floats(bs*k*c.ImgLabelDim, r.Float32), c.ImgLabelDim), bs*k, c.ImgLabelDim)
		}
		for i, m := range mask { // ORIG zeroes the features of the masked regions.
			if m == 1 {
				clear(feat[i*c.ImgDim : (i+1)*c.ImgDim])
			}
		}
		t["MRMMask"], t["Positions"] = tensors.FromFlatDataAndDimensions(mask, bs, nr), tensors.FromFlatDataAndDimensions(p, bs*k, 2)
	case TaskITM:
		labels := make([]int32, bs)
		for i := range labels {
			labels[i] = int32(i % 2)
		}
		t["Labels"] = tensors.FromFlatDataAndDimensions(labels, bs)
	}
	// ids and feat are final now that MLM / MRM have masked them.
	t["InputIDs"] = tensors.FromFlatDataAndDimensions(ids, bs, lt)
	t["ImgFeat"] = tensors.FromFlatDataAndDimensions(feat, bs, nr, c.ImgDim)
	return t
}

// softmaxRows turns each row of x (width n) into a probability distribution, in place, with a sharp peak.
func softmaxRows(x []float32, n int) []float32 {
	for i := 0; i < len(x); i += n {
		row := x[i : i+n]
		var sum float32
		for j := range row {
			row[j] = row[j] * row[j] * row[j] * row[j] // values in [0,1): most mass on a few classes.
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
	}
	return x
}
