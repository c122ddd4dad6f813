package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend/fastcpu"
	"github.com/uniter-go/uniter/experiments/bench"
	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
)

func init() {
	register("bench", "time forward passes or training steps (VQA or a pretraining task) on synthetic batches", benchCmd)
}

// benchModels are the configurations --model accepts.
var benchModels = map[string]func() uniter.Config{"base": uniter.Base, "large": uniter.Large, "tiny": uniter.Tiny}

func benchCmd(args []string) error { return runBench(args, os.Stdout) }

// runBench parses the bench arguments, runs the benchmark and prints its report to w, the summary line last.
func runBench(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	modelName := fs.String("model", "base", "model configuration: base, large or tiny")
	layers := fs.Int("layers", -1, "override the number of encoder layers (-1: the model's)")
	hidden := fs.Int("hidden", 0, "override the hidden size (0: the model's)")
	heads := fs.Int("heads", 0, "override the number of attention heads (0: the model's)")
	intermediate := fs.Int("intermediate", 0, "override the feed-forward size (0: the model's)")
	imgDim := fs.Int("img-dim", 0, "override the region feature size (0: the model's)")
	batch := fs.Int("batch", 8, "examples per batch")
	textLen := fs.Int("text-len", 60, "text tokens per example (padded length)")
	regions := fs.Int("regions", 36, "image regions per example (padded count)")
	mode := fs.String("mode", bench.ModeTrain, "train (forward, backward, AdamW), forward (evaluation mode) or grad (train without the optimizer update)")
	task := fs.String("task", bench.TaskVQA, "vqa, mlm, mrfr, mrc or itm")
	steps := fs.Int("steps", 5, "timed steps (the median is reported)")
	warmup := fs.Int("warmup", 2, "untimed steps first (the first compiles the graph)")
	backendSpec := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go:parallelism=-1), e.g. xla:/abs/path/plugin.so")
	dtypeName := fs.String("dtype", "float32", "float32, or bfloat16 for mixed precision (bf16 matrix products, fp32 weights and loss)")
	fullLastLayer := fs.Bool("full-last-layer", false, "VQA: compute every row of the last layer (default: only the [CLS] row the head reads)")
	fusedAttention := fs.Bool("fused-attention", false, "self-attention through the backend's fused attention (cuDNN flash attention on xla:cuda with bfloat16); sets the attention dropout to 0, which it does not have")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	compareKernel := fs.String("compare-kernel", "", "Go backend: time the step with this CPU kernel on and off, steps interleaved in one process ("+
		strings.Join(fastcpu.Kernels(), ", ")+", or all)")
	dropout := fs.Float64("dropout", -1, "override the hidden and attention dropout (-1: the model's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	newCfg, ok := benchModels[*modelName]
	if !ok {
		return fmt.Errorf("unknown --model %q (known: base, large, tiny)", *modelName)
	}
	cfg := newCfg()
	if *layers >= 0 {
		cfg.NumHiddenLayers = *layers
	}
	for _, o := range []struct {
		flag  int
		field *int
	}{{*hidden, &cfg.HiddenSize}, {*heads, &cfg.NumAttentionHeads}, {*intermediate, &cfg.IntermediateSize}, {*imgDim, &cfg.ImgDim}} {
		if o.flag > 0 {
			*o.field = o.flag
		}
	}
	if *dropout >= 0 {
		cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = *dropout, *dropout
	}
	if *fusedAttention {
		cfg.AttentionProbsDropoutProb = 0
	}
	var dt dtypes.DType
	switch *dtypeName {
	case "float32":
		dt = dtypes.Float32
	case "bfloat16":
		dt = dtypes.BFloat16
	default:
		return fmt.Errorf("unknown --dtype %q (float32 or bfloat16)", *dtypeName)
	}
	spec := bench.Spec{Config: cfg, Batch: *batch, TextLen: *textLen, Regions: *regions, Mode: *mode, Task: *task, DType: dt,
		FullLastLayer: *fullLastLayer, FusedAttention: *fusedAttention}
	if err := spec.Validate(); err != nil {
		return err
	}
	be, err := backend.New(*backendSpec)
	if err != nil {
		return err
	}
	defer be.Finalize()
	attention := "decomposed attention"
	if *fusedAttention {
		attention = "fused attention where the backend has it, attention dropout 0"
	}
	fmt.Fprintf(w, "# backend %q (%s), model %s (%d layers), %s %s, batch %d, %d text + %d regions, %s, %s, %.1f GFLOP/step\n",
		backend.Spec(*backendSpec), be.Description(), *modelName, cfg.NumHiddenLayers, *task, *mode, *batch, *textLen, *regions,
		dt, attention, spec.FLOPs()/1e9)
	opts := bench.Options{Warmup: *warmup, Steps: *steps}
	if *compareKernel != "" {
		c, err := bench.CompareKernel(be, spec, opts, *compareKernel)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# %s on:  %s\n# %s off: %s\n", c.Kernel, c.On, c.Kernel, c.Off)
		fmt.Fprintln(w, c)
		return nil
	}
	if *cpuProfile != "" { // profile the timed steps only, not the compilation
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("creating %s: %w", *cpuProfile, err)
		}
		defer f.Close()
		var profileErr error
		opts.BeforeTimed = func() { profileErr = pprof.StartCPUProfile(f) }
		defer func() {
			if profileErr == nil {
				pprof.StopCPUProfile()
			}
		}()
	}
	res, err := bench.Run(be, spec, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# steps (s):")
	for _, s := range res.Seconds {
		fmt.Fprintf(w, " %.3f", s)
	}
	fmt.Fprintf(w, "; %.2f CPU s/step; compile %.2f s; last loss %.4f; load %s\n", res.CPUSeconds, res.CompileSeconds, res.Loss,
		loadAverage())
	fmt.Fprintln(w, res)
	return nil
}

// loadAverage returns the 1-minute load average of the machine ("?" where unknown), printed with the timings
// because other processes skew them.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
