package batch

import (
	"errors"
	"fmt"
	"io"
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
	it := &Iterator{ch: make(chan item, opts.Prefetch), done: make(chan struct{}), state: opts.Start}
	it.wg.Add(1)
	go it.produce(b, opts, perEpoch)
	return it, nil
}

// produce builds batches from opts.Start on and sends them until the last epoch ends, a build fails or the
// iterator is closed.
func (it *Iterator) produce(b *Builder, opts IterOptions, perEpoch int) {
	defer it.wg.Done()
	defer close(it.ch)
	n, bs := b.src.Len(), b.cfg.BatchSize
	for st := opts.Start; opts.Epochs == 0 || st.Epoch < opts.Epochs; st = (State{Epoch: st.Epoch + 1}) {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		if opts.Shuffle {
			newRNG(opts.Seed, tagOrder, uint64(st.Epoch)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		for ; st.Index < perEpoch; st.Index++ {
			idx := order[st.Index*bs : min((st.Index+1)*bs, n)]
			bt, err := b.Build(opts.Task, idx, newRNG(opts.Seed, tagBatch, uint64(st.Epoch), uint64(st.Index)))
			if err != nil {
				err = fmt.Errorf("epoch %d batch %d: %w", st.Epoch, st.Index, err)
			}
			next := State{Epoch: st.Epoch, Index: st.Index + 1}
			if next.Index == perEpoch {
				next = State{Epoch: st.Epoch + 1}
			}
			select {
			case it.ch <- item{batch: bt, next: next, err: err}:
			case <-it.done:
				return
			}
			if err != nil {
				return
			}
		}
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
