package batch

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

// testTokens mimics bert-base-uncased: text ids are drawn from [1000,2000), so [MASK] (103) and random ids from
// [999, 30522) are told apart from unchanged ones except for the rare random draw inside [1000,2000).
var testTokens = TokenIDs{CLS: 101, SEP: 102, MASK: 103, RandLo: 999, RandHi: 30522}

// spec describes a synthetic source.
type spec struct {
	images     int
	perImage   int           // examples per image
	boxes      func(int) int // number of regions of image i
	dim        int
	classes    int
	answers    int
	textLen    func(int) int // pieces of example j
	withTarget bool
}

// imageKey names synthetic image i.
func imageKey(i int) string { return fmt.Sprintf("img_%04d", i) }

// featValue is the (never zero) feature value d of region r of image i.
func featValue(i, r, d int) float32 { return float32(i*10000+r*100+d%50) + 1 }

// newSource builds an in-memory source following s, deterministic.
func newSource(t testing.TB, s spec) *dataset.Set {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var imgs []*features.ImageFeatures
	for i := range s.images {
		nb := s.boxes(i)
		f := &features.ImageFeatures{
			ImageID: imageKey(i), Width: 640, Height: 480, NumBoxes: nb, Dim: s.dim, NumClasses: s.classes,
			Features: make([]float32, nb*s.dim), Boxes: make([]float32, nb*4),
		}
		for r := range nb {
			for d := range s.dim {
				f.Features[r*s.dim+d] = featValue(i, r, d)
			}
			copy(f.Boxes[4*r:], []float32{float32(r), float32(2 * r), float32(r + 100), float32(2*r + 50)})
		}
		if s.classes > 0 {
			f.ClassProbs = make([]float32, nb*s.classes)
			for r := range nb {
				f.ClassProbs[r*s.classes+(i+r)%s.classes] = 1
			}
		}
		imgs = append(imgs, f)
	}
	mem, err := dataset.NewMemFeatures(imgs)
	if err != nil {
		t.Fatal(err)
	}
	var exs []dataset.Example
	for i := range s.images {
		for range s.perImage {
			j := len(exs)
			ex := dataset.Example{
				ID: fmt.Sprint(j), ImageID: int64(i), ImageKey: imageKey(i), QuestionID: int64(1000 + j),
				InputIDs: make([]int32, s.textLen(j)),
			}
			for k := range ex.InputIDs {
				ex.InputIDs[k] = 1000 + rng.Int32N(1000)
			}
			if s.withTarget {
				ex.Targets = make([]float32, s.answers)
				ex.Targets[j%s.answers] = 0.9
			}
			exs = append(exs, ex)
		}
	}
	set, err := dataset.NewSet(exs, mem, "memory", s.answers)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// smallSpec is a source of 40 images × 3 examples with varied text and region counts (D 16, 5 classes, 4 answers).
func smallSpec() spec {
	return spec{
		images: 40, perImage: 3, dim: 16, classes: 5, answers: 4, withTarget: true,
		boxes:   func(i int) int { return 3 + i%12 }, // 3..14 regions, some above NumRegions 10
		textLen: func(j int) int { return j % 15 },   // 0..14 pieces, some above TextLen-2 = 10
	}
}

// smallConfig matches smallSpec.
func smallConfig() Config {
	return Config{
		BatchSize: 8, TextLen: 12, NumRegions: 10, FeatDim: 16, LabelDim: 5, NumAnswers: 4, Bucket: 8,
		MLMProb: 0.15, MRMProb: 0.15, ITMNegProb: 0.5, Tokens: testTokens,
	}
}

// newBuilder returns a builder over newSource(s).
func newBuilder(t testing.TB, cfg Config, s spec) *Builder {
	t.Helper()
	b, err := NewBuilder(cfg, newSource(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkRate fails when got/n is not within tol of want.
func checkRate(t *testing.T, what string, got, n int, want, tol float64) {
	t.Helper()
	if n == 0 {
		t.Fatalf("%s: no samples", what)
	}
	if r := float64(got) / float64(n); r < want-tol || r > want+tol {
		t.Errorf("%s = %.4f (%d/%d), want %.3f ± %.3f", what, r, got, n, want, tol)
	}
}
