package batch

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/dataset"
)

// RetrievalSampling selects how retrieval training pairs a caption with negatives (ORIG data/itm.py).
type RetrievalSampling int

const (
	// RetrievalRandom is ORIG's ItmRankDataset (train_itm.py): example e (a caption) takes 1+2N rows: the caption
	// with its image, then with N other images, then N captions of other images with its image.
	RetrievalRandom RetrievalSampling = iota
	// RetrievalHardFromText is ORIG's ItmRankDatasetHardNegFromText (train_itm_hard_negatives.py): 1+N rows, the
	// caption with its image, then with N other images; the model scores them and trains on the positive and the
	// hard_neg_size negatives it scores highest (Batch.SelectRows).
	RetrievalHardFromText
	// RetrievalHardFromImage is ORIG's ItmRankDatasetHardNegFromImage: 1+N rows, the caption's image with it, then
	// with N captions of other images.
	RetrievalHardFromImage
	// RetrievalHardBoth is the two pools of one step of ORIG's train_itm_hard_negatives.py, each of 1+N rows: the
	// RetrievalHardFromText pool of the caption, then its RetrievalHardFromImage pool. ORIG draws the two pools
	// for two captions of independent orders; here both belong to the same caption.
	RetrievalHardBoth
)

// RetrievalBuilder builds image-text retrieval training batches from a caption set: every row is a (caption,
// image) pair, the rows of one example form a group whose first row is the positive pair.
type RetrievalBuilder struct {
	set       *dataset.Set
	sampling  RetrievalSampling
	negatives int
	featDim   int
	tok       TokenIDs
	images    []string         // the distinct image keys, sorted
	byImage   map[string][]int // the captions of each image
	imageAt   map[string]int   // position of each key in images
}

// NewRetrievalBuilder returns a builder drawing negatives (ORIG negative_size: 1 for train_itm.py's default
// config, 399 with hard negatives) as sampling says; featDim is the size of the region features.
func NewRetrievalBuilder(set *dataset.Set, sampling RetrievalSampling, negatives, featDim int, tok TokenIDs) (*RetrievalBuilder, error) {
	if set == nil || set.Len() == 0 {
		return nil, fmt.Errorf("retrieval builder: empty set")
	}
	if sampling < RetrievalRandom || sampling > RetrievalHardBoth || negatives < 1 || featDim < 1 {
		return nil, fmt.Errorf("retrieval builder: sampling %d, %d negatives, feature size %d", sampling, negatives, featDim)
	}
	b := &RetrievalBuilder{set: set, sampling: sampling, negatives: negatives, featDim: featDim, tok: tok,
		images: set.ImageKeys(), byImage: map[string][]int{}, imageAt: map[string]int{}}
	for i, k := range b.images {
		b.imageAt[k] = i
	}
	for i := range set.Examples {
		k := set.Examples[i].ImageKey
		b.byImage[k] = append(b.byImage[k], i)
	}
	if sampling != RetrievalHardFromImage && len(b.images)-1 < negatives {
		return nil, fmt.Errorf("retrieval builder: %d negative images wanted but only %d other images", negatives,
			len(b.images)-1)
	}
	if sampling != RetrievalHardFromText {
		for k, caps := range b.byImage {
			if set.Len()-len(caps) < negatives {
				return nil, fmt.Errorf("retrieval builder: %d negative captions wanted for image %s but only %d captions of "+
					"other images", negatives, k, set.Len()-len(caps))
			}
		}
	}
	return b, nil
}

// RowsPerExample is the size of a group: 1+2N for RetrievalRandom, 1+N for one hard-negative pool, 2(1+N) for
// RetrievalHardBoth.
func (b *RetrievalBuilder) RowsPerExample() int {
	switch b.sampling {
	case RetrievalRandom:
		return 1 + 2*b.negatives
	case RetrievalHardBoth:
		return 2 * (1 + b.negatives)
	}
	return 1 + b.negatives
}

// Sizes returns the example sizes for batch planning: since the negatives may be any caption and any image, every
// example's rows are sized for the longest caption and the largest image of the set.
func (b *RetrievalBuilder) Sizes() ([]ExampleSize, error) {
	rc := newRegionCounter(b.set.NumBoxes)
	var text, regions int
	for _, k := range b.images {
		n, err := rc.of(k)
		if err != nil {
			return nil, err
		}
		regions = max(regions, n)
	}
	for i := range b.set.Examples {
		text = max(text, len(b.set.Examples[i].InputIDs)+2)
	}
	sizes := make([]ExampleSize, b.set.Len())
	for i := range sizes {
		ex := &b.set.Examples[i]
		n, _ := rc.of(ex.ImageKey)
		sizes[i] = ExampleSize{Tokens: len(ex.InputIDs) + n, Text: text, Regions: regions}
	}
	return sizes, nil
}

