package batch

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("batch iterator closed")

// State is a position in the data order: batch Index of epoch Epoch. An iterator started from a State produces
// exactly the batches (examples, masks, negatives) that the original run produced from that position on.
type State struct {
	Epoch, Index int
}

// IterOptions configures an Iterator.
type IterOptions struct {
	Task     Task
	Seed     uint64 // fixes the example order of every epoch and every batch's sampling
	Shuffle  bool   // shuffle the examples per epoch (else source order)
	DropLast bool   // drop the last partial batch of each epoch instead of padding it
	Epochs   int    // stop after this many epochs; 0 = endless
	Prefetch int    // batches built ahead of Next (the channel buffer); 0 = build while Next waits
	Start    State  // where to start (the zero State = the beginning)
}

// Iterator builds batches in a background goroutine, in a deterministic order, ahead of their use. Next and State
// belong to one consumer goroutine; Close may be called from any goroutine.
type Iterator struct {
	ch    chan item
	done  chan struct{}
	wg    sync.WaitGroup
	close sync.Once
	state State
	err   error // sticky error of Next
}

// item is one produced batch, or the error that stopped production, with the position after it.
type item struct {
	batch *Batch
	next  State
	err   error
}

// NewIterator starts an iterator over all examples of b's source. Batch i of epoch e holds the examples at
// positions [i·B, (i+1)·B) of that epoch's order (a permutation drawn from (Seed, e) when shuffling) and draws its
// samples from a generator seeded by (Seed, e, i). Call Close when done.
func NewIterator(b *Builder, opts IterOptions) (*Iterator, error) {
	n, bs := b.src.Len(), b.cfg.BatchSize
	perEpoch := (n + bs - 1) / bs
	if opts.DropLast {
		perEpoch = n / bs
	}
	switch {
	case perEpoch == 0:
		return nil, fmt.Errorf("batch iterator: %d examples make no batch of %d", n, bs)
	case opts.Prefetch < 0 || opts.Epochs < 0:
		return nil, fmt.Errorf("batch iterator: Prefetch %d and Epochs %d must be ≥ 0", opts.Prefetch, opts.Epochs)
	case opts.Start.Epoch < 0 || opts.Start.Index < 0 || opts.Start.Index >= perEpoch:
		return nil, fmt.Errorf("batch iterator: start %+v outside the %d batches of an epoch", opts.Start, perEpoch)
	}
	shape := Shape{Rows: bs, TextLen: b.cfg.TextLen, NumRegions: b.cfg.NumRegions}
	plan := func(rng *rand.Rand) ([]Plan, error) {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		if opts.Shuffle {
			rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		plans := make([]Plan, perEpoch)
		for i := range plans {
			plans[i] = Plan{Indices: order[i*bs : min((i+1)*bs, n)], Shape: shape}
		}
		return plans, nil
	}
	build := func(p Plan, rng *rand.Rand) (*Batch, error) { return b.Build(opts.Task, p.Indices, rng) }
	return startIterator(plan, build, PlanIterOptions{Seed: opts.Seed, Epochs: opts.Epochs, Prefetch: opts.Prefetch,
		Start: opts.Start}), nil
}

// PlanFunc plans the batches of one epoch, drawing its randomness (example order, buckets) from rng.
type PlanFunc func(rng *rand.Rand) ([]Plan, error)

// BuildFunc builds one planned batch, drawing its samples (negatives, masks) from rng.
type BuildFunc func(p Plan, rng *rand.Rand) (*Batch, error)

// PlanIterOptions configures NewPlanIterator.
type PlanIterOptions struct {
	Seed     uint64 // fixes every epoch's plan and every batch's sampling
	Epochs   int    // stop after this many epochs; 0 = endless
	Prefetch int    // batches built ahead of Next; 0 = build while Next waits
	Start    State  // where to start (the zero State = the beginning)
}

// NewPlanIterator starts an iterator over planned batches, e.g. TokenBucketConfig.Plan or FixedPlan with a task's
// builder: epoch e is planned by plan with a generator seeded by (Seed, e), and its batch i is built by build with
// a generator seeded by (Seed, e, i), so a run started from a State continues exactly. Call Close when done.
func NewPlanIterator(plan PlanFunc, build BuildFunc, opts PlanIterOptions) (*Iterator, error) {
	if opts.Prefetch < 0 || opts.Epochs < 0 || opts.Start.Epoch < 0 || opts.Start.Index < 0 {
		return nil, fmt.Errorf("batch iterator: Prefetch %d, Epochs %d and start %+v must be ≥ 0", opts.Prefetch,
			opts.Epochs, opts.Start)
	}
	plans, err := plan(newRNG(opts.Seed, tagOrder, uint64(opts.Start.Epoch)))
	if err != nil {
		return nil, fmt.Errorf("batch iterator: epoch %d: %w", opts.Start.Epoch, err)
	}
	if opts.Start.Index >= len(plans) {
		return nil, fmt.Errorf("batch iterator: start %+v outside the %d batches of epoch %d", opts.Start, len(plans),
			opts.Start.Epoch)
	}
	return startIterator(plan, build, opts), nil
}

// startIterator starts the producer goroutine.
func startIterator(plan PlanFunc, build BuildFunc, opts PlanIterOptions) *Iterator {
	it := &Iterator{ch: make(chan item, opts.Prefetch), done: make(chan struct{}), state: opts.Start}
	it.wg.Add(1)
	go it.produce(plan, build, opts)
	return it
}

// produce builds batches from opts.Start on and sends them until the last epoch ends, a plan or a build fails or
// the iterator is closed.
func (it *Iterator) produce(plan PlanFunc, build BuildFunc, opts PlanIterOptions) {
	defer it.wg.Done()
	defer close(it.ch)
	for st := opts.Start; opts.Epochs == 0 || st.Epoch < opts.Epochs; st = (State{Epoch: st.Epoch + 1}) {
		plans, err := plan(newRNG(opts.Seed, tagOrder, uint64(st.Epoch)))
		if err == nil && len(plans) == 0 {
			err = fmt.Errorf("no batch planned")
		}
		if err != nil {
			it.send(item{err: fmt.Errorf("epoch %d: %w", st.Epoch, err)})
			return
		}
		for ; st.Index < len(plans); st.Index++ {
			bt, err := build(plans[st.Index], newRNG(opts.Seed, tagBatch, uint64(st.Epoch), uint64(st.Index)))
			if err != nil {
				err = fmt.Errorf("epoch %d batch %d: %w", st.Epoch, st.Index, err)
			}
			next := State{Epoch: st.Epoch, Index: st.Index + 1}
			if next.Index == len(plans) {
				next = State{Epoch: st.Epoch + 1}
			}
			if !it.send(item{batch: bt, next: next, err: err}) || err != nil {
				return
			}
		}
	}
}

// send hands x to Next; it reports false when the iterator was closed first.
func (it *Iterator) send(x item) bool {
	select {
	case it.ch <- x:
		return true
	case <-it.done:
		return false
	}
}

// Next returns the next batch. It returns io.EOF after the last epoch, the build error that stopped the
// iterator, or ErrClosed after Close.
func (it *Iterator) Next() (*Batch, error) {
	if it.err != nil {
		return nil, it.err
	}
	select {
	case <-it.done:
		it.err = ErrClosed
		return nil, it.err
	default:
	}
	x, ok := <-it.ch
	switch {
	case !ok:
		it.err = io.EOF
		select {
		case <-it.done:
			it.err = ErrClosed
		default:
		}
	case x.err != nil:
		it.err = x.err
	default:
		it.state = x.next
		return x.batch, nil
	}
	return nil, it.err
}

// State returns the position after the last batch Next returned: pass it as IterOptions.Start to resume.
func (it *Iterator) State() State { return it.state }

// Close stops the producer goroutine and waits for it to exit. It may be called more than once.
func (it *Iterator) Close() {
	it.close.Do(func() { close(it.done) })
	it.wg.Wait()
}
