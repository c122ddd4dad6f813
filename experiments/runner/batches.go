package runner

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/uniter-go/uniter/data/batch"
)

// examples are the examples of one split as a task batches them.
type examples struct {
	n int
	// sizes returns the examples' sizes for batch planning (computed on first use).
	sizes func() ([]batch.ExampleSize, error)
	// build builds a planned batch.
	build batch.BuildFunc
	// rowsPerExample is the number of batch rows an example takes (NLVR2 paired: 2).
	rowsPerExample int
	// epochOrder returns the example order of a training epoch when the task has its own (ORIG RefCOCO: the refs
	// shuffled, each ref's sentences together); nil: a random permutation.
	epochOrder func(rng *rand.Rand) []int
	// keepLast keeps the last, partial training batch of an epoch (ORIG's DataLoader for RefCOCO); else it is
	// dropped as ORIG's TokenBucketSampler does.
	keepLast bool
	// text returns the raw text of example i and images its images, in the order their regions fill the
	// example's first row.
	text   func(i int) string
	images func(i int) []string
	// maxText and maxRegions bound the padded text length and region count of a row.
	maxText, maxRegions int
}

// newExamples fills the fields every examples value shares: sizes computed once from sizesOf, each clamped to
// the largest row.
func newExamples(n int, sizesOf func() ([]batch.ExampleSize, error), maxText, maxRegions int) *examples {
	once := sync.OnceValues(func() ([]batch.ExampleSize, error) {
		sizes, err := sizesOf()
		if err != nil {
			return nil, err
		}
		// Evaluation keeps texts of any length, as ORIG does; they are cut to the padded text length.
		for i := range sizes {
			sizes[i].Text, sizes[i].Regions = min(sizes[i].Text, maxText), min(sizes[i].Regions, maxRegions)
		}
		return sizes, nil
	})
	return &examples{n: n, sizes: once, rowsPerExample: 1, maxText: maxText, maxRegions: maxRegions}
}

// examplesOf returns the examples of a split as t batches them: the task's own, or the dataset's example set
// through the batch builder.
func (r *Runner) examplesOf(t *task, split string) (*examples, error) {
	if t.examples != nil {
		return t.examples(split)
	}
	b, err := r.builder(split)
	if err != nil {
		return nil, err
	}
	src, err := r.data.Split(split)
	if err != nil {
		return nil, err
	}
	ex := newExamples(src.Len(), func() ([]batch.ExampleSize, error) { return batch.SourceSizes(src) }, r.data.TextLen,
		r.data.NumRegions)
	ex.build = b.BuildPlan(t.batch)
	ex.text = func(i int) string { return src.Examples[i].Text }
	ex.images = func(i int) []string { return []string{src.Examples[i].ImageKey} }
	return ex, nil
}

// planned reports whether t's batches are planned (token buckets, or the task's own examples) rather than cut
// from the batch builder's fixed shape.
func (r *Runner) planned(t *task) bool { return t.examples != nil || r.s.batching.Tokens > 0 }

// shapeBuckets returns the padded extents planned batches may have: training.batching's, else powers of two up
// to the largest row. The largest bucket must hold the largest row.
func (r *Runner) shapeBuckets(ex *examples) (batch.ShapeBuckets, error) {
	sb := batch.ShapeBuckets{Text: r.s.batching.TextBuckets, Regions: r.s.batching.RegionBuckets}
	if len(sb.Text) == 0 {
		sb.Text = batch.PowerOfTwoBuckets(8, ex.maxText)
	}
	if len(sb.Regions) == 0 {
		sb.Regions = batch.PowerOfTwoBuckets(8, ex.maxRegions)
	}
	for _, c := range []struct {
		key      string
		buckets  []int
		max      int
		maxOfRow string
	}{{"text_buckets", sb.Text, ex.maxText, "text length"}, {"region_buckets", sb.Regions, ex.maxRegions, "region count"}} {
		if c.buckets[len(c.buckets)-1] < c.max {
			return sb, fmt.Errorf("config key training.batching.%s: %v, but a row of dataset %s may have a %s of %d; add a bucket of at least %d",
				c.key, c.buckets, r.data.Name, c.maxOfRow, c.max, c.max)
		}
	}
	return sb, nil
}

// iterator returns the batches of task t (the i-th task) on a split: endless and shuffled for training, from
// start; one pass in order for evaluation.
func (r *Runner) iterator(t *task, i int, split string, train bool, start batch.State) (*batch.Iterator, error) {
	s := r.s
	seed := taskSeed(s.seed, i)
	prefetch := 1
	if train {
		prefetch = max(1, s.numWorkers)
	}
	if !r.planned(t) {
		b, err := r.builder(split)
		if err != nil {
			return nil, err
		}
		opts := batch.IterOptions{Task: t.batch, Seed: seed, Epochs: 1, Prefetch: prefetch}
		if train {
			opts = batch.IterOptions{Task: t.batch, Seed: seed, Shuffle: true, DropLast: true, Prefetch: prefetch, Start: start}
		}
		return batch.NewIterator(b, opts)
	}
	ex, err := r.examplesOf(t, split)
	if err != nil {
		return nil, err
	}
	sizes, err := ex.sizes()
	if err != nil {
		return nil, err
	}
	buckets, err := r.shapeBuckets(ex)
	if err != nil {
		return nil, err
	}
	var plan batch.PlanFunc
	if tokens := r.batchTokens(train); tokens > 0 {
		tb := batch.TokenBucketConfig{BatchTokens: tokens, BucketSize: s.batching.BucketSize, SizeMultiple: s.batching.SizeMultiple,
			DropLast: train, RowsPerExample: ex.rowsPerExample, Buckets: buckets}
		plan = func(rng *rand.Rand) ([]batch.Plan, error) { return tb.Plan(sizes, rng) }
	} else {
		size := s.batchSize / s.updateFrequency
		plan = func(rng *rand.Rand) ([]batch.Plan, error) {
			order := make([]int, ex.n)
			for i := range order {
				order[i] = i
			}
			switch {
			case train && ex.epochOrder != nil:
				order = ex.epochOrder(rng)
			case train:
				order = rng.Perm(ex.n)
			}
			return batch.FixedPlan(order, sizes, size, ex.rowsPerExample, buckets, train && !ex.keepLast)
		}
	}
	opts := batch.PlanIterOptions{Seed: seed, Epochs: 1, Prefetch: prefetch}
	if train {
		opts = batch.PlanIterOptions{Seed: seed, Prefetch: prefetch, Start: start}
	}
	it, err := batch.NewPlanIterator(plan, ex.build, opts)
	if err != nil {
		return nil, fmt.Errorf("dataset %s split %s: %w", r.data.Name, split, err)
	}
	return it, nil
}

// batchTokens returns the tokens of a training or evaluation batch (0: batches of examples).
func (r *Runner) batchTokens(train bool) int {
	b := r.s.batching
	if !train && b.ValTokens > 0 {
		return b.ValTokens
	}
	return b.Tokens
}
