package batch

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

// imageIndex inverts imageKey.
func imageIndex(t *testing.T, key string) int {
	i, err := strconv.Atoi(strings.TrimPrefix(key, "img_"))
	if err != nil {
		t.Fatalf("bad image key %q", key)
	}
	return i
}

// checkCommon checks the text, image and padding rows every task shares; it returns the real text length of each
// row. Text is compared with the original pieces except at skipText positions (MLM).
func checkCommon(t *testing.T, b *Builder, bt *Batch, indices []int, skipText map[[2]int]bool) {
	t.Helper()
	c := b.cfg
	Lt, Nr, D := c.TextLen, c.NumRegions, c.FeatDim
	if bt.Size != c.BatchSize || bt.TextLen != Lt || bt.NumRegions != Nr || bt.FeatDim != D {
		t.Fatalf("batch sizes %d,%d,%d,%d, want %d,%d,%d,%d", bt.Size, bt.TextLen, bt.NumRegions, bt.FeatDim,
			c.BatchSize, Lt, Nr, D)
	}
	for row := range c.BatchSize {
		ids, tmask := bt.InputIDs[row*Lt:(row+1)*Lt], bt.TxtMask[row*Lt:(row+1)*Lt]
		if row >= len(indices) {
			if bt.ExampleOK[row] || bt.ImageIDs[row] != "" || slices.ContainsFunc(ids, func(v int32) bool { return v != 0 }) ||
				slices.ContainsFunc(bt.ImgMask[row*Nr:(row+1)*Nr], func(v float32) bool { return v != 0 }) {
				t.Fatalf("padding row %d is not empty", row)
			}
			continue
		}
		if !bt.ExampleOK[row] {
			t.Fatalf("row %d holds an example but ExampleOK is false", row)
		}
		ex, _ := b.src.Example(indices[row])
		n := min(len(ex.InputIDs), Lt-2)
		if ids[0] != c.Tokens.CLS || ids[n+1] != c.Tokens.SEP {
			t.Fatalf("row %d: ids %v lack [CLS] at 0 or [SEP] at %d", row, ids, n+1)
		}
		for p := range Lt {
			wantMask := float32(0)
			if p < n+2 {
				wantMask = 1
			}
			if tmask[p] != wantMask {
				t.Fatalf("row %d: TxtMask %v, want %d ones", row, tmask, n+2)
			}
			if p >= n+2 && ids[p] != 0 {
				t.Fatalf("row %d: padding id %d at %d", row, ids[p], p)
			}
			if p >= 1 && p <= n && !skipText[[2]int{row, p}] && ids[p] != ex.InputIDs[p-1] {
				t.Fatalf("row %d: id %d at %d, want the original %d", row, ids[p], p, ex.InputIDs[p-1])
			}
		}
		img := imageIndex(t, bt.ImageIDs[row])
		f, _ := b.src.Features(bt.ImageIDs[row])
		nb := min(f.NumBoxes, Nr)
		for r := range Nr {
			wantMask := float32(0)
			if r < nb {
				wantMask = 1
			}
			if bt.ImgMask[row*Nr+r] != wantMask {
				t.Fatalf("row %d: ImgMask[%d] = %v, want %v", row, r, bt.ImgMask[row*Nr+r], wantMask)
			}
			pos := bt.ImgPos[(row*Nr+r)*posDim : (row*Nr+r+1)*posDim]
			if r < nb {
				x1, y1, x2, y2 := float32(r)/640, float32(2*r)/480, float32(r+100)/640, float32(2*r+50)/480
				want := []float32{x1, y1, x2, y2, x2 - x1, y2 - y1, (x2 - x1) * (y2 - y1)}
				if !slices.Equal(pos, want) {
					t.Fatalf("row %d region %d: ImgPos %v, want %v", row, r, pos, want)
				}
			} else if slices.ContainsFunc(pos, func(v float32) bool { return v != 0 }) {
				t.Fatalf("row %d: padded region %d has position %v", row, r, pos)
			}
			if bt.MRMMask != nil && bt.MRMMask[row*Nr+r] == 1 {
				continue // checked by the MRM test
			}
			for d := range D {
				want := float32(0)
				if r < nb {
					want = featValue(img, r, d)
				}
				if got := bt.ImgFeat[(row*Nr+r)*D+d]; got != want {
					t.Fatalf("row %d region %d: feature %d = %v, want %v", row, r, d, got, want)
				}
			}
		}
	}
}

// batchIndices splits 0..n-1 into consecutive batches of size bs.
func batchIndices(n, bs int) [][]int {
	var out [][]int
	for s := 0; s < n; s += bs {
		idx := make([]int, 0, bs)
		for i := s; i < min(s+bs, n); i++ {
			idx = append(idx, i)
		}
		out = append(out, idx)
	}
	return out
}

