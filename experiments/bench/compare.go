package bench

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend/fastcpu"
)

// Comparison is the outcome of CompareKernel: the same step with a kernel of the Go backend on and off.
type Comparison struct {
	Kernel  string
	On, Off Result // PeakRSSMB is the process's, not set per side.
}

// String is the summary line scripts parse: the medians of both sides and their ratio.
func (c Comparison) String() string {
	return fmt.Sprintf("kernel=%s on_step_seconds=%.4f off_step_seconds=%.4f on_cpu_seconds=%.3f off_cpu_seconds=%.3f speedup=%.3f cpu_speedup=%.3f",
		c.Kernel, c.On.Median, c.Off.Median, c.On.CPUSeconds, c.Off.CPUSeconds, c.Off.Median/c.On.Median,
		c.Off.CPUSeconds/c.On.CPUSeconds)
}

// CompareKernel times the step of spec with one of the project's CPU kernels of the Go backend (fastcpu.Kernels),
// or "all" of them, switched on and off, in one process: two copies of the step, compiled with the kernel on and off, take turns step by
// step (in alternating order), so both sides see the same load of the machine. CPU times are the medians of the
// per-step process CPU times. The kernel switches are left as they were.
func CompareKernel(backend compute.Backend, spec Spec, opts Options, kernel string) (Comparison, error) {
	if opts.Steps <= 0 || opts.Warmup < 0 {
		return Comparison{}, fmt.Errorf("bench: need steps > 0 and warmup >= 0, got %d and %d", opts.Steps, opts.Warmup)
	}
	names := []string{kernel}
	if kernel == "all" {
		names = fastcpu.Kernels()
	}
	for _, name := range names {
		previous, err := fastcpu.Enabled(name)
		if err != nil {
			return Comparison{}, fmt.Errorf("bench: %w", err)
		}
		defer fastcpu.SetEnabled(name, previous) //nolint:errcheck // the name was accepted above
	}
	set := func(on bool) {
		for _, name := range names {
			fastcpu.SetEnabled(name, on) //nolint:errcheck
		}
	}
	var runners [2]*Runner // on, off
	var results [2]Result
	var cpu [2][]float64
	for side, on := range []bool{true, false} {
		set(on)
		r, err := New(backend, spec, 1)
		if err != nil {
			return Comparison{}, err
		}
		defer r.Finalize()
		if results[side].CompileSeconds, err = r.Compile(); err != nil {
			return Comparison{}, err
		}
		runners[side] = r
	}
	for i := range opts.Warmup + opts.Steps {
		for j := range 2 {
			side := (i + j) % 2 // alternate which side goes first
			set(side == 0)
			start, cpuStart := time.Now(), cpuSeconds()
			var err error
			if results[side].Loss, err = runners[side].Step(); err != nil {
				return Comparison{}, err
			}
			if i >= opts.Warmup {
				results[side].Seconds = append(results[side].Seconds, time.Since(start).Seconds())
				cpu[side] = append(cpu[side], cpuSeconds()-cpuStart)
			}
		}
	}
	for side := range 2 {
		res := &results[side]
		res.Median = median(res.Seconds)
		res.CPUSeconds = median(cpu[side])
		res.ExamplesPerSec = float64(spec.Batch) / res.Median
		res.GFLOPs = spec.FLOPs() / res.Median / 1e9
	}
	return Comparison{Kernel: kernel, On: results[0], Off: results[1]}, nil
}
