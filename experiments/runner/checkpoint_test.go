package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
)

// checkpointStore returns a store with a weight, an int32 optimizer counter and the RNG state, the weight's
// values all equal to fill.
func checkpointStore(t *testing.T, fill float32) *model.Store {
	t.Helper()
	s := model.NewStore()
	if err := s.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	w := []float32{fill, fill, fill, fill, fill, fill}
	if _, err := s.CreateVariable("/uniter/pooler/dense/weight", tensors.FromFlatDataAndDimensions(w, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateVariable(stepCount+"/uniter/pooler/dense/weight", tensors.FromValue(int32(fill))); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := checkpointStore(t, 1.5)
	// Enough variables for a header of many kilobytes (the trainer state is stored after them).
	for i := range 200 {
		if _, err := src.CreateVariable(fmt.Sprintf("/uniter/encoder/layer/%d/output/dense/bias", i), tensors.FromValue([]float32{float32(i)})); err != nil {
			t.Fatal(err)
		}
	}
	st := &trainerState{Step: 3, Heads: []string{"vqa"}, Data: map[string]batch.State{"vqa": {Epoch: 1, Index: 4}},
		Best: bestState{Step: 3, Value: 0.75}}
	path, err := saveCheckpoint(dir, src, st, -1)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "models", "model_3.ckpt") {
		t.Fatalf("checkpoint written to %s", path)
	}
	ts, got, ok, err := readCheckpoint(filepath.Join(dir, currentName))
	if err != nil || !ok {
		t.Fatalf("reading current.ckpt: ok=%v err=%v", ok, err)
	}
	if got.Step != 3 || got.Data["vqa"] != (batch.State{Epoch: 1, Index: 4}) || got.Best.Value != 0.75 {
		t.Fatalf("trainer state round trip: %+v", got)
	}
	if !isProjectCheckpoint(path) {
		t.Fatal("isProjectCheckpoint does not recognise a checkpoint")
	}
	dst := checkpointStore(t, 0)
	if err := dst.SetRNGStateFromSeed(99); err != nil {
		t.Fatal(err)
	}
	if err := restoreStore(dst, ts); err != nil {
		t.Fatal(err)
	}
	for v := range src.IterVariables() {
		a, b := v.MustValue(), dst.GetVariable(v.Path()).MustValue()
		if !a.Shape().Equal(b.Shape()) || !equalBytes(t, a, b) {
			t.Fatalf("variable %s differs after the round trip", v.Path())
		}
	}
}

func equalBytes(t *testing.T, a, b *tensors.Tensor) bool {
	var x, y []byte
	if err := a.ConstBytes(func(d []byte) { x = slices.Clone(d) }); err != nil {
		t.Fatal(err)
	}
	if err := b.ConstBytes(func(d []byte) { y = slices.Clone(d) }); err != nil {
		t.Fatal(err)
	}
	return slices.Equal(x, y)
}

// weightOf reads the first value of the pooler weight from a checkpoint file.
func weightOf(t *testing.T, path string) float32 {
	t.Helper()
	ts, _, ok, err := readCheckpoint(path)
	if err != nil || !ok {
		t.Fatalf("reading %s: ok=%v err=%v", path, ok, err)
	}
	return ts["/uniter/pooler/dense/weight"].Value().([][]float32)[0][0]
}

func TestCheckpointCrashMidWriteKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	if _, err := saveCheckpoint(dir, checkpointStore(t, 1), &trainerState{Step: 1}, -1); err != nil {
		t.Fatal(err)
	}
	// A write that dies half-way (as a crash would) through the atomic writer of step 2.
	crash := errors.New("crash")
	err := writeFileAtomic(modelPath(dir, 2), func(w io.Writer) error {
		w.Write([]byte("partial safetensors header"))
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("writeFileAtomic error %v", err)
	}
	// A leftover temporary file of a process killed mid-write.
	leftover := filepath.Join(dir, modelsDir, ".model_2.ckpt"+tmpMarker+"123")
	if err := os.WriteFile(leftover, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(modelPath(dir, 2)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed write left %s behind: %v", modelPath(dir, 2), err)
	}
	if w := weightOf(t, filepath.Join(dir, currentName)); w != 1 {
		t.Fatalf("current.ckpt holds %v after a failed write, want the previous checkpoint (1)", w)
	}
	// The next save succeeds, cleans the leftover and moves current.ckpt.
	if _, err := saveCheckpoint(dir, checkpointStore(t, 2), &trainerState{Step: 2}, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover temporary file not pruned: %v", err)
	}
	if w := weightOf(t, filepath.Join(dir, currentName)); w != 2 {
		t.Fatalf("current.ckpt holds %v, want 2", w)
	}
}

func TestCheckpointKeepAndBest(t *testing.T) {
	dir := t.TempDir()
	for step := 1; step <= 4; step++ {
		path, err := saveCheckpoint(dir, checkpointStore(t, float32(step)), &trainerState{Step: step}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 {
			if err := markBest(dir, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, modelsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"model_3.ckpt", "model_4.ckpt"}) {
		t.Fatalf("kept %v, want the newest two", names)
	}
	if w := weightOf(t, filepath.Join(dir, bestName)); w != 1 {
		t.Fatalf("best.ckpt holds %v after pruning, want step 1's weights", w)
	}
	if w := weightOf(t, filepath.Join(dir, currentName)); w != 4 {
		t.Fatalf("current.ckpt holds %v, want 4", w)
	}
}

func TestReadCheckpointRejectsTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path, err := saveCheckpoint(dir, checkpointStore(t, 1), &trainerState{Step: 1}, -1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "truncated.ckpt")
	if err := os.WriteFile(bad, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := readCheckpoint(bad); err == nil {
		t.Fatal("a truncated checkpoint was read without error")
	}
}

func TestMetricsRoundTripAndResumeTruncation(t *testing.T) {
	dir := t.TempDir()
	log, err := openMetricsLog(dir, -1)
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 4; step++ {
		if err := log.add(Record{Step: step, Metrics: map[string]float64{"train/total_loss": float64(step) / 2}}); err != nil {
			t.Fatal(err)
		}
	}
	log.close()
	// A run resumed from update 2 drops the records logged after it.
	log, err = openMetricsLog(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	log.add(Record{Step: 3, Metrics: map[string]float64{"train/total_loss": 9}})
	log.close()
	recs, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, r := range recs {
		got = append(got, r.Metrics["train/total_loss"])
	}
	if !slices.Equal(got, []float64{0.5, 1, 9}) {
		t.Fatalf("losses after resume truncation %v", got)
	}
}
