package batch

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
)

// posDim is the size of UNITER's region location vector [x1,y1,x2,y2,w,h,w*h].
const posDim = 7

// Builder turns examples of a Source into padded batches of fixed shapes.
type Builder struct {
	cfg Config
	src dataset.Source
}

// NewBuilder validates cfg and returns a builder over src.
func NewBuilder(cfg Config, src dataset.Source) (*Builder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || src.Len() == 0 {
		return nil, fmt.Errorf("batch builder: empty source")
	}
	return &Builder{cfg: cfg, src: src}, nil
}

// Build makes the batch of task from the examples at indices (at most BatchSize of them; the remaining rows are
// padding with ExampleOK false). All randomness (MLM/MRM masks, ITM negatives) comes from rng, row by row.
//
// Per task: VQA and VE fill Targets and QuestionIDs; MLM corrupts the text (MaskTokens) and lists the K selected
// positions; MRFR/MRC/MRC-kl mask regions (MaskRegions), zero their features and list the K masked regions with
// their unmasked features (MRFR) or class distributions (MRC, MRC-kl); ITM swaps images (SampleITM) and sets
// ITMTargets. K is rounded up to a multiple of Config.Bucket; padding entries have Valid 0. ImageIDs holds the
// image key each row actually uses (the negative's for ITM negatives). Padding rows are all zero (ITMTargets 0,
// QuestionIDs -1): per-example losses (VQA, ITM) must weigh rows by ExampleOK.
func (b *Builder) Build(task Task, indices []int, rng *rand.Rand) (*Batch, error) {
	cfg := b.cfg
	if len(indices) > cfg.BatchSize {
		return nil, fmt.Errorf("building %s batch: %d examples for batch size %d", task, len(indices), cfg.BatchSize)
	}
	switch task {
	case TaskVQA, TaskVE:
		if cfg.NumAnswers < 1 {
			return nil, fmt.Errorf("building %s batch: NumAnswers not set", task)
		}
	case TaskMRC, TaskMRCKL:
		if cfg.LabelDim < 1 {
			return nil, fmt.Errorf("building %s batch: LabelDim not set", task)
		}
	case TaskMLM, TaskMRFR, TaskITM:
	default:
		return nil, fmt.Errorf("building batch: unknown task %q", task)
	}
	bt := b.alloc(task)
	g := &gathered{}
	for row, idx := range indices {
		ex, err := b.src.Example(idx)
		if err != nil {
			return nil, fmt.Errorf("building %s batch: %w", task, err)
		}
		if err := b.fillRow(bt, g, row, ex, rng); err != nil {
			return nil, fmt.Errorf("building %s batch: example %s: %w", task, ex.ID, err)
		}
		bt.ExampleOK[row] = true
	}
	if bt.QuestionIDs != nil {
		for row := len(indices); row < cfg.BatchSize; row++ {
			bt.QuestionIDs[row] = -1
		}
	}
	g.finish(bt, cfg)
	return bt, nil
}

// alloc returns a zeroed batch with the fields task uses.
func (b *Builder) alloc(task Task) *Batch {
	c := b.cfg
	B, Nr := c.BatchSize, c.NumRegions
	bt := newRowBatch(task, Shape{Rows: B, TextLen: c.TextLen, NumRegions: Nr}, c.FeatDim)
	switch task {
	case TaskVQA, TaskVE:
		bt.NumAnswers = c.NumAnswers
		bt.Targets = make([]float32, B*c.NumAnswers)
		bt.QuestionIDs = make([]int64, B)
	case TaskMRFR, TaskMRC, TaskMRCKL:
		bt.MRMMask = make([]float32, B*Nr)
		if task != TaskMRFR {
			bt.LabelDim = c.LabelDim
		}
	case TaskITM:
		bt.ITMTargets = make([]int32, B)
	}
	return bt
}

// gathered accumulates the K masked positions of an MLM or MRM batch while rows are filled.
type gathered struct {
	positions   []int32   // [k,2]
	labels      []int32   // [k] MLM
	featTargets []float32 // [k,D] MRFR
	mrcTargets  []float32 // [k,LabelDim] MRC, MRC-kl
	labelBuf    []int32   // MLM scratch, one row (fully overwritten by MaskTokens)
	regionBuf   []bool    // MRM scratch, one image (fully overwritten by MaskRegions)
}