func TestBuildMLM(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	rng := rand.New(rand.NewPCG(11, 12))
	for _, idx := range batchIndices(b.src.Len(), 8)[:15] {
		idx = idx[:len(idx)-idx[0]%3] // some partial batches
		bt, err := b.Build(TaskMLM, idx, rng)
		if err != nil {
			t.Fatal(err)
		}
		K := bt.NumGathered()
		if K%8 != 0 || K == 0 || len(bt.MLMPositions) != 2*K || len(bt.MLMLabels) != K {
			t.Fatalf("K = %d (%d positions, %d labels), want a positive multiple of 8", K, len(bt.MLMPositions), len(bt.MLMLabels))
		}
		skip := map[[2]int]bool{}
		perRow := make([]int, bt.Size)
		k := 0
		for k < K && bt.MLMValid[k] == 1 {
			row, p := int(bt.MLMPositions[2*k]), int(bt.MLMPositions[2*k+1])
			if row >= len(idx) {
				t.Fatalf("MLM position in padding row %d", row)
			}
			ex, _ := b.src.Example(idx[row])
			n := min(len(ex.InputIDs), b.cfg.TextLen-2)
			if p < 1 || p > n {
				t.Fatalf("MLM position %d of row %d outside the %d pieces ([CLS]/[SEP]/padding selected)", p, row, n)
			}
			if bt.MLMLabels[k] != ex.InputIDs[p-1] {
				t.Fatalf("MLM label %d, want the original %d", bt.MLMLabels[k], ex.InputIDs[p-1])
			}
			if got := bt.InputIDs[row*bt.TextLen+p]; got != testTokens.MASK && got != ex.InputIDs[p-1] &&
				(got < testTokens.RandLo || got >= testTokens.RandHi) {
				t.Fatalf("masked id %d is neither [MASK], the original nor in the random range", got)
			}
			skip[[2]int{row, p}] = true
			perRow[row]++
			k++
		}
		for ; k < K; k++ {
			if bt.MLMValid[k] != 0 || bt.MLMLabels[k] != 0 || bt.MLMPositions[2*k] != 0 || bt.MLMPositions[2*k+1] != 0 {
				t.Fatalf("bucket padding entry %d is not zero/invalid", k)
			}
		}
		for row, i := range idx {
			ex, _ := b.src.Example(i)
			if (len(ex.InputIDs) > 0) != (perRow[row] > 0) {
				t.Fatalf("row %d with %d pieces has %d MLM positions", row, len(ex.InputIDs), perRow[row])
			}
		}
		checkCommon(t, b, bt, idx, skip)
		if bt.MRMMask != nil || bt.Targets != nil || bt.ITMTargets != nil {
			t.Fatal("MLM batch carries fields of other tasks")
		}
	}
}

func TestBuildMRM(t *testing.T) {
	for _, task := range []Task{TaskMRFR, TaskMRC, TaskMRCKL} {
		b := newBuilder(t, smallConfig(), smallSpec())
		rng := rand.New(rand.NewPCG(13, 14))
		for _, idx := range batchIndices(b.src.Len(), 8) {
			idx = idx[:len(idx)-idx[0]%3]
			bt, err := b.Build(task, idx, rng)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, b, bt, idx, nil)
			K, Nr, D, L := bt.NumGathered(), bt.NumRegions, bt.FeatDim, b.cfg.LabelDim
			if K%8 != 0 || K == 0 {
				t.Fatalf("%s: K = %d, want a positive multiple of 8", task, K)
			}
			if (task == TaskMRFR) != (bt.FeatTargets != nil) || (task == TaskMRFR) == (bt.MRCTargets != nil) {
				t.Fatalf("%s: FeatTargets set %v, MRCTargets set %v", task, bt.FeatTargets != nil, bt.MRCTargets != nil)
			}
			// Masked regions listed row-major, exactly where MRMMask is 1.
			var want [][2]int
			perRow := make([]int, bt.Size)
			for row := range bt.Size {
				for r := range Nr {
					if bt.MRMMask[row*Nr+r] == 1 {
						want = append(want, [2]int{row, r})
						perRow[row]++
						if bt.ImgMask[row*Nr+r] != 1 {
							t.Fatalf("%s: padded region %d of row %d masked", task, r, row)
						}
					}
				}
			}
			for row := range bt.Size {
				if (row < len(idx)) != (perRow[row] > 0) {
					t.Fatalf("%s: row %d has %d masked regions", task, row, perRow[row])
				}
			}
			for k := range K {
				if k >= len(want) {
					if bt.MRMValid[k] != 0 {
						t.Fatalf("%s: padding entry %d valid", task, k)
					}
					continue
				}
				row, r := int(bt.MRMPositions[2*k]), int(bt.MRMPositions[2*k+1])
				if bt.MRMValid[k] != 1 || [2]int{row, r} != want[k] {
					t.Fatalf("%s: entry %d = (%d,%d) valid %v, want %v", task, k, row, r, bt.MRMValid[k], want[k])
				}
				img := imageIndex(t, bt.ImageIDs[row])
				f, _ := b.src.Features(bt.ImageIDs[row])
				for d := range D {
					if bt.ImgFeat[(row*Nr+r)*D+d] != 0 {
						t.Fatalf("%s: masked region (%d,%d) keeps its features", task, row, r)
					}
					if task == TaskMRFR && bt.FeatTargets[k*D+d] != featValue(img, r, d) {
						t.Fatalf("%s: target %d,%d = %v, want the unmasked %v", task, k, d, bt.FeatTargets[k*D+d], featValue(img, r, d))
					}
				}
				if task != TaskMRFR && !slices.Equal(bt.MRCTargets[k*L:(k+1)*L], f.ClassProbs[r*L:(r+1)*L]) {
					t.Fatalf("%s: class target %d = %v, want %v", task, k, bt.MRCTargets[k*L:(k+1)*L], f.ClassProbs[r*L:(r+1)*L])
				}
			}
		}
	}
}