// Build builds a planned batch: example slot e holds rows [e·G, (e+1)·G) with G = RowsPerExample (GroupSize),
// the positive pair first (with RetrievalHardBoth, first in each of its two pools); negatives are drawn from rng,
// without repetition within a group and never the example's own image or a caption of it (ORIG sample_negative).
func (b *RetrievalBuilder) Build(p Plan, rng *rand.Rand) (*Batch, error) {
	if err := p.Shape.validate(); err != nil {
		return nil, err
	}
	g := b.RowsPerExample()
	if len(p.Indices)*g > p.Shape.Rows {
		return nil, fmt.Errorf("building retrieval batch: %d examples of %d rows exceed %d rows", len(p.Indices), g, p.Shape.Rows)
	}
	bt := newRowBatch(TaskRetrieval, p.Shape, b.featDim)
	bt.GroupSize = g
	for e, idx := range p.Indices {
		if idx < 0 || idx >= b.set.Len() {
			return nil, fmt.Errorf("building retrieval batch: example index %d outside [0,%d)", idx, b.set.Len())
		}
		ex := &b.set.Examples[idx]
		pairs := []pair{{idx, ex.ImageKey}}
		if b.sampling != RetrievalHardFromImage {
			own := b.imageAt[ex.ImageKey]
			for _, j := range sampleExcluding(rng, b.negatives, len(b.images), func(j int) bool { return j == own }, 1) {
				pairs = append(pairs, pair{idx, b.images[j]})
			}
		}
		if b.sampling == RetrievalHardBoth {
			pairs = append(pairs, pair{idx, ex.ImageKey})
		}
		if b.sampling != RetrievalHardFromText {
			ownCaps := b.byImage[ex.ImageKey]
			isOwn := func(i int) bool { return b.set.Examples[i].ImageKey == ex.ImageKey }
			for _, i := range sampleExcluding(rng, b.negatives, b.set.Len(), isOwn, len(ownCaps)) {
				pairs = append(pairs, pair{i, ex.ImageKey})
			}
		}
		for k, pr := range pairs {
			if err := b.putPair(bt, e*g+k, pr); err != nil {
				return nil, fmt.Errorf("building retrieval batch: %w", err)
			}
		}
	}
	return bt, nil
}

// pair is one (caption, image) row: an example index and an image key.
type pair struct {
	text  int
	image string
}

// putPair writes the caption of example pr.text with the regions of image pr.image into row.
func (b *RetrievalBuilder) putPair(bt *Batch, row int, pr pair) error {
	ex := &b.set.Examples[pr.text]
	f, err := b.set.Features(pr.image)
	if err != nil {
		return err
	}
	bt.putText(row, ex.InputIDs, b.tok)
	if _, err := bt.putRegions(row, 0, 1, f); err != nil {
		return fmt.Errorf("image %s: %w", pr.image, err)
	}
	bt.ImageIDs[row], bt.ExampleIDs[row], bt.ExampleOK[row] = pr.image, ex.ID, true
	return nil
}

// sampleExcluding draws n distinct values of [0, total) for which excluded is false, uniformly and in random
// order (ORIG sample_negative: random.sample retried until it misses the ground truths); nExcluded is the number
// of excluded values. The caller ensures total-nExcluded ≥ n.
func sampleExcluding(rng *rand.Rand, n, total int, excluded func(int) bool, nExcluded int) []int {
	out := make([]int, 0, n)
	if 2*n <= total-nExcluded {
		// Sparse draw: reject repeats and excluded values.
		seen := make(map[int]bool, n)
		for len(out) < n {
			v := rng.IntN(total)
			if !seen[v] && !excluded(v) {
				seen[v] = true
				out = append(out, v)
			}
		}
		return out
	}
	cands := make([]int, 0, total-nExcluded)
	for v := range total {
		if !excluded(v) {
			cands = append(cands, v)
		}
	}
	for i := range n {
		j := i + rng.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return append(out, cands[:n]...)
}
