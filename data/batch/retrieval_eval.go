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
// (Images). Each batch pairs one image with a chunk of the captions, so its regions need no padding; the captions
// are chunked in order of length, so a chunk's texts need little, and the chunks are the same for every image, so
// the batches take few shapes (ORIG pads each caption's batch of images to its largest image).
type RetrievalEval struct {
	set     *dataset.Set
	featDim int
	tok     TokenIDs
	buckets ShapeBuckets
	// Images are the split's image keys in ORIG's order: fewest regions first (ItmEvalDataset sorts by name2nbb),
	// then by key.
	Images []string
	boxes  []int // the regions of each image of Images
	// byLength lists the captions shortest first (then by index); chunk k of an image holds
	// byLength[k·chunk : (k+1)·chunk].
	byLength      []int
	chunk, chunks int
	cachedKey     string
	cached        *features.ImageFeatures
	cachedPos     []float32 // cached.PositionFeatures()
}

// NewRetrievalEval prepares the enumeration of set's pairs in batches of at most rows pairs, their padded text
// length and region count rounded up by buckets (none, or beyond the largest bucket: the batch's own maxima);
// featDim is the size of the region features.
func NewRetrievalEval(set *dataset.Set, featDim int, tok TokenIDs, rows int, buckets ShapeBuckets) (*RetrievalEval, error) {
	if set == nil || set.Len() == 0 || featDim < 1 || rows < 1 {
		return nil, fmt.Errorf("retrieval evaluation: empty set, feature size %d or %d pairs per batch", featDim, rows)
	}
	if err := buckets.validate(); err != nil {
		return nil, fmt.Errorf("retrieval evaluation: %w", err)
	}
	e := &RetrievalEval{set: set, featDim: featDim, tok: tok, buckets: buckets, Images: slices.Clone(set.ImageKeys())}
	boxes := map[string]int{}
	for _, k := range e.Images {
		n, err := set.NumBoxes(k)
		if err != nil {
			return nil, fmt.Errorf("retrieval evaluation: %w", err)
		}
		boxes[k] = n
	}
	slices.SortStableFunc(e.Images, func(a, b string) int { return cmp.Compare(boxes[a], boxes[b]) })
	for _, k := range e.Images {
		e.boxes = append(e.boxes, boxes[k])
	}
	nt := set.Len()
	e.byLength = make([]int, nt)
	for i := range e.byLength {
		e.byLength[i] = i
	}
	slices.SortStableFunc(e.byLength, func(a, b int) int {
		return cmp.Compare(len(set.Examples[a].InputIDs), len(set.Examples[b].InputIDs))
	})
	e.chunks = (nt + rows - 1) / rows
	e.chunk = (nt + e.chunks - 1) / e.chunks
	return e, nil
}

// NumTexts is the number of captions (rows of the score matrix).
func (e *RetrievalEval) NumTexts() int { return e.set.Len() }

// NumPairs is the number of (image, caption) pairs to score.
func (e *RetrievalEval) NumPairs() int { return len(e.Images) * e.set.Len() }

// NumBatches is the number of batches that hold every pair.
func (e *RetrievalEval) NumBatches() int { return len(e.Images) * e.chunks }

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

// Batch returns batch k (0 ≤ k < NumBatches) of the enumeration: image k / c with the k % c-th chunk of the
// captions, c chunks per image. All batches have the same number of rows; the rows a last, smaller chunk leaves
// are padding (ExampleOK false, PairTexts and PairImages -1). PairTexts and PairImages give each row's cell of
// the score matrix: caption PairTexts[r] (its index in the set) and image PairImages[r] (its index in Images).
func (e *RetrievalEval) Batch(k int) (*Batch, error) {
	if k < 0 || k >= e.NumBatches() {
		return nil, fmt.Errorf("retrieval evaluation: batch %d outside [0,%d)", k, e.NumBatches())
	}
	j, c := k/e.chunks, k%e.chunks
	texts := e.byLength[c*e.chunk : min((c+1)*e.chunk, len(e.byLength))]
	text := 0
	for _, i := range texts {
		text = max(text, len(e.set.Examples[i].InputIDs)+2)
	}
	bt := e.newBatch(e.chunk, text, e.boxes[j])
	f, pos, err := e.image(e.Images[j])
	if err != nil {
		return nil, err
	}
	for r, i := range texts {
		if err := e.putPair(bt, r, e.set.Examples[i].InputIDs, j, f, pos); err != nil {
			return nil, err
		}
		bt.PairTexts[r], bt.ExampleIDs[r] = int32(i), e.set.Examples[i].ID
	}
	return bt, nil
}

// QueryBatch returns the pairs of a caption that need not be in the split, given as its word pieces (without
// [CLS]/[SEP]), with the images first, first+1, … of Images: as many as a batch of the enumeration holds, fewer at
// the end (Size tells). PairImages gives each row's image, PairTexts is -1.
func (e *RetrievalEval) QueryBatch(pieces []int32, first int) (*Batch, error) {
	if first < 0 || first >= len(e.Images) {
		return nil, fmt.Errorf("retrieval query: images from %d outside [0,%d)", first, len(e.Images))
	}
	last := min(first+e.chunk, len(e.Images))
	bt := e.newBatch(last-first, len(pieces)+2, e.boxes[last-1])
	for j := first; j < last; j++ {
		f, pos, err := e.image(e.Images[j])
		if err != nil {
			return nil, err
		}
		if err := e.putPair(bt, j-first, pieces, j, f, pos); err != nil {
			return nil, err
		}
	}
	return bt, nil
}

// newBatch returns a batch of rows padding rows shaped for texts of text pieces (incl. [CLS]/[SEP]) and images of
// regions regions, rounded up by the buckets.
func (e *RetrievalEval) newBatch(rows, text, regions int) *Batch {
	bt := newRowBatch(TaskRetrievalEval, Shape{Rows: rows, TextLen: roundUpOrKeep(e.buckets.Text, max(text, 3)),
		NumRegions: roundUpOrKeep(e.buckets.Regions, max(regions, 1))}, e.featDim)
	bt.PairTexts, bt.PairImages = make([]int32, rows), make([]int32, rows)
	for i := range rows {
		bt.PairTexts[i], bt.PairImages[i] = -1, -1
	}
	return bt
}

// roundUpOrKeep returns the smallest bucket ≥ n, or n when there is none.
func roundUpOrKeep(buckets []int, n int) int {
	if v, err := roundUp(buckets, n); err == nil {
		return v
	}
	return n
}

// putPair writes a caption's pieces with image j (features f, position features pos) into row.
func (e *RetrievalEval) putPair(bt *Batch, row int, pieces []int32, j int, f *features.ImageFeatures, pos []float32) error {
	bt.putText(row, pieces, e.tok)
	if _, err := bt.putRegionsAt(row, 0, 1, f, pos); err != nil {
		return fmt.Errorf("retrieval evaluation: image %s: %w", e.Images[j], err)
	}
	bt.PairImages[row], bt.ImageIDs[row], bt.ExampleOK[row] = int32(j), e.Images[j], true
	return nil
}

// image returns the features of an image and their position features, reading each image once while
// consecutive batches share it.
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