// fillRow writes example ex into row of bt.
func (b *Builder) fillRow(bt *Batch, g *gathered, row int, ex *dataset.Example, rng *rand.Rand) error {
	c := b.cfg
	Lt := c.TextLen
	ids := bt.InputIDs[row*Lt : (row+1)*Lt]
	n := tokenizer.FillPadded(ids, bt.TxtMask[row*Lt:(row+1)*Lt], ex.InputIDs, c.Tokens.CLS, c.Tokens.SEP)
	if bt.Task == TaskMLM {
		pieces := ids[1 : n-1]
		g.labelBuf = slices.Grow(g.labelBuf[:0], len(pieces))[:len(pieces)]
		MaskTokens(rng, pieces, g.labelBuf, c.MLMProb, c.Tokens)
		for j, l := range g.labelBuf {
			if l != NotMasked {
				g.positions = append(g.positions, int32(row), int32(1+j))
				g.labels = append(g.labels, l)
			}
		}
	}

	key := ex.ImageKey
	if bt.Task == TaskITM {
		k, match, err := SampleITM(rng, c.ITMNegProb, key, b.src.ImageKeys())
		if err != nil {
			return err
		}
		key = k
		if match {
			bt.ITMTargets[row] = 1
		}
	}
	bt.ImageIDs[row] = key
	bt.ExampleIDs[row] = ex.ID
	f, err := b.src.Features(key)
	if err != nil {
		return err
	}
	nb, err := bt.putRegions(row, 0, 1, f)
	if err != nil {
		return fmt.Errorf("image %s: %w", key, err)
	}

	switch bt.Task {
	case TaskVQA, TaskVE:
		bt.QuestionIDs[row] = ex.QuestionID
		if ex.Targets != nil {
			if len(ex.Targets) != c.NumAnswers {
				return fmt.Errorf("%d VQA targets, want %d", len(ex.Targets), c.NumAnswers)
			}
			copy(bt.Targets[row*c.NumAnswers:], ex.Targets)
		}
	case TaskMRFR, TaskMRC, TaskMRCKL:
		return b.maskImage(bt, g, row, f, nb, rng)
	}
	return nil
}

// maskImage draws the MRM mask over the nb real regions of row, zeroes their features in bt and gathers their
// targets from f (the unmasked features).
func (b *Builder) maskImage(bt *Batch, g *gathered, row int, f *features.ImageFeatures, nb int, rng *rand.Rand) error {
	c := b.cfg
	D, Nr := c.FeatDim, c.NumRegions
	if nb == 0 {
		return fmt.Errorf("image %s has no regions to mask", f.ImageID)
	}
	if bt.Task != TaskMRFR && (f.NumClasses != c.LabelDim || len(f.ClassProbs) < f.NumBoxes*f.NumClasses) {
		return fmt.Errorf("image %s: %d detector classes (%d values), want %d classes for %s",
			f.ImageID, f.NumClasses, len(f.ClassProbs), c.LabelDim, bt.Task)
	}
	g.regionBuf = slices.Grow(g.regionBuf[:0], nb)[:nb]
	MaskRegions(rng, g.regionBuf, c.MRMProb)
	for r, masked := range g.regionBuf {
		if !masked {
			continue
		}
		g.positions = append(g.positions, int32(row), int32(r))
		bt.MRMMask[row*Nr+r] = 1
		clear(bt.ImgFeat[(row*Nr+r)*D : (row*Nr+r+1)*D])
		if bt.Task == TaskMRFR {
			g.featTargets = append(g.featTargets, f.Features[r*D:(r+1)*D]...)
		} else {
			L := c.LabelDim
			g.mrcTargets = append(g.mrcTargets, f.ClassProbs[r*L:(r+1)*L]...)
		}
	}
	return nil
}

// finish pads the gathered lists to K (a multiple of the bucket, at least one bucket) and stores them in bt.
func (g *gathered) finish(bt *Batch, cfg Config) {
	switch bt.Task {
	case TaskMLM, TaskMRFR, TaskMRC, TaskMRCKL:
	default:
		return
	}
	k := len(g.positions) / 2
	K := max(1, (k+cfg.Bucket-1)/cfg.Bucket) * cfg.Bucket
	positions := padTo(g.positions, 2*K)
	valid := make([]float32, K)
	for i := range k {
		valid[i] = 1
	}
	switch bt.Task {
	case TaskMLM:
		bt.MLMPositions, bt.MLMValid, bt.MLMLabels = positions, valid, padTo(g.labels, K)
	case TaskMRFR:
		bt.MRMPositions, bt.MRMValid, bt.FeatTargets = positions, valid, padTo(g.featTargets, K*cfg.FeatDim)
	default:
		bt.MRMPositions, bt.MRMValid, bt.MRCTargets = positions, valid, padTo(g.mrcTargets, K*cfg.LabelDim)
	}
}

// padTo returns a new slice of length n holding s followed by zero values.
func padTo[T any](s []T, n int) []T {
	out := make([]T, n)
	copy(out, s)
	return out
}
