// Package notebook is what the GoNB notebooks in notebooks/ share, so that each of their cells stays a few lines:
// the size knob and the folders the notebooks share, loading an experiment with overrides, training with live
// curves, comparing runs, and drawing a synthetic scene. Everything it draws comes back as HTML, SVG or an image
// for the notebook to show with gonbui; the package does not depend on GoNB, so the ordinary tests cover it.
package notebook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/uniter-go/uniter/experiments/config"
	"github.com/uniter-go/uniter/experiments/report"
)

// modulePath identifies the repository's go.mod when New looks for the repository root.
const modulePath = "github.com/uniter-go/uniter"

// WorkDirEnv names the environment variable that overrides the work directory the notebooks share.
const WorkDirEnv = "UNITER_NOTEBOOK_DIR"

// Notebook holds what every notebook starts from: the size of its experiments and the folders it reads and writes.
type Notebook struct {
	// FullSize selects the experiment files of experiments/synthetic/ (hours of training on a CPU) instead of
	// the notebook settings in experiments/synthetic/notebook/ (minutes).
	FullSize bool
	// Root is the repository, whose experiments/ folder holds the experiment files.
	Root string
	// Dir is the work directory: the generated data and the runs, shared by the notebooks so that one starts from
	// what another trained. Each size has its own (small/ or full/ under $UNITER_NOTEBOOK_DIR, default
	// $TMPDIR/uniter-notebooks), so that runs of the two sizes never mix.
	Dir string
}

// New returns the notebook state for one size. The repository root is found from the working directory upwards
// (a GoNB notebook runs in its own folder); Root stays "" when there is none, and Config then says so.
func New(fullSize bool) *Notebook {
	dir := os.Getenv(WorkDirEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "uniter-notebooks")
	}
	size := "small"
	if fullSize {
		size = "full"
	}
	root, _ := findRoot()
	return &Notebook{FullSize: fullSize, Root: root, Dir: filepath.Join(dir, size)}
}

// findRoot returns the closest directory at or above the working directory whose go.mod declares this module.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declares(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + modulePath + " at or above the working directory")
		}
		dir = parent
	}
}

// declares reports whether the go.mod content data declares module path.
func declares(data []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) == 2 && string(f[0]) == "module" {
			return string(f[1]) == path
		}
	}
	return false
}

// experimentFile returns the experiment file of an experiment name ("vqa", "pretrain", …) at the notebook's size:
// experiments/synthetic/<name>.yaml at full size, experiments/synthetic/notebook/<name>.yaml otherwise.
func (n *Notebook) experimentFile(experiment string) string {
	dir := filepath.Join(n.Root, "experiments", "synthetic")
	if !n.FullSize {
		dir = filepath.Join(dir, "notebook")
	}
	return filepath.Join(dir, experiment+".yaml")
}

// RunDir returns the save directory (checkpoints, metrics.jsonl, config.yaml) of the notebooks' run with that name.
func (n *Notebook) RunDir(run string) string { return filepath.Join(n.Dir, "runs", run) }

// Checkpoint returns the checkpoint of a run that report.OpenRun would load ("" when the run has none).
func (n *Notebook) Checkpoint(run string) string { return report.Checkpoint(n.RunDir(run)) }

// Relative writes a path under the work directory relative to it (e.g. "runs/pretrain/best.ckpt"), so that what a
// notebook prints does not depend on where the work directory is; other paths are returned as they are.
func (n *Notebook) Relative(path string) string {
	rel, err := filepath.Rel(n.Dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return filepath.ToSlash(rel)
}

// Config loads an experiment for the run named run: the experiment file at the notebook's size, the data under
// the work directory, the run's save directory, then overrides (key=value, as on the `uniter run` command line).
func (n *Notebook) Config(experiment, run string, overrides ...string) (*config.Config, error) {
	if n.Root == "" {
		return nil, fmt.Errorf("experiment %s: the repository (a go.mod of %s) is not at or above the working directory", experiment, modulePath)
	}
	ov := append([]string{"env.data_dir=" + filepath.Join(n.Dir, "data"), "env.save_dir=" + n.RunDir(run)}, overrides...)
	cfg, err := config.Load(config.LoadOptions{Config: n.experimentFile(experiment), Overrides: ov})
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", experiment, err)
	}
	return cfg, nil
}