// Invariant 8 on full-size images: masked fraction of real regions 0.15 through the builder.
func TestBuildMRMFraction(t *testing.T) {
	s := smallSpec()
	s.boxes = func(int) int { return 36 }
	cfg := smallConfig()
	cfg.NumRegions = 36
	b := newBuilder(t, cfg, s)
	rng := rand.New(rand.NewPCG(15, 16))
	masked, total := 0, 0
	for range 5 {
		for _, idx := range batchIndices(b.src.Len(), 8) {
			bt, err := b.Build(TaskMRFR, idx, rng)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range bt.MRMValid {
				masked += int(v)
			}
			total += len(idx) * 36
		}
	}
	checkRate(t, "masked real-region fraction", masked, total, 0.15, 0.01)
}

func TestBuildITM(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	rng := rand.New(rand.NewPCG(17, 18))
	neg, total := 0, 0
	for range 40 {
		for _, idx := range batchIndices(b.src.Len(), 8) {
			bt, err := b.Build(TaskITM, idx, rng)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, b, bt, idx, nil)
			for row, i := range idx {
				ex, _ := b.src.Example(i)
				own := bt.ImageIDs[row] == ex.ImageKey
				switch bt.ITMTargets[row] {
				case 1:
					if !own {
						t.Fatalf("matched row %d uses image %s, want %s", row, bt.ImageIDs[row], ex.ImageKey)
					}
				case 0:
					if own {
						t.Fatalf("negative row %d uses its own image %s", row, ex.ImageKey)
					}
					neg++
				default:
					t.Fatalf("ITM target %d", bt.ITMTargets[row])
				}
				total++
			}
		}
	}
	checkRate(t, "ITM negative rate", neg, total, 0.5, 0.02)
}

func TestBuildVQA(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	idx := []int{5, 17, 2, 99, 42}
	bt, err := b.Build(TaskVQA, idx, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	checkCommon(t, b, bt, idx, nil)
	A := bt.NumAnswers
	for row := range bt.Size {
		if row >= len(idx) {
			if bt.QuestionIDs[row] != -1 || slices.ContainsFunc(bt.Targets[row*A:(row+1)*A], func(v float32) bool { return v != 0 }) {
				t.Fatalf("padding row %d: question id %d targets %v", row, bt.QuestionIDs[row], bt.Targets[row*A:(row+1)*A])
			}
			continue
		}
		ex, _ := b.src.Example(idx[row])
		if bt.QuestionIDs[row] != ex.QuestionID || !slices.Equal(bt.Targets[row*A:(row+1)*A], ex.Targets) {
			t.Fatalf("row %d: question %d targets %v, want %d %v", row, bt.QuestionIDs[row], bt.Targets[row*A:(row+1)*A],
				ex.QuestionID, ex.Targets)
		}
		if bt.ImageIDs[row] != ex.ImageKey {
			t.Fatalf("row %d: image %s, want %s", row, bt.ImageIDs[row], ex.ImageKey)
		}
	}
	if bt.NumGathered() != 0 || bt.MRMMask != nil || bt.ITMTargets != nil {
		t.Fatal("VQA batch carries fields of other tasks")
	}
}

func TestBuildDeterministic(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	idx := []int{0, 10, 20, 30, 40, 50, 60, 70}
	for _, task := range []Task{TaskMLM, TaskMRFR, TaskMRCKL, TaskITM} {
		x, err1 := b.Build(task, idx, rand.New(rand.NewPCG(5, 5)))
		y, err2 := b.Build(task, idx, rand.New(rand.NewPCG(5, 5)))
		z, err3 := b.Build(task, idx, rand.New(rand.NewPCG(6, 6)))
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: same seed gave different batches", task)
		}
		if reflect.DeepEqual(x, z) {
			t.Errorf("%s: different seeds gave identical batches", task)
		}
	}
}

