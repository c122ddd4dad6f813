package runner

import (
	"math"
	"testing"
)

func TestWarmupLinearORIG(t *testing.T) {
	// ORIG optim/sched.py warmup_linear with train-vqa-base-4gpu.json (total 6000, warmup 600, lr 8e-5); ORIG
	// counts the step after the increment.
	s := WarmupLinear{Peak: 8e-5, Warmup: 600, Total: 6000}
	for _, c := range []struct {
		step int
		want float64
	}{
		{1, 8e-5 / 600}, // the first update already uses lr/W
		{300, 4e-5},
		{600, 8e-5},
		{3300, 4e-5},
		{5999, 8e-5 / 5400},
		{6000, 1e-8}, // clamped
		{7000, 1e-8},
	} {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("LR(%d) = %g, want %g", c.step, got, c.want)
		}
	}
}

func TestNewSchedule(t *testing.T) {
	if _, err := newSchedule("warmup_linear", 1e-4, 100, 100); err == nil {
		t.Error("warmup ≥ total accepted")
	}
	if _, err := newSchedule("cosine", 1e-4, 0, 10); err == nil {
		t.Error("unknown scheduler accepted")
	}
	s, err := newSchedule("constant", 3e-4, 0, 10)
	if err != nil || s.LR(5) != 3e-4 {
		t.Errorf("constant schedule: %v, %v", s, err)
	}
}
