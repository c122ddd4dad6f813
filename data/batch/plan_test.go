package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// randomSizes returns n example sizes with texts of 3..maxText pieces and 1..maxRegions regions.
func randomSizes(seed uint64, n, maxText, maxRegions, rows int) []ExampleSize {
	rng := rand.New(rand.NewPCG(seed, 3))
	sizes := make([]ExampleSize, n)
	for i := range sizes {
		tl, nb := 3+rng.IntN(maxText-2), 1+rng.IntN(maxRegions)
		sizes[i] = ExampleSize{Tokens: rows*tl + nb, Text: tl + 2, Regions: nb}
	}
	return sizes
}

// TestTokenBucketMatchesORIG runs ORIG's TokenBucketSampler loop (testdata/orig_token_bucket.py) on the same
// shuffled order and compares the batches.
func TestTokenBucketMatchesORIG(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := exec.LookPath(py); err != nil {
		t.Skipf("needs %s: %v", py, err)
	}
	for _, c := range []struct {
		n, bucket, tokens, mul int
		drop                   bool
	}{{300, 64, 400, 4, false}, {300, 64, 400, 4, true}, {1000, 1000, 2000, 8, false}, {57, 10, 250, 3, false}} {
		sizes := randomSizes(uint64(c.n), c.n, 40, 36, 1)
		order := rand.New(rand.NewPCG(uint64(c.bucket), 9)).Perm(c.n)
		cfg := TokenBucketConfig{BatchTokens: c.tokens, BucketSize: c.bucket, SizeMultiple: c.mul, DropLast: c.drop, RowsPerExample: 1}
		plans, err := cfg.planOrder(sizes, order)
		if err != nil {
			t.Fatal(err)
		}
		lens := make([]int, c.n)
		for i, s := range sizes {
			lens[i] = s.Tokens
		}
		in, _ := json.Marshal(map[string]any{"lens": lens, "order": order, "bucket_size": c.bucket, "batch_size": c.tokens,
			"size_multiple": c.mul, "droplast": c.drop})
		cmd := exec.Command(py, "testdata/orig_token_bucket.py")
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("orig_token_bucket.py: %v", err)
		}
		var want [][]int
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		var got [][]int
		for _, p := range plans {
			got = append(got, p.Indices)
			m := groupMax{}.with(sizes, p.Indices)
			if p.Shape != (Shape{Rows: len(p.Indices), TextLen: m.text, NumRegions: m.regions}) {
				t.Errorf("%+v: plan shape %+v for its maxima %+v", c, p.Shape, m)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: %d batches differ from ORIG's %d:\n got %v\nwant %v", c, len(got), len(want), got, want)
		}
	}
}

func TestTokenBucketShapes(t *testing.T) {
	sizes := randomSizes(1, 5000, 60, 100, 2)
	buckets := ShapeBuckets{Text: PowerOfTwoBuckets(16, 62), Regions: PowerOfTwoBuckets(16, 100)}
	if !reflect.DeepEqual(buckets.Text, []int{16, 32, 62}) || !reflect.DeepEqual(buckets.Regions, []int{16, 32, 64, 100}) {
		t.Fatalf("buckets %+v", buckets)
	}
	cfg := TokenBucketConfig{BatchTokens: 10240, BucketSize: 1000, SizeMultiple: 8, RowsPerExample: 2, Buckets: buckets}
	plans, err := cfg.Plan(sizes, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, len(sizes))
	shapes := map[Shape]bool{}
	full := 0
	for _, p := range plans {
		s := p.Shape
		shapes[s] = true
		if !slices.Contains(buckets.Text, s.TextLen) || !slices.Contains(buckets.Regions, s.NumRegions) {
			t.Fatalf("shape %+v off the buckets", s)
		}
		if s.Rows*(s.TextLen+s.NumRegions) > cfg.BatchTokens || s.Rows%(2*cfg.SizeMultiple) != 0 {
			t.Errorf("shape %+v: %d padded tokens for a budget of %d", s, s.Rows*(s.TextLen+s.NumRegions), cfg.BatchTokens)
		}
		if 2*len(p.Indices) > s.Rows {
			t.Errorf("%d examples of 2 rows in %d rows", len(p.Indices), s.Rows)
		}
		if 2*len(p.Indices) == s.Rows {
			full++
		}
		for _, i := range p.Indices {
			seen[i]++
			if sizes[i].Text > s.TextLen || sizes[i].Regions > s.NumRegions {
				t.Errorf("example %+v does not fit shape %+v", sizes[i], s)
			}
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("example %d planned %d times in an epoch", i, n)
		}
	}
	if len(shapes) > len(buckets.Text)*len(buckets.Regions) {
		t.Errorf("%d distinct shapes for %d buckets", len(shapes), len(buckets.Text)*len(buckets.Regions))
	}
	// Sorted buckets fill most batches; only bucket ends (≤ one per shape and bucket) are partial.
	if full < len(plans)*3/4 {
		t.Errorf("only %d of %d batches full", full, len(plans))
	}
	t.Logf("%d batches, %d shapes, %d full", len(plans), len(shapes), full)

	again, _ := cfg.Plan(sizes, rand.New(rand.NewPCG(5, 5)))
	other, _ := cfg.Plan(sizes, rand.New(rand.NewPCG(6, 5)))
	if !reflect.DeepEqual(plans, again) || reflect.DeepEqual(plans, other) {
		t.Errorf("plans are not a function of the generator")
	}

	// With DropLast only the last batch of each of the 5 buckets goes.
	cfg.DropLast = true
	dropped, _ := cfg.Plan(sizes, rand.New(rand.NewPCG(5, 5)))
	if len(dropped) != len(plans)-5 {
		t.Errorf("DropLast: %d batches, want %d", len(dropped), len(plans)-5)
	}
}

