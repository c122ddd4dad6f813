package batch

import (
	"errors"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// drain reads up to n batches (n < 0: until the iterator ends) and returns them with the final error.
func drain(t *testing.T, it *Iterator, n int) ([]*Batch, error) {
	t.Helper()
	var out []*Batch
	for n < 0 || len(out) < n {
		bt, err := it.Next()
		if err != nil {
			return out, err
		}
		out = append(out, bt)
	}
	return out, nil
}

func mustIterator(t *testing.T, b *Builder, opts IterOptions) *Iterator {
	t.Helper()
	it, err := NewIterator(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(it.Close)
	return it
}

func TestIteratorEpochs(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec()) // 120 examples, batch 8 → 15 batches
	spec := smallSpec()
	spec.images = 41 // 123 examples → 16 batches, the last with 3 examples
	b2 := newBuilder(t, smallConfig(), spec)
	for _, tc := range []struct {
		b        *Builder
		dropLast bool
		batches  int
		examples int
	}{{b, false, 15, 120}, {b2, false, 16, 123}, {b2, true, 15, 120}} {
		it := mustIterator(t, tc.b, IterOptions{Task: TaskVQA, Seed: 3, Shuffle: true, Epochs: 2, Prefetch: 2, DropLast: tc.dropLast})
		bts, err := drain(t, it, -1)
		if err != io.EOF {
			t.Fatalf("end of iteration: %v, want io.EOF", err)
		}
		if len(bts) != 2*tc.batches {
			t.Fatalf("%d batches over 2 epochs, want %d", len(bts), 2*tc.batches)
		}
		var orders [2][]int64
		for i, bt := range bts {
			for row, ok := range bt.ExampleOK {
				if ok {
					orders[i/tc.batches] = append(orders[i/tc.batches], bt.QuestionIDs[row])
				} else if i%tc.batches != tc.batches-1 {
					t.Fatalf("batch %d (not the last of its epoch) has a padding row", i)
				}
			}
		}
		for e, order := range orders {
			if len(order) != tc.examples {
				t.Fatalf("epoch %d covered %d examples, want %d", e, len(order), tc.examples)
			}
			sorted := slices.Sorted(slices.Values(order))
			if len(slices.Compact(slices.Clone(sorted))) != tc.examples {
				t.Fatalf("epoch %d repeats an example", e)
			}
			if !tc.dropLast && (sorted[0] != 1000 || sorted[tc.examples-1] != int64(1000+tc.examples-1)) {
				t.Fatalf("epoch %d does not cover every example", e)
			}
		}
		if slices.Equal(orders[0], orders[1]) {
			t.Error("shuffling gave the same order in two epochs")
		}
		if st := it.State(); st != (State{Epoch: 2}) {
			t.Errorf("final state %+v, want epoch 2 index 0", st)
		}
		if _, err := it.Next(); err != io.EOF {
			t.Errorf("Next after the end: %v, want io.EOF", err)
		}
	}
}

func TestIteratorSourceOrder(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	bts, err := drain(t, mustIterator(t, b, IterOptions{Task: TaskVQA, Epochs: 1}), -1)
	if err != io.EOF {
		t.Fatal(err)
	}
	for i, bt := range bts {
		for row := range bt.Size {
			if want := int64(1000 + 8*i + row); bt.QuestionIDs[row] != want {
				t.Fatalf("batch %d row %d: question %d, want %d (source order)", i, row, bt.QuestionIDs[row], want)
			}
		}
	}
}

func TestIteratorFreshSamplesPerEpoch(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	bts, err := drain(t, mustIterator(t, b, IterOptions{Task: TaskMLM, Seed: 5, Epochs: 2}), -1)
	if err != io.EOF {
		t.Fatal(err)
	}
	for i := range 15 {
		if reflect.DeepEqual(bts[i], bts[15+i]) {
			t.Fatalf("batch %d: the same examples got the same MLM masks in epochs 0 and 1", i)
		}
	}
}

func TestIteratorDeterministicResume(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	for _, task := range []Task{TaskMLM, TaskMRCKL, TaskITM} {
		opts := IterOptions{Task: task, Seed: 99, Shuffle: true, Prefetch: 3}
		full, err := drain(t, mustIterator(t, b, opts), 40) // 2 epochs and 10 batches
		if err != nil {
			t.Fatal(err)
		}
		again, _ := drain(t, mustIterator(t, b, opts), 40)
		if !reflect.DeepEqual(full, again) {
			t.Fatalf("%s: two runs with the same seed differ", task)
		}

		first := mustIterator(t, b, opts)
		if _, err := drain(t, first, 22); err != nil {
			t.Fatal(err)
		}
		st := first.State()
		if st != (State{Epoch: 1, Index: 7}) {
			t.Fatalf("state after 22 batches of 15 per epoch = %+v, want {1 7}", st)
		}
		first.Close()
		opts.Start = st
		rest, err := drain(t, mustIterator(t, b, opts), 18)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rest, full[22:]) {
			t.Fatalf("%s: resuming from %+v does not reproduce the batches", task, st)
		}

		other := opts
		other.Start, other.Seed = State{}, 100
		diff, _ := drain(t, mustIterator(t, b, other), 1)
		if reflect.DeepEqual(diff[0], full[0]) {
			t.Fatalf("%s: another seed gave the same first batch", task)
		}
	}
}

