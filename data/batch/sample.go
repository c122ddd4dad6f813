package batch

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// NotMasked is the MLM label of a piece that was not selected (ORIG -1).
const NotMasked int32 = -1

// MaskTokens applies ORIG's MLM corruption (data/mlm.py random_word) in place to the WordPiece ids of one text
// (no [CLS]/[SEP]/padding): each piece is selected with probability prob; a selected piece becomes [MASK] with
// probability 0.8, a random id uniform in [tok.RandLo, tok.RandHi) with probability 0.1, and stays unchanged
// otherwise. labels[i] (len(labels) ≥ len(ids)) receives the original id of selected pieces and NotMasked
// elsewhere. If nothing was selected, the first piece is forced to [MASK]. It returns the number of selected pieces.
func MaskTokens(rng *rand.Rand, ids, labels []int32, prob float64, tok TokenIDs) int {
	n := 0
	for i, id := range ids {
		p := rng.Float64()
		if p >= prob {
			labels[i] = NotMasked
			continue
		}
		n++
		labels[i] = id
		switch p /= prob; {
		case p < 0.8:
			ids[i] = tok.MASK
		case p < 0.9:
			ids[i] = tok.RandLo + rng.Int32N(tok.RandHi-tok.RandLo)
		}
	}
	if n == 0 && len(ids) > 0 {
		labels[0] = ids[0]
		ids[0] = tok.MASK
		n = 1
	}
	return n
}

// MaskRegions draws ORIG's MRM region mask (data/mrm.py _get_img_mask) over the real regions of one image:
// mask[r] is true with probability prob, and if no region was drawn one uniformly random region is masked.
// It returns the number of masked regions.
func MaskRegions(rng *rand.Rand, mask []bool, prob float64) int {
	n := 0
	for r := range mask {
		mask[r] = rng.Float64() < prob
		if mask[r] {
			n++
		}
	}
	if n == 0 && len(mask) > 0 {
		mask[rng.IntN(len(mask))] = true
		n = 1
	}
	return n
}

// SampleITM draws ORIG's ITM pairing (data/itm.py): with probability negProb the pair is a negative whose image
// is drawn uniformly from pool (sorted image keys) excluding own; otherwise the pair keeps its own image. It
// returns the image key to use and whether the pair matches.
func SampleITM(rng *rand.Rand, negProb float64, own string, pool []string) (key string, match bool, err error) {
	if rng.Float64() >= negProb {
		return own, true, nil
	}
	j, hasOwn := slices.BinarySearch(pool, own)
	n := len(pool)
	if hasOwn {
		n--
	}
	if n == 0 {
		return "", false, fmt.Errorf("no image other than %q to draw an ITM negative from", own)
	}
	i := rng.IntN(n)
	if hasOwn && i >= j {
		i++
	}
	return pool[i], false, nil
}

// Stream tags keep the random streams derived from one seed apart.
const (
	tagBatch uint64 = iota + 1 // per-batch sampling (masks, negatives)
	tagOrder                   // per-epoch example order
	tagMix                     // per-group task draw
)

// newRNG returns a generator for the stream (seed, parts...): the same arguments always give the same stream.
func newRNG(seed uint64, parts ...uint64) *rand.Rand {
	h := uint64(0x9e3779b97f4a7c15)
	for _, p := range parts {
		h = splitMix64(h ^ p)
	}
	return rand.New(rand.NewPCG(seed, h))
}

// splitMix64 is the SplitMix64 finaliser, a bijective 64-bit mixer.
func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
