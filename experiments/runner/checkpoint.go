package runner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/internal/safetensors"
	"github.com/uniter-go/uniter/uniter"
)

// Checkpoints are single safetensors files holding every store variable by its path (the model in ORIG key
// spelling, the optimizer state under /optimizer/..., the dropout RNG state) with the trainer state as JSON in the
// safetensors metadata under metadataKey. A run's save directory holds, as MMF's does:
//
//	models/model_<step>.ckpt   the periodic checkpoints (the last checkpoint.max_to_keep of them)
//	current.ckpt               the latest checkpoint (a hard link)
//	best.ckpt                  the best checkpoint by training.early_stop.criteria (a hard link)
//
// Every file is written to a temporary name, synced and renamed, so a crash leaves the previous files intact.
const (
	metadataKey      = "uniter_go"
	checkpointFormat = "uniter-go-checkpoint"
	currentName      = "current.ckpt"
	bestName         = "best.ckpt"
	modelsDir        = "models"
	tmpMarker        = ".tmp-"
)

// trainerState is the trainer state saved with a checkpoint: everything beyond the store variables that a resumed
// run needs to continue exactly.
type trainerState struct {
	Format      string                 `json:"format"`
	Step        int                    `json:"step"` // updates done
	Seed        int64                  `json:"seed"` // training.seed actually used (a -1 seed is drawn once)
	Pretraining bool                   `json:"pretraining"`
	Heads       []string               `json:"heads"`
	Uniter      uniter.Config          `json:"uniter"`
	Data        map[string]batch.State `json:"data"`         // iterator position of each task's training data
	SamplerStep int                    `json:"sampler_step"` // sub-batches drawn by the pretraining task sampler
	Best        bestState              `json:"best"`
	Evaluation  map[string]float64     `json:"evaluation,omitempty"` // the evaluation at Step, if any
}

// bestState tracks training.early_stop.criteria.
type bestState struct {
	Step  int     `json:"step"` // 0 = no evaluation yet
	Value float64 `json:"value"`
}

// writeFileAtomic writes a file through write into a temporary file in the same directory, syncs it and renames
// it to path, then syncs the directory: readers see either the old file or the complete new one.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tmpMarker+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(dir)
}

// linkAtomic makes path a hard link to target, replacing path atomically.
func linkAtomic(target, path string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+tmpMarker+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	if err := os.Link(target, tmp); err != nil {
		return fmt.Errorf("linking %s to %s: %w", path, target, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking %s to %s: %w", path, target, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir flushes a directory's entries (renames) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// storeTensors returns the values of every variable of store by path.
func storeTensors(store *model.Store) (map[string]*tensors.Tensor, []string, error) {
	ts := map[string]*tensors.Tensor{}
	var names []string
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return nil, nil, fmt.Errorf("reading variable %s: %w", v.Path(), err)
		}
		ts[v.Path()] = t
		names = append(names, v.Path())
	}
	slices.Sort(names)
	return ts, names, nil
}

// modelPath is the periodic checkpoint file of a step.
func modelPath(saveDir string, step int) string {
	return filepath.Join(saveDir, modelsDir, fmt.Sprintf("model_%d.ckpt", step))
}

// saveCheckpoint writes the store and the trainer state as models/model_<step>.ckpt, points current.ckpt at it,
// and keeps the newest keep periodic files (keep < 0: all). It returns the file written.
func saveCheckpoint(saveDir string, store *model.Store, st *trainerState, keep int) (string, error) {
	ts, names, err := storeTensors(store)
	if err != nil {
		return "", err
	}
	st.Format = checkpointFormat
	meta, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encoding checkpoint state: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(saveDir, modelsDir), 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", saveDir, err)
	}
	path := modelPath(saveDir, st.Step)
	err = writeFileAtomic(path, func(w io.Writer) error {
		return encodeSafetensors(w, names, ts, map[string]string{metadataKey: string(meta)})
	})
	if err != nil {
		return "", err
	}
	if err := linkAtomic(path, filepath.Join(saveDir, currentName)); err != nil {
		return "", err
	}
	return path, pruneCheckpoints(saveDir, keep)
}

// markBest points best.ckpt at the checkpoint file path.
func markBest(saveDir, path string) error {
	return linkAtomic(path, filepath.Join(saveDir, bestName))
}

// pruneCheckpoints deletes all but the newest keep periodic checkpoints (keep < 0 keeps all) and leftovers of
// interrupted writes. current.ckpt and best.ckpt are links of their own and survive.
func pruneCheckpoints(saveDir string, keep int) error {
	dir := filepath.Join(saveDir, modelsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	var steps []int
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, tmpMarker) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if s, ok := strings.CutPrefix(name, "model_"); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(s, ".ckpt")); err == nil {
				steps = append(steps, n)
			}
		}
	}
	if keep < 0 || len(steps) <= keep {
		return nil
	}
	slices.Sort(steps)
	for _, s := range steps[:len(steps)-keep] {
		if err := os.Remove(modelPath(saveDir, s)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pruning checkpoints: %w", err)
		}
	}
	return nil
}

// readCheckpoint reads a file of this project's format: its tensors and trainer state. ok is false (and err nil)
// when path is a readable safetensors file of another origin.
func readCheckpoint(path string) (ts map[string]*tensors.Tensor, st *trainerState, ok bool, err error) {
	ts, meta, err := readSafetensors(path)
	if err != nil {
		return nil, nil, false, err
	}
	raw, found := meta[metadataKey]
	if !found {
		return ts, nil, false, nil
	}
	st = &trainerState{}
	if err := json.Unmarshal([]byte(raw), st); err != nil || st.Format != checkpointFormat {
		return nil, nil, false, fmt.Errorf("reading %s: bad trainer state in the metadata (%v)", path, err)
	}
	return ts, st, true, nil
}

// isProjectCheckpoint reports whether path is a safetensors file written by saveCheckpoint, from its header only.
func isProjectCheckpoint(path string) bool {
	f, err := safetensors.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, ok := f.Metadata[metadataKey]
	return ok
}

// restoreStore sets every variable of the store from ts (creating the ones not built yet, such as optimizer state);
// the shapes and dtypes must match.
func restoreStore(store *model.Store, ts map[string]*tensors.Tensor) error {
	for _, name := range sortedNames(ts) {
		t := ts[name]
		v := store.GetVariable(name)
		if v == nil {
			nv, err := store.CreateVariable(name, t)
			if err != nil {
				return fmt.Errorf("restoring variable %s: %w", name, err)
			}
			if strings.HasPrefix(name, optimizerScope+"/") {
				nv.SetTrainable(false)
			}
			continue
		}
		if !v.Shape().Equal(t.Shape()) {
			return fmt.Errorf("restoring variable %s: checkpoint has %s, the model needs %s", name, t.Shape(), v.Shape())
		}
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("restoring variable %s: %w", name, err)
		}
	}
	return nil
}
