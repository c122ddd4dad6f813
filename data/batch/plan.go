package batch

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// ExampleSize is what batch planning knows of one example.
type ExampleSize struct {
	// Tokens is the example's entry of ORIG's lens: word pieces (without [CLS]/[SEP]) plus regions; NLVR2 paired
	// counts its two rows, 2·pieces + both images' regions.
	Tokens int
	// Text and Regions are the extents of each of the example's rows in the padded layout: word pieces incl. [CLS]
	// and [SEP], and regions.
	Text, Regions int
}

// Plan is one planned batch: the examples it holds, in order, and its padded shape (Rows ≥ len(Indices) times the
// rows per example; the remaining rows are padding).
type Plan struct {
	Indices []int
	Shape   Shape
}

// ShapeBuckets are the padded text lengths and region counts batches may have, each list ascending. A batch's
// longest text and largest region count are rounded up to the next listed value, so a backend that compiles one
// graph per shape (XLA) compiles at most len(Text)·len(Regions) graphs per row count. An empty list rounds
// nothing: the batch keeps its exact maximum.
type ShapeBuckets struct {
	Text, Regions []int
}

// PowerOfTwoBuckets returns lo, 2·lo, 4·lo, … below hi, then hi: the buckets for extents of at most hi.
func PowerOfTwoBuckets(lo, hi int) []int {
	var out []int
	for v := max(lo, 1); v < hi; v *= 2 {
		out = append(out, v)
	}
	return append(out, hi)
}

// LinearBuckets returns step, 2·step, 3·step, … below hi, then hi: the buckets for extents of at most hi.
func LinearBuckets(step, hi int) []int {
	var out []int
	for v := max(step, 1); v < hi; v += max(step, 1) {
		out = append(out, v)
	}
	return append(out, hi)
}

// validate checks that both lists ascend strictly from ≥ 1.
func (sb ShapeBuckets) validate() error {
	for _, l := range [][]int{sb.Text, sb.Regions} {
		for i, v := range l {
			if v < 1 || (i > 0 && v <= l[i-1]) {
				return fmt.Errorf("shape buckets %v: want strictly ascending values ≥ 1", l)
			}
		}
	}
	return nil
}

// fixed reports whether the buckets round both extents.
func (sb ShapeBuckets) fixed() bool { return len(sb.Text) > 0 && len(sb.Regions) > 0 }

// round returns the padded extents of a batch whose longest text has text pieces and whose largest image part has
// regions regions.
func (sb ShapeBuckets) round(text, regions int) (int, int, error) {
	t, err := roundUp(sb.Text, text)
	if err != nil {
		return 0, 0, fmt.Errorf("text of %d pieces: %w", text, err)
	}
	r, err := roundUp(sb.Regions, regions)
	if err != nil {
		return 0, 0, fmt.Errorf("%d regions: %w", regions, err)
	}
	return t, r, nil
}

// roundUp returns the smallest bucket ≥ n, or n without buckets.
func roundUp(buckets []int, n int) (int, error) {
	if len(buckets) == 0 {
		return n, nil
	}
	i, _ := slices.BinarySearch(buckets, n)
	if i == len(buckets) {
		return 0, fmt.Errorf("beyond the largest bucket %d", buckets[len(buckets)-1])
	}
	return buckets[i], nil
}

