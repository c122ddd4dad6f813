package batch

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Invariant 7: selection 0.15, 80/10/10 among selected, random ids in v_range, ≥ 1 selected per sentence.
func TestMaskTokensStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const sentences, length = 3000, 20 // 60,000 pieces
	var selected, masked, random, same, total int
	for range sentences {
		orig := make([]int32, length)
		for i := range orig {
			orig[i] = 1000 + rng.Int32N(1000)
		}
		ids := slices.Clone(orig)
		labels := make([]int32, length)
		n := MaskTokens(rng, ids, labels, 0.15, testTokens)
		if n < 1 {
			t.Fatal("a sentence got no MLM position")
		}
		count := 0
		for i := range ids {
			total++
			if labels[i] == NotMasked {
				if ids[i] != orig[i] {
					t.Fatalf("unselected piece %d changed from %d to %d", i, orig[i], ids[i])
				}
				continue
			}
			count++
			if labels[i] != orig[i] {
				t.Fatalf("label %d of piece %d, want the original id %d", labels[i], i, orig[i])
			}
			switch {
			case ids[i] == testTokens.MASK:
				masked++
			case ids[i] == orig[i]:
				same++
			default:
				random++
				if ids[i] < testTokens.RandLo || ids[i] >= testTokens.RandHi {
					t.Fatalf("random replacement %d outside [%d,%d)", ids[i], testTokens.RandLo, testTokens.RandHi)
				}
			}
		}
		if count != n {
			t.Fatalf("MaskTokens returned %d but labelled %d pieces", n, count)
		}
		selected += n
	}
	// The forced first piece adds 0.85^20/20 ≈ 0.002 to the selection rate.
	checkRate(t, "selected fraction", selected, total, 0.15, 0.01)
	checkRate(t, "[MASK] share of selected", masked, selected, 0.8, 0.02)
	checkRate(t, "random share of selected", random, selected, 0.1, 0.02)
	checkRate(t, "unchanged share of selected", same, selected, 0.1, 0.02)
}

func TestMaskTokensForcesFirstPiece(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := []int32{1500, 1600, 1700}
	labels := make([]int32, 3)
	if n := MaskTokens(rng, ids, labels, 0, testTokens); n != 1 {
		t.Fatalf("prob 0: %d selected, want the forced 1", n)
	}
	if !slices.Equal(ids, []int32{103, 1600, 1700}) || !slices.Equal(labels, []int32{1500, -1, -1}) {
		t.Errorf("prob 0: ids %v labels %v, want [103 1600 1700] [1500 -1 -1]", ids, labels)
	}
	if n := MaskTokens(rng, nil, nil, 0.15, testTokens); n != 0 {
		t.Errorf("empty text: %d selected, want 0", n)
	}
}

// Invariant 8 (sampling part): masked fraction 0.15, ≥ 1 per image, forced region uniform.
func TestMaskRegionsStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var masked, total int
	for range 2000 {
		mask := make([]bool, 20)
		n := MaskRegions(rng, mask, 0.15)
		if n < 1 {
			t.Fatal("an image got no masked region")
		}
		count := 0
		for _, m := range mask {
			if m {
				count++
			}
		}
		if count != n {
			t.Fatalf("MaskRegions returned %d but masked %d", n, count)
		}
		masked += n
		total += len(mask)
	}
	checkRate(t, "masked region fraction", masked, total, 0.15, 0.01)

	hits := make([]int, 5)
	const draws = 10000
	for range draws {
		mask := make([]bool, 5)
		if MaskRegions(rng, mask, 0) != 1 {
			t.Fatal("prob 0 must mask exactly one region")
		}
		hits[slices.Index(mask, true)]++
	}
	for _, h := range hits {
		checkRate(t, "forced region share", h, draws, 0.2, 0.02)
	}
}

// Invariant 9: negative rate, never the own image, negatives uniform over the other images.
func TestSampleITM(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pool := []string{"a", "b", "c", "d", "e"}
	const draws = 20000
	neg := 0
	picked := map[string]int{}
	for range draws {
		key, match, err := SampleITM(rng, 0.5, "c", pool)
		if err != nil {
			t.Fatal(err)
		}
		if match {
			if key != "c" {
				t.Fatalf("a positive pair uses image %q, want its own", key)
			}
			continue
		}
		neg++
		if key == "c" {
			t.Fatal("a negative pair uses its own image")
		}
		picked[key]++
	}
	checkRate(t, "negative rate", neg, draws, 0.5, 0.02)
	for _, k := range []string{"a", "b", "d", "e"} {
		checkRate(t, "negative image "+k, picked[k], neg, 0.25, 0.02)
	}

	// An image outside the pool may pair with any pool image; a pool holding only the own image fails.
	key, match, err := SampleITM(rng, 1, "z", pool)
	if err != nil || match || !slices.Contains(pool, key) {
		t.Errorf("own image outside the pool: got %q,%v,%v", key, match, err)
	}
	if _, _, err := SampleITM(rng, 1, "a", []string{"a"}); err == nil {
		t.Error("a pool without another image must fail")
	}
}

func TestRNGStreams(t *testing.T) {
	a, b := newRNG(1, tagBatch, 0, 1), newRNG(1, tagBatch, 0, 1)
	if a.Uint64() != b.Uint64() {
		t.Error("same stream arguments must give the same numbers")
	}
	seen := map[uint64]bool{}
	for _, r := range []*rand.Rand{newRNG(1, tagBatch, 0, 1), newRNG(1, tagBatch, 1, 0), newRNG(2, tagBatch, 0, 1),
		newRNG(1, tagOrder, 0), newRNG(1, tagMix, 0), newRNG(1, tagBatch, 0, 2)} {
		v := r.Uint64()
		if seen[v] {
			t.Error("distinct streams gave the same first number")
		}
		seen[v] = true
	}
}
