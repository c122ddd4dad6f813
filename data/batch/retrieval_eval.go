package batch

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

// RetrievalEval enumerates every (image, caption) pair of a retrieval split for scoring, as ORIG's ItmEvalDataset
// does: the score matrix it fills has one row per caption (the set's examples, in order) and one column per image
// (Images). Pair p is image p / NumTexts with caption p % NumTexts, so consecutive rows share their image and a
// batch reads one or two images.
type RetrievalEval struct {
	set     *dataset.Set
	featDim int
	tok     TokenIDs
	// Images are the split's image keys in ORIG's order: fewest regions first (ItmEvalDataset sorts by name2nbb),
	// then by key.
	Images          []string
	textLen, maxBox int
	cachedKey       string
	cached          *features.ImageFeatures
	cachedPos       []float32 // cached.PositionFeatures()
}

// NewRetrievalEval prepares the enumeration of set's pairs; featDim is the size of the region features.
func NewRetrievalEval(set *dataset.Set, featDim int, tok TokenIDs) (*RetrievalEval, error) {
	if set == nil || set.Len() == 0 || featDim < 1 {
		return nil, fmt.Errorf("retrieval evaluation: empty set or feature size %d", featDim)
	}
	e := &RetrievalEval{set: set, featDim: featDim, tok: tok, Images: slices.Clone(set.ImageKeys())}
	boxes := map[string]int{}
	for _, k := range e.Images {
		n, err := set.NumBoxes(k)
		if err != nil {
			return nil, fmt.Errorf("retrieval evaluation: %w", err)
		}
		boxes[k], e.maxBox = n, max(e.maxBox, n)
	}
	slices.SortStableFunc(e.Images, func(a, b string) int { return cmp.Compare(boxes[a], boxes[b]) })
	for i := range set.Examples {
		e.textLen = max(e.textLen, len(set.Examples[i].InputIDs)+2)
	}
	return e, nil
}

// NumTexts is the number of captions (rows of the score matrix).
func (e *RetrievalEval) NumTexts() int { return e.set.Len() }

// NumPairs is the number of (image, caption) pairs to score.
func (e *RetrievalEval) NumPairs() int { return len(e.Images) * e.set.Len() }

// TextImages returns, per caption, the index in Images of its own image: the ground truth of the recall.
func (e *RetrievalEval) TextImages() []int {
	at := make(map[string]int, len(e.Images))
	for j, k := range e.Images {
		at[k] = j
	}
	out := make([]int, e.set.Len())
	for i := range out {
		out[i] = at[e.set.Examples[i].ImageKey]
	}
	return out
}

// NewBatch returns a batch of rows pairs to pass to Fill, shaped for the longest caption and the largest image of
// the split, so that every batch of the evaluation has one shape.
func (e *RetrievalEval) NewBatch(rows int) (*Batch, error) {
	s := Shape{Rows: rows, TextLen: max(e.textLen, 3), NumRegions: max(e.maxBox, 1)}
	if err := s.validate(); err != nil {
		return nil, err
	}
	bt := newRowBatch(TaskRetrievalEval, s, e.featDim)
	bt.PairTexts, bt.PairImages = make([]int32, rows), make([]int32, rows)
	return bt, nil
}

// Fill overwrites bt (from NewBatch) with the pairs first, first+1, … and returns how many it wrote: bt.Size, or
// fewer at the end, the remaining rows padding (ExampleOK false, PairTexts and PairImages -1). PairTexts and
// PairImages give each row's cell of the score matrix.
func (e *RetrievalEval) Fill(bt *Batch, first int) (int, error) {
	if bt.Task != TaskRetrievalEval || bt.PairTexts == nil {
		return 0, fmt.Errorf("retrieval evaluation: fill a batch made by NewBatch, not a %s batch", bt.Task)
	}
	if first < 0 || first >= e.NumPairs() {
		return 0, fmt.Errorf("retrieval evaluation: pair %d outside [0,%d)", first, e.NumPairs())
	}
	for _, s := range [][]float32{bt.TxtMask, bt.ImgFeat, bt.ImgPos, bt.ImgMask} {
		clear(s)
	}
	clear(bt.InputIDs)
	clear(bt.ExampleOK)
	n := min(bt.Size, e.NumPairs()-first)
	nt := e.set.Len()
	for r := range bt.Size {
		bt.PairTexts[r], bt.PairImages[r], bt.ImageIDs[r], bt.ExampleIDs[r] = -1, -1, "", ""
		if r >= n {
			continue
		}
		i, j := (first+r)%nt, (first+r)/nt
		ex := &e.set.Examples[i]
		f, pos, err := e.image(e.Images[j])
		if err != nil {
			return 0, err
		}
		bt.putText(r, ex.InputIDs, e.tok)
		if _, err := bt.putRegionsAt(r, 0, 1, f, pos); err != nil {
			return 0, fmt.Errorf("retrieval evaluation: image %s: %w", e.Images[j], err)
		}
		bt.PairTexts[r], bt.PairImages[r] = int32(i), int32(j)
		bt.ImageIDs[r], bt.ExampleIDs[r], bt.ExampleOK[r] = e.Images[j], ex.ID, true
	}
	return n, nil
}

// image returns the features of an image and their position features, reading each image once while
// consecutive pairs share it.
func (e *RetrievalEval) image(key string) (*features.ImageFeatures, []float32, error) {
	if e.cached == nil || e.cachedKey != key {
		f, err := e.set.Features(key)
		if err != nil {
			return nil, nil, fmt.Errorf("retrieval evaluation: %w", err)
		}
		e.cached, e.cachedKey, e.cachedPos = f, key, f.PositionFeatures()
	}
	return e.cached, e.cachedPos, nil
}

// QueryBatch returns the pairs of a caption that need not be in the split, given as its word pieces (without
// [CLS]/[SEP]), with the images first, first+1, … of Images: rows pairs, fewer at the end (Size tells). Its text
// is sized for the longer of the query and the split's captions; PairImages gives each row's image, PairTexts is
// -1.
func (e *RetrievalEval) QueryBatch(pieces []int32, first, rows int) (*Batch, error) {
	if first < 0 || first >= len(e.Images) || rows < 1 {
		return nil, fmt.Errorf("retrieval query: images from %d (of %d) in batches of %d", first, len(e.Images), rows)
	}
	n := min(rows, len(e.Images)-first)
	s := Shape{Rows: n, TextLen: max(e.textLen, len(pieces)+2), NumRegions: max(e.maxBox, 1)}
	bt := newRowBatch(TaskRetrievalEval, s, e.featDim)
	bt.PairTexts, bt.PairImages = make([]int32, n), make([]int32, n)
	for r := range n {
		j := first + r
		f, pos, err := e.image(e.Images[j])
		if err != nil {
			return nil, err
		}
		bt.putText(r, pieces, e.tok)
		if _, err := bt.putRegionsAt(r, 0, 1, f, pos); err != nil {
			return nil, fmt.Errorf("retrieval query: image %s: %w", e.Images[j], err)
		}
		bt.PairTexts[r], bt.PairImages[r] = -1, int32(j)
		bt.ImageIDs[r], bt.ExampleOK[r] = e.Images[j], true
	}
	return bt, nil
}
