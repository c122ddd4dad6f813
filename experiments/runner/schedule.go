package runner

import "fmt"

// Schedule gives the learning rate of each update; step counts updates from 1 (ORIG increments global_step
// before computing the rate, so the first update uses step 1).
type Schedule interface {
	LR(step int) float64
}

// WarmupLinear is ORIG's warmup_linear schedule (optim/sched.py with get_lr_sched): lr·step/W during the W warmup
// steps, then lr·max(0, (T−step)/(T−W)); a rate ≤ 0 is replaced by 1e-8.
type WarmupLinear struct {
	Peak          float64
	Warmup, Total int
}

// LR returns the learning rate of update number step (1-based).
func (s WarmupLinear) LR(step int) float64 {
	var f float64
	if step < s.Warmup {
		f = float64(step) / float64(s.Warmup)
	} else {
		f = max(0, float64(s.Total-step)/float64(s.Total-s.Warmup))
	}
	if lr := s.Peak * f; lr > 0 {
		return lr
	}
	return 1e-8
}

// Constant is a fixed learning rate (training.lr_scheduler: false).
type Constant float64

// LR returns the constant rate.
func (c Constant) LR(int) float64 { return float64(c) }

// newSchedule returns the schedule named by typ (MMF's scheduler.type).
func newSchedule(typ string, peak float64, warmup, total int) (Schedule, error) {
	switch typ {
	case "warmup_linear":
		if warmup < 0 || total <= warmup {
			return nil, fmt.Errorf("scheduler warmup_linear: need 0 ≤ num_warmup_steps (%d) < num_training_steps (%d)", warmup, total)
		}
		return WarmupLinear{Peak: peak, Warmup: warmup, Total: total}, nil
	case "constant", "":
		return Constant(peak), nil
	}
	return nil, fmt.Errorf("unknown scheduler.type %q (known: warmup_linear, constant)", typ)
}