// TokenBucketConfig configures token-bucket batching, ORIG's TokenBucketSampler (data/sampler.py): the examples are
// shuffled, cut into buckets of BucketSize, each bucket sorted by length (longest first) and cut into batches that
// take SizeMultiple examples at a time while the batch's padded size stays within BatchTokens; the batches of all
// buckets are then shuffled.
type TokenBucketConfig struct {
	BatchTokens  int  // ORIG train_batch_size / val_batch_size: tokens per batch, padding included (e.g. 10240)
	BucketSize   int  // ORIG BUCKET_SIZE: examples sorted together (8192)
	SizeMultiple int  // ORIG size_multiple: examples are added this many at a time (8)
	DropLast     bool // ORIG droplast (training): the last batch of every bucket is dropped
	// RowsPerExample is the number of rows one example takes (NLVR2 paired: 2; 1 otherwise).
	RowsPerExample int
	// Buckets rounds the padded shapes. Without Text and Regions buckets the batches are ORIG's exactly: a batch
	// takes SizeMultiple more examples while longest·(n+SizeMultiple) ≤ BatchTokens, where longest is the largest
	// Tokens seen so far in the bucket (ORIG never resets it within a bucket), and each batch is padded to its own
	// longest text and largest region count with exactly its rows. With both, a batch of text length T and region
	// count R (its maxima, rounded up) holds at most C = ⌊BatchTokens / (RowsPerExample·(T+R)) / SizeMultiple⌋ ·
	// SizeMultiple examples and is always padded to C·RowsPerExample rows, so at most len(Text)·len(Regions)
	// distinct shapes occur; each batch's maxima are its own.
	Buckets ShapeBuckets
}

// validate checks the sizes.
func (c TokenBucketConfig) validate() error {
	if c.BatchTokens < 1 || c.BucketSize < 1 || c.SizeMultiple < 1 || c.RowsPerExample < 1 {
		return fmt.Errorf("token buckets: BatchTokens %d, BucketSize %d, SizeMultiple %d and RowsPerExample %d must be ≥ 1",
			c.BatchTokens, c.BucketSize, c.SizeMultiple, c.RowsPerExample)
	}
	if (len(c.Buckets.Text) == 0) != (len(c.Buckets.Regions) == 0) {
		return fmt.Errorf("token buckets: give both text and region buckets or neither (%v, %v)",
			c.Buckets.Text, c.Buckets.Regions)
	}
	return c.Buckets.validate()
}

// Plan plans one epoch over examples of the given sizes; rng shuffles the examples and then the batches.
func (c TokenBucketConfig) Plan(sizes []ExampleSize, rng *rand.Rand) ([]Plan, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	order := rng.Perm(len(sizes))
	plans, err := c.planOrder(sizes, order)
	if err != nil {
		return nil, err
	}
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })
	return plans, nil
}

// planOrder cuts the shuffled order into buckets and batches, before the final shuffle of the batches.
func (c TokenBucketConfig) planOrder(sizes []ExampleSize, order []int) ([]Plan, error) {
	var plans []Plan
	for st := 0; st < len(order); st += c.BucketSize {
		bucket := slices.Clone(order[st:min(st+c.BucketSize, len(order))])
		// Python's sorted(…, reverse=True) is stable: equal lengths keep their order.
		slices.SortStableFunc(bucket, func(a, b int) int { return sizes[b].Tokens - sizes[a].Tokens })
		ps, err := c.planBucket(sizes, bucket)
		if err != nil {
			return nil, err
		}
		plans = append(plans, ps...)
	}
	return plans, nil
}

