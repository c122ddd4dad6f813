package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// tinySpec is a small configuration that compiles and runs in well under a second.
func tinySpec(task, mode string) Spec {
	cfg := uniter.Tiny()
	cfg.VocabSize, cfg.ImgDim, cfg.ImgLabelDim, cfg.NumAnswers = 2000, 32, 11, 16
	return Spec{Config: cfg, Batch: 3, TextLen: 8, Regions: 6, Mode: mode, Task: task, DType: dtypes.Float32}
}

func TestFLOPsCountsMatrixProducts(t *testing.T) {
	s := Spec{Config: uniter.Base(), Batch: 8, TextLen: 60, Regions: 36, Mode: ModeForward, Task: TaskVQA,
		DType: dtypes.Float32, FullLastLayer: true}
	// Per layer (B=8, L=96, H=768, I=3072): q,k,v,o 2·B·L·H²·4 + scores and context 2·B·L²·H·2 + FFN 2·B·L·H·I·2
	// = 11,098,128,384; image embeddings 2·B·36·H·(2048+7) = 909,066,240; pooler 2·B·H² = 9,437,184;
	// VQA head 2·B·H·2H + 2·B·2H·3129 = 95,772,672.
	const forward = 12*11_098_128_384 + 909_066_240 + 9_437_184 + 95_772_672
	if got := s.FLOPs(); got != forward {
		t.Errorf("forward FLOPs %.0f, want %d", got, int64(forward))
	}
	s.Mode = ModeTrain
	if got := s.FLOPs(); got != 3*forward {
		t.Errorf("training FLOPs %.0f, want %d", got, int64(3*forward))
	}
	// With only the [CLS] row in the last layer: k,v for all 96 rows, the rest for one row.
	s.FullLastLayer = false
	lastFull := 11_098_128_384.0
	lastCLS := 2*8*96*768*768*2.0 + 2*8*768*768*2 + 2*8*96*768*2 + 2*8*768*3072*2
	if got, want := s.FLOPs(), 3*(forward-lastFull+lastCLS); got != want {
		t.Errorf("training FLOPs with the [CLS]-only last layer %.0f, want %.0f", got, want)
	}
}

func TestSpecValidateRejectsBadFields(t *testing.T) {
	for name, edit := range map[string]func(*Spec){
		"mode":       func(s *Spec) { s.Mode = "backward" },
		"task":       func(s *Spec) { s.Task = "nlvr2" },
		"dtype":      func(s *Spec) { s.DType = dtypes.Float16 },
		"batch":      func(s *Spec) { s.Batch = 0 },
		"text":       func(s *Spec) { s.TextLen = 1 },
		"regions":    func(s *Spec) { s.Regions = 0 },
		"bad config": func(s *Spec) { s.Config.NumAttentionHeads = 5 },
	} {
		s := tinySpec(TaskVQA, ModeTrain)
		edit(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: invalid spec accepted", name)
		}
	}
	if _, err := Run(nil, tinySpec(TaskVQA, ModeTrain), Options{Steps: 0}); err == nil {
		t.Error("Run accepted zero timed steps")
	}
}

// TestEveryTaskTrainsAndRuns runs each task's training step (and its forward step) on the tiny model: the loss
// must be finite and, for repeated training steps on the same batch, go down.
func TestEveryTaskTrainsAndRuns(t *testing.T) {
	be := testBackend(t)
	for _, task := range Tasks {
		r, err := New(be, tinySpec(task, ModeTrain), 3)
		if err != nil {
			t.Fatal(err)
		}
		var losses []float64
		for range 4 {
			loss, err := r.Step()
			if err != nil {
				t.Fatalf("%s: %v", task, err)
			}
			losses = append(losses, loss)
		}
		r.Finalize()
		if math.IsNaN(losses[3]) || math.IsInf(losses[3], 0) || losses[3] >= losses[0] {
			t.Errorf("%s: training losses %v do not go down", task, losses)
		}
		res, err := Run(be, tinySpec(task, ModeForward), Options{Warmup: 1, Steps: 2})
		if err != nil {
			t.Fatalf("%s forward: %v", task, err)
		}
		if len(res.Seconds) != 2 || res.Median <= 0 || res.ExamplesPerSec <= 0 || math.IsNaN(res.Loss) {
			t.Errorf("%s forward: bad result %+v", task, res)
		}
		if line := res.String(); !strings.HasPrefix(line, "step_seconds=") || !strings.Contains(line, " peak_rss_mb=") {
			t.Errorf("%s forward: summary line %q", task, line)
		}
	}
}

// BenchmarkStep times UNITER-base training and forward steps (batch 8, 60 text + 36 regions) for every task:
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go:parallelism=-1 go test -tags noxla -run - -bench Step ./experiments/bench
func BenchmarkStep(b *testing.B) {
	be := testBackend(b)
	for _, task := range Tasks {
		for _, mode := range []string{ModeTrain, ModeForward} {
			b.Run(task+"/"+mode, func(b *testing.B) {
				spec := Spec{Config: uniter.Base(), Batch: 8, TextLen: 60, Regions: 36, Mode: mode, Task: task,
					DType: dtypes.Float32}
				r, err := New(be, spec, 1)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Finalize()
				if _, err := r.Step(); err != nil { // compiles
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if _, err := r.Step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(spec.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(spec.Batch*b.N)/b.Elapsed().Seconds(), "examples/s")
			})
		}
	}
}