func TestIteratorCloseDoesNotLeak(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	before := runtime.NumGoroutine()
	for _, consume := range []int{0, 1, 5} {
		it, err := NewIterator(b, IterOptions{Task: TaskMLM, Prefetch: 2}) // endless
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drain(t, it, consume); err != nil {
			t.Fatal(err)
		}
		it.Close()
		it.Close()
		if _, err := it.Next(); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v, want ErrClosed", err)
		}
	}
	// Close from another goroutine while Next waits on an unbuffered iterator.
	it, _ := NewIterator(b, IterOptions{Task: TaskMLM})
	go it.Close()
	for {
		if _, err := it.Next(); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Next racing Close: %v, want ErrClosed", err)
			}
			break
		}
	}
	it.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing, %d before", n, before)
	}
}

func TestIteratorBuildError(t *testing.T) {
	src := failingSource{newSource(t, smallSpec()), imageKey(10)} // examples 30..32
	b, err := NewBuilder(smallConfig(), src)
	if err != nil {
		t.Fatal(err)
	}
	it := mustIterator(t, b, IterOptions{Task: TaskVQA, Prefetch: 4})
	bts, err := drain(t, it, -1)
	if len(bts) != 3 || err == nil || !strings.Contains(err.Error(), "epoch 0 batch 3: building vqa batch: example 30: disk on fire") {
		t.Fatalf("got %d batches and error %v, want 3 batches then the error of batch 3", len(bts), err)
	}
	if _, again := it.Next(); again != err {
		t.Errorf("Next after a failure: %v, want the same error", again)
	}
	if it.State() != (State{Index: 3}) {
		t.Errorf("state after the failure %+v, want {0 3}", it.State())
	}
}

func TestNewIteratorBadOptions(t *testing.T) {
	b := newBuilder(t, smallConfig(), smallSpec())
	small := smallSpec()
	small.images, small.perImage = 1, 5
	few := newBuilder(t, smallConfig(), small)
	for name, tc := range map[string]struct {
		b    *Builder
		opts IterOptions
	}{
		"start index":    {b, IterOptions{Start: State{Index: 15}}},
		"negative epoch": {b, IterOptions{Start: State{Epoch: -1}}},
		"prefetch":       {b, IterOptions{Prefetch: -1}},
		"epochs":         {b, IterOptions{Epochs: -2}},
		"drop last":      {few, IterOptions{DropLast: true}},
	} {
		if it, err := NewIterator(tc.b, tc.opts); err == nil {
			it.Close()
			t.Errorf("%s: NewIterator accepted %+v", name, tc.opts)
		}
	}
}
