package batch

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/dataset"
)

// NLVR2Layout is how an NLVR2 example (a statement, two images) becomes rows (ORIG data/nlvr2.py, use_img_type).
type NLVR2Layout int

const (
	// NLVR2Paired is ORIG's Nlvr2PairedDataset (the paired and the default paired-attn models): example e takes rows
	// 2e and 2e+1, the statement with the regions of image k in row 2e+k, all of token type k+1.
	NLVR2Paired NLVR2Layout = iota
	// NLVR2Triplet is ORIG's Nlvr2TripletDataset: example e takes row e, the statement followed by the regions of
	// image 0 (token type 1) and right after them those of image 1 (token type 2).
	NLVR2Triplet
)

// NLVR2Builder builds NLVR2 batches.
type NLVR2Builder struct {
	set     *dataset.PairSet
	layout  NLVR2Layout
	featDim int
	tok     TokenIDs
}

// NewNLVR2Builder returns a builder of the given layout over set, for region features of featDim values.
func NewNLVR2Builder(set *dataset.PairSet, layout NLVR2Layout, featDim int, tok TokenIDs) (*NLVR2Builder, error) {
	if set == nil || set.Len() == 0 {
		return nil, fmt.Errorf("NLVR2 builder: empty set")
	}
	if layout != NLVR2Paired && layout != NLVR2Triplet {
		return nil, fmt.Errorf("NLVR2 builder: unknown layout %d", layout)
	}
	if featDim < 1 {
		return nil, fmt.Errorf("NLVR2 builder: feature size %d", featDim)
	}
	return &NLVR2Builder{set: set, layout: layout, featDim: featDim, tok: tok}, nil
}

// Task returns the batch task of the layout.
func (b *NLVR2Builder) Task() Task {
	if b.layout == NLVR2Paired {
		return TaskNLVR2Paired
	}
	return TaskNLVR2Triplet
}

// RowsPerExample is 2 for the paired layout, 1 for the triplet.
func (b *NLVR2Builder) RowsPerExample() int {
	if b.layout == NLVR2Paired {
		return 2
	}
	return 1
}

// Sizes returns the example sizes for batch planning with ORIG's lens: paired 2·pieces + both images' regions
// (rows of pieces+2 and of the larger image's regions), triplet pieces + both images' regions (one row holding
// both).
func (b *NLVR2Builder) Sizes() ([]ExampleSize, error) {
	rc := newRegionCounter(b.set.NumBoxes)
	sizes := make([]ExampleSize, b.set.Len())
	for i := range sizes {
		ex := &b.set.Examples[i]
		var nb [2]int
		for k, key := range ex.ImageKeys {
			n, err := rc.of(key)
			if err != nil {
				return nil, fmt.Errorf("NLVR2 example %s: %w", ex.ID, err)
			}
			nb[k] = n
		}
		tl := len(ex.InputIDs)
		if b.layout == NLVR2Paired {
			sizes[i] = ExampleSize{Tokens: 2*tl + nb[0] + nb[1], Text: tl + 2, Regions: max(nb[0], nb[1])}
		} else {
			sizes[i] = ExampleSize{Tokens: tl + nb[0] + nb[1], Text: tl + 2, Regions: nb[0] + nb[1]}
		}
	}
	return sizes, nil
}

// Build builds a planned batch (rng is unused: NLVR2 batches draw nothing). Labels holds one label per example
// slot, Shape.Rows/RowsPerExample of them (0 on padding); ImgTypeIDs marks each region's image.
func (b *NLVR2Builder) Build(p Plan, _ *rand.Rand) (*Batch, error) {
	if err := p.Shape.validate(); err != nil {
		return nil, err
	}
	per := b.RowsPerExample()
	if p.Shape.Rows%per != 0 || len(p.Indices)*per > p.Shape.Rows {
		return nil, fmt.Errorf("building NLVR2 batch: %d examples of %d rows do not fill %d rows", len(p.Indices), per,
			p.Shape.Rows)
	}
	bt := newRowBatch(b.Task(), p.Shape, b.featDim)
	bt.ImgTypeIDs = make([]int32, p.Shape.Rows*p.Shape.NumRegions)
	bt.Labels = make([]int32, p.Shape.Rows/per)
	for e, idx := range p.Indices {
		ex, err := b.set.Example(idx)
		if err != nil {
			return nil, fmt.Errorf("building NLVR2 batch: %w", err)
		}
		bt.Labels[e] = ex.Label
		offset := 0
		for k, key := range ex.ImageKeys {
			row := e*per + k*(per-1) // paired: rows 2e, 2e+1; triplet: row e for both images
			f, err := b.set.Features(key)
			if err != nil {
				return nil, fmt.Errorf("building NLVR2 batch: example %s: %w", ex.ID, err)
			}
			if k == 0 || per == 2 {
				bt.putText(row, ex.InputIDs, b.tok)
				bt.ImageIDs[row], bt.ExampleIDs[row], bt.ExampleOK[row] = key, ex.ID, true
				offset = 0
			}
			n, err := bt.putRegions(row, offset, int32(k+1), f)
			if err != nil {
				return nil, fmt.Errorf("building NLVR2 batch: example %s: image %s: %w", ex.ID, key, err)
			}
			offset += n
		}
	}
	return bt, nil
}