func TestTokenBucketBadConfig(t *testing.T) {
	sizes := randomSizes(2, 100, 20, 10, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		cfg  TokenBucketConfig
		want string
	}{
		{TokenBucketConfig{BatchTokens: 100, BucketSize: 10, SizeMultiple: 8, RowsPerExample: 1}, "too few"},
		{TokenBucketConfig{BatchTokens: 1000, BucketSize: 10, SizeMultiple: 8, RowsPerExample: 1,
			Buckets: ShapeBuckets{Text: []int{8, 16}, Regions: []int{10}}}, "largest bucket 16"},
		{TokenBucketConfig{BatchTokens: 1000, BucketSize: 10, SizeMultiple: 8, RowsPerExample: 1,
			Buckets: ShapeBuckets{Text: []int{32}}}, "both"},
		{TokenBucketConfig{BatchTokens: 1000, BucketSize: 10, SizeMultiple: 8, RowsPerExample: 1,
			Buckets: ShapeBuckets{Text: []int{32, 16}, Regions: []int{10}}}, "ascending"},
		{TokenBucketConfig{BatchTokens: 1000, BucketSize: 0, SizeMultiple: 8, RowsPerExample: 1}, "BucketSize 0"},
	} {
		if _, err := c.cfg.Plan(sizes, rng); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestFixedPlan(t *testing.T) {
	sizes := randomSizes(3, 10, 20, 30, 1)
	order := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	plans, err := FixedPlan(order, sizes, 4, 3, ShapeBuckets{Text: []int{8, 16, 32}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 3 || !reflect.DeepEqual(plans[2].Indices, []int{1, 0}) {
		t.Fatalf("plans %+v", plans)
	}
	for _, p := range plans {
		m := groupMax{}.with(sizes, p.Indices)
		wantText, _ := roundUp([]int{8, 16, 32}, m.text)
		if p.Shape != (Shape{Rows: 12, TextLen: wantText, NumRegions: m.regions}) {
			t.Errorf("plan %v: shape %+v, maxima %+v", p.Indices, p.Shape, m)
		}
	}
	if plans, _ := FixedPlan(order, sizes, 4, 1, ShapeBuckets{}, true); len(plans) != 2 {
		t.Errorf("dropLast: %d plans", len(plans))
	}
	if _, err := FixedPlan(order[:3], sizes, 4, 1, ShapeBuckets{}, true); err == nil {
		t.Errorf("no full batch: no error")
	}
	if _, err := FixedPlan(order, sizes, 4, 1, ShapeBuckets{Regions: []int{5}}, false); err == nil ||
		!strings.Contains(err.Error(), "regions") {
		t.Errorf("regions beyond the buckets: %v", err)
	}
}

// TestPlanIterator checks that every example comes once per epoch, that the plans differ between epochs and that
// a run resumed from a State repeats the original.
func TestPlanIterator(t *testing.T) {
	sizes := randomSizes(4, 300, 30, 20, 1)
	cfg := TokenBucketConfig{BatchTokens: 600, BucketSize: 100, SizeMultiple: 4, RowsPerExample: 1,
		Buckets: ShapeBuckets{Text: []int{16, 32}, Regions: []int{10, 20}}}
	plan := func(rng *rand.Rand) ([]Plan, error) { return cfg.Plan(sizes, rng) }
	// The "batch" records its plan and one draw of its generator.
	build := func(p Plan, rng *rand.Rand) (*Batch, error) {
		return &Batch{Size: p.Shape.Rows, TextLen: p.Shape.TextLen, NumRegions: p.Shape.NumRegions,
			ExampleIDs: []string{fmt.Sprint(p.Indices)}, ImageIDs: []string{fmt.Sprint(rng.Uint64())}}, nil
	}
	collect := func(opts PlanIterOptions) ([]*Batch, []State) {
		it, err := NewPlanIterator(plan, build, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var bs []*Batch
		var st []State
		for {
			b, err := it.Next()
			if err != nil {
				break
			}
			bs, st = append(bs, b), append(st, it.State())
		}
		return bs, st
	}
	all, states := collect(PlanIterOptions{Seed: 11, Epochs: 2, Prefetch: 2})
	perEpoch := 1 // the state after epoch 0's last batch is already epoch 1's
	for _, s := range states {
		if s.Epoch == 0 {
			perEpoch++
		}
	}
	counts := make([]int, len(sizes))
	for _, b := range all[:perEpoch] {
		var idx []int
		json.Unmarshal([]byte(strings.ReplaceAll(b.ExampleIDs[0], " ", ",")), &idx)
		for _, i := range idx {
			counts[i]++
		}
	}
	for i, n := range counts {
		if n != 1 {
			t.Fatalf("example %d seen %d times in epoch 0 (%d batches)", i, n, perEpoch)
		}
	}
	if reflect.DeepEqual(all[0].ExampleIDs, all[perEpoch].ExampleIDs) {
		t.Errorf("epoch 1 repeats epoch 0's first batch")
	}
	k := perEpoch - 3
	rest, _ := collect(PlanIterOptions{Seed: 11, Epochs: 2, Start: states[k]})
	if !reflect.DeepEqual(rest, all[k+1:]) {
		t.Errorf("resumed from %+v: %d batches differ from the original's %d", states[k], len(rest), len(all[k+1:]))
	}
	if _, err := NewPlanIterator(plan, build, PlanIterOptions{Start: State{Index: 10000}}); err == nil {
		t.Errorf("start beyond the epoch: no error")
	}
	failing := func(*rand.Rand) ([]Plan, error) { return nil, fmt.Errorf("boom") }
	if _, err := NewPlanIterator(failing, build, PlanIterOptions{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing plan: %v", err)
	}
}
