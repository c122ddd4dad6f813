package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend/fastcpu"
)

// TestCompareKernelSidesAgree times a tiny training step with each CPU kernel on and off. Both sides start from the
// same weights and batch, and the kernels compute bit-identical results, so their losses after the same number of
// updates are equal. The switches are left as they were.
func TestCompareKernelSidesAgree(t *testing.T) {
	be := testBackend(t)
	for _, kernel := range append(fastcpu.Kernels(), "all") {
		c, err := CompareKernel(be, tinySpec(TaskVQA, ModeTrain), Options{Warmup: 1, Steps: 2}, kernel)
		if err != nil {
			t.Fatalf("%s: %v", kernel, err)
		}
		if len(c.On.Seconds) != 2 || len(c.Off.Seconds) != 2 || c.On.Median <= 0 || c.Off.Median <= 0 {
			t.Errorf("%s: bad timings %+v / %+v", kernel, c.On, c.Off)
		}
		if c.On.Loss != c.Off.Loss || math.IsNaN(c.On.Loss) {
			t.Errorf("%s: loss %g with the kernel, %g without", kernel, c.On.Loss, c.Off.Loss)
		}
		if !strings.HasPrefix(c.String(), "kernel="+kernel+" on_step_seconds=") {
			t.Errorf("summary line %q", c.String())
		}
	}
	for _, kernel := range fastcpu.Kernels() {
		if on, _ := fastcpu.Enabled(kernel); !on {
			t.Errorf("%s left switched off", kernel)
		}
	}
	if _, err := CompareKernel(be, tinySpec(TaskVQA, ModeTrain), Options{Warmup: 1, Steps: 1}, "fma"); err == nil {
		t.Error("unknown kernel accepted")
	}
}