// planBucket cuts one sorted bucket into batches.
func (c TokenBucketConfig) planBucket(sizes []ExampleSize, bucket []int) ([]Plan, error) {
	var (
		plans []Plan
		cur   []int
		acc   groupMax // the maxima the current batch is checked with
	)
	closeBatch := func() error {
		p, err := c.plan(sizes, cur)
		plans = append(plans, p)
		return err
	}
	for st := 0; st < len(bucket); st += c.SizeMultiple {
		group := bucket[st:min(st+c.SizeMultiple, len(bucket))]
		next := acc.with(sizes, group)
		capacity, err := c.capacity(next)
		if err != nil {
			return nil, err
		}
		if len(cur)+c.SizeMultiple <= capacity {
			cur, acc = append(cur, group...), next
			continue
		}
		if len(cur) == 0 {
			return nil, fmt.Errorf("token buckets: %d tokens per batch are too few for %d examples of %d tokens",
				c.BatchTokens, c.SizeMultiple, next.tokens)
		}
		if err := closeBatch(); err != nil {
			return nil, err
		}
		cur = slices.Clone(group)
		if !c.Buckets.fixed() {
			acc = next // ORIG keeps its running max_len across the batches of a bucket
			continue
		}
		acc = groupMax{}.with(sizes, group)
		if capacity, err = c.capacity(acc); err != nil {
			return nil, err
		}
		if capacity < len(group) {
			return nil, fmt.Errorf("token buckets: %d tokens per batch are too few for %d examples of %d tokens",
				c.BatchTokens, c.SizeMultiple, acc.tokens)
		}
	}
	if !c.DropLast && len(cur) > 0 {
		if err := closeBatch(); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// groupMax is the running maximum of the sizes of a batch's examples.
type groupMax struct{ tokens, text, regions int }

// with returns m extended by the examples of group.
func (m groupMax) with(sizes []ExampleSize, group []int) groupMax {
	for _, i := range group {
		s := sizes[i]
		m.tokens, m.text, m.regions = max(m.tokens, s.Tokens), max(m.text, s.Text), max(m.regions, s.Regions)
	}
	return m
}

// capacity returns how many examples a batch with maxima m may hold.
func (c TokenBucketConfig) capacity(m groupMax) (int, error) {
	if !c.Buckets.fixed() {
		return c.BatchTokens / max(m.tokens, 1), nil
	}
	t, r, err := c.Buckets.round(m.text, m.regions)
	if err != nil {
		return 0, fmt.Errorf("token buckets: %w", err)
	}
	return c.BatchTokens / (c.RowsPerExample * (t + r)) / c.SizeMultiple * c.SizeMultiple, nil
}

// plan returns the plan of a batch holding indices.
func (c TokenBucketConfig) plan(sizes []ExampleSize, indices []int) (Plan, error) {
	m := groupMax{}.with(sizes, indices)
	p := Plan{Indices: indices, Shape: Shape{Rows: len(indices) * c.RowsPerExample, TextLen: m.text, NumRegions: m.regions}}
	if !c.Buckets.fixed() {
		return p, nil
	}
	var err error
	if p.Shape.TextLen, p.Shape.NumRegions, err = c.Buckets.round(m.text, m.regions); err != nil {
		return p, fmt.Errorf("token buckets: %w", err)
	}
	capacity, err := c.capacity(m)
	p.Shape.Rows = capacity * c.RowsPerExample
	return p, err
}

// FixedPlan cuts order into batches of batchSize examples, as ORIG's DataLoader(batch_size) does for retrieval
// and referring expressions. Every batch has batchSize·rowsPerExample rows (the last one padded, or dropped with
// dropLast when it is partial) and its examples' longest text and largest region count rounded up by buckets.
func FixedPlan(order []int, sizes []ExampleSize, batchSize, rowsPerExample int, buckets ShapeBuckets, dropLast bool) ([]Plan, error) {
	if batchSize < 1 || rowsPerExample < 1 {
		return nil, fmt.Errorf("fixed batches: batch size %d and rows per example %d must be ≥ 1", batchSize, rowsPerExample)
	}
	if err := buckets.validate(); err != nil {
		return nil, err
	}
	var plans []Plan
	for st := 0; st < len(order); st += batchSize {
		idx := order[st:min(st+batchSize, len(order))]
		if dropLast && len(idx) < batchSize {
			break
		}
		m := groupMax{}.with(sizes, idx)
		t, r, err := buckets.round(m.text, m.regions)
		if err != nil {
			return nil, fmt.Errorf("fixed batches: %w", err)
		}
		plans = append(plans, Plan{Indices: idx, Shape: Shape{Rows: batchSize * rowsPerExample, TextLen: t, NumRegions: r}})
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("fixed batches: %d examples make no batch of %d", len(order), batchSize)
	}
	return plans, nil
}
