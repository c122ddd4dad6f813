package batch

import (
	"math/rand/v2"
	"testing"
)

// baseShapes is a UNITER-base shaped setup: batch 32, Lt 60, Nr 36, D 2048, 1601 classes, 3129 answers, over 256
// in-memory images with 36 regions and 512 examples of 8..40 pieces.
func baseShapes(b *testing.B) *Builder {
	cfg := Config{
		BatchSize: 32, TextLen: 60, NumRegions: 36, FeatDim: 2048, LabelDim: 1601, NumAnswers: 3129, Bucket: 8,
		MLMProb: 0.15, MRMProb: 0.15, ITMNegProb: 0.5, Tokens: testTokens,
	}
	s := spec{
		images: 256, perImage: 2, dim: 2048, classes: 1601, answers: 3129, withTarget: true,
		boxes:   func(int) int { return 36 },
		textLen: func(j int) int { return 8 + j%33 },
	}
	return newBuilder(b, cfg, s)
}

// BenchmarkBuild measures single-goroutine batch construction per task; the batches/s metric is the throughput.
func BenchmarkBuild(b *testing.B) {
	bl := baseShapes(b)
	for _, task := range []Task{TaskVQA, TaskMLM, TaskMRFR, TaskMRCKL, TaskITM} {
		b.Run(string(task), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			idx := make([]int, bl.cfg.BatchSize)
			i := 0
			for b.Loop() {
				for r := range idx {
					idx[r] = (i + r) % bl.src.Len()
				}
				i += len(idx)
				if _, err := bl.Build(task, idx, rng); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
		})
	}
}

// BenchmarkIterator measures the prefetching iterator (shuffled, endless) as a training loop sees it.
func BenchmarkIterator(b *testing.B) {
	bl := baseShapes(b)
	for _, task := range []Task{TaskMLM, TaskMRFR} {
		b.Run(string(task), func(b *testing.B) {
			it, err := NewIterator(bl, IterOptions{Task: task, Seed: 1, Shuffle: true, Prefetch: 4})
			if err != nil {
				b.Fatal(err)
			}
			defer it.Close()
			for b.Loop() {
				if _, err := it.Next(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
		})
	}
}