// failingSource fails Features for one image key.
type failingSource struct {
	*dataset.Set
	bad string
}

func (s failingSource) Features(key string) (*features.ImageFeatures, error) {
	if key == s.bad {
		return nil, errors.New("disk on fire")
	}
	return s.Set.Features(key)
}

func TestBuildBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good := newBuilder(t, smallConfig(), smallSpec())
	cfgWith := func(edit func(*Config)) Config { c := smallConfig(); edit(&c); return c }
	specWith := func(edit func(*spec)) spec { s := smallSpec(); edit(&s); return s }

	for _, tc := range []struct {
		name    string
		b       *Builder
		task    Task
		idx     []int
		wantErr string
	}{
		{"too many examples", good, TaskVQA, make([]int, 9), "9 examples for batch size 8"},
		{"unknown task", good, "nlvr2", []int{0}, `unknown task "nlvr2"`},
		{"index out of range", good, TaskMLM, []int{120}, "example index 120"},
		{"no answers", newBuilder(t, cfgWith(func(c *Config) { c.NumAnswers = 0 }), specWith(func(s *spec) { s.withTarget = false })),
			TaskVQA, []int{0}, "NumAnswers"},
		{"no label dim", newBuilder(t, cfgWith(func(c *Config) { c.LabelDim = 0 }), smallSpec()), TaskMRC, []int{0}, "LabelDim"},
		{"feature size", newBuilder(t, cfgWith(func(c *Config) { c.FeatDim = 32 }), smallSpec()), TaskMLM, []int{3},
			"example 3: image img_0001: feature size 16, want 32"},
		{"no class probabilities", newBuilder(t, smallConfig(), specWith(func(s *spec) { s.classes = 0 })), TaskMRCKL, []int{0},
			"image img_0000: 0 detector classes"},
		{"no regions", newBuilder(t, smallConfig(), specWith(func(s *spec) { s.boxes = func(int) int { return 0 } })), TaskMRFR,
			[]int{0}, "img_0000 has no regions"},
		{"single image", newBuilder(t, cfgWith(func(c *Config) { c.ITMNegProb = 1 }), specWith(func(s *spec) { s.images = 1 })),
			TaskITM, []int{0}, "no image other than"},
	} {
		_, err := tc.b.Build(tc.task, tc.idx, rng)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}

	fs, err := NewBuilder(smallConfig(), failingSource{newSource(t, smallSpec()), imageKey(2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Build(TaskVQA, []int{0, 6}, rng); err == nil || !strings.Contains(err.Error(), "example 6: disk on fire") {
		t.Errorf("failing features: error %v", err)
	}
	wrong := newSource(t, smallSpec())
	wrong.Examples[0].Targets = []float32{1}
	wb, _ := NewBuilder(smallConfig(), wrong)
	if _, err := wb.Build(TaskVQA, []int{0}, rng); err == nil || !strings.Contains(err.Error(), "1 VQA targets, want 4") {
		t.Errorf("wrong target length: error %v", err)
	}
	bad := newSource(t, smallSpec())
	f, _ := bad.Features(imageKey(0))
	f.Width = 0
	bb, _ := NewBuilder(smallConfig(), bad)
	if _, err := bb.Build(TaskMLM, []int{0}, rng); err == nil || !strings.Contains(err.Error(), "image size 0×480") {
		t.Errorf("zero width: error %v", err)
	}
}

func TestNewBuilderBadConfig(t *testing.T) {
	src := newSource(t, smallSpec())
	for name, edit := range map[string]func(*Config){
		"batch size": func(c *Config) { c.BatchSize = 0 },
		"text len":   func(c *Config) { c.TextLen = 2 },
		"regions":    func(c *Config) { c.NumRegions = 0 },
		"bucket":     func(c *Config) { c.Bucket = 0 },
		"mlm prob":   func(c *Config) { c.MLMProb = 1.5 },
		"itm prob":   func(c *Config) { c.ITMNegProb = -0.1 },
		"v range":    func(c *Config) { c.Tokens.RandHi = c.Tokens.RandLo },
		"answers":    func(c *Config) { c.NumAnswers = -1 },
	} {
		c := smallConfig()
		edit(&c)
		if _, err := NewBuilder(c, src); err == nil {
			t.Errorf("%s: NewBuilder accepted an invalid config", name)
		}
	}
	if _, err := NewBuilder(smallConfig(), nil); err == nil {
		t.Error("NewBuilder accepted a nil source")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	if got := DefaultConfig().Tokens; got != (TokenIDs{CLS: 101, SEP: 102, MASK: 103, RandLo: 999, RandHi: 30522}) {
		t.Errorf("DefaultConfig tokens = %+v", got)
	}
}
