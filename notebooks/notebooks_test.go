// Package notebooks_test checks the GoNB notebooks of this folder.
//
// Always: every notebook starts with the header, records beside its outputs the hash of the code that made them,
// and shows no failing cell; module.sh gives a GoNB module the repository's module graph.
//
// With Jupyter and the gonb kernel: every notebook is executed headlessly (Debian's `jupyter nbconvert
// --execute`), in file order, in a fresh work directory, and fails on any failing cell or on any output that
// differs from the committed one (times and speeds aside); the smoke notebook must build against the same Go
// toolchain, build settings and module versions as the uniter command. The executed copies and their HTML exports
// are kept in out/ (git-ignored). With -update the executed notebooks replace the committed ones instead of being
// compared: the one command that refreshes the committed outputs (see README.md).
//
// The Jupyter tests skip when jupyter, the gonb kernel, goimports or gopls are missing, unless NOTEBOOK_TESTS=1,
// which makes them fail instead (CI sets it after scripts/setup.sh).
package notebooks_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uniter-go/uniter/experiments/notebook"
)

// nbCell is the part of an nbformat-4 cell the tests read. Source and text are a string or a list of strings.
type nbCell struct {
	CellType string `json:"cell_type"`
	Source   any    `json:"source"`
	Metadata struct {
		Tags   []string       `json:"tags"`
		Uniter map[string]any `json:"uniter"` // what outputs_test.go records: the hash of the source
	} `json:"metadata"`
	Outputs []nbOutput `json:"outputs"`
}

// nbOutput is one output of a code cell.
type nbOutput struct {
	OutputType string         `json:"output_type"`
	Name       string         `json:"name"`
	Text       any            `json:"text"`
	Data       map[string]any `json:"data"`
	Ename      string         `json:"ename"`
	Evalue     string         `json:"evalue"`
}

// cellFailure describes one failed code cell of an executed notebook.
type cellFailure struct {
	Index  int // position among all cells, markdown included
	Source string
	Errors string // the cell's "error" outputs, one per line
	Stderr string
}

func (f cellFailure) String() string {
	return fmt.Sprintf("cell %d:\n%s\n--- error:\n%s--- stderr:\n%s", f.Index, f.Source, f.Errors, f.Stderr)
}

// joined turns nbformat's "string or list of strings" into one string.
func joined(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, s := range x {
			if s, ok := s.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}

// reShellExit matches what GoNB prints on stderr for a failing `!cmd`, `!*cmd` or `%%bash` cell; those cells do not
// produce an "error" output.
var reShellExit = regexp.MustCompile(`(?m)^exit status [1-9][0-9]*$`)

// readCells parses the notebook file at path.
func readCells(path string) ([]nbCell, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading notebook: %w", err)
	}
	var nb struct{ Cells []nbCell }
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("parsing notebook %s: %w", path, err)
	}
	return nb.Cells, nil
}

// reDisplay matches a call that shows rich output in the notebook.
var reDisplay = regexp.MustCompile(`\bgonbui\.Display\w*\(`)

// failedCells returns the code cells of an executed notebook that have an "error" output, whose stderr has an
// `exit status N` line (N ≠ 0), or that call gonbui.Display… but show nothing: GoNB drops display messages still
// in its pipe when the cell's program exits, unless the cell calls gonbui.Sync() (`defer gonbui.Sync()`).
func failedCells(cells []nbCell) []cellFailure {
	var failures []cellFailure
	for i, c := range cells {
		if c.CellType != "code" {
			continue
		}
		var errs, stderr strings.Builder
		displayed := false
		for _, o := range c.Outputs {
			switch {
			case o.OutputType == "stream" && o.Name == "stderr":
				stderr.WriteString(joined(o.Text))
			case o.OutputType == "error":
				fmt.Fprintf(&errs, "%s: %s\n", o.Ename, o.Evalue)
			case o.OutputType == "display_data" || o.OutputType == "update_display_data":
				displayed = true
			}
		}
		if !displayed && errs.Len() == 0 && reDisplay.MatchString(joined(c.Source)) {
			errs.WriteString("no display output although the cell calls gonbui.Display…: add `defer gonbui.Sync()`\n")
		}
		if errs.Len() > 0 || reShellExit.MatchString(stderr.String()) {
			failures = append(failures, cellFailure{i, joined(c.Source), errs.String(), stderr.String()})
		}
	}
	return failures
}

// need skips the test with why when ok is false, or fails it when NOTEBOOK_TESTS=1.
func need(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("NOTEBOOK_TESTS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why + " (NOTEBOOK_TESTS=1 turns this skip into a failure)")
}

// jupyter returns Debian's jupyter (its scripts run on /usr/bin/python3; a pyenv python3 earlier on PATH has no
// jupyter modules), after checking that the gonb kernel and the tools it calls are installed.
func jupyter(t *testing.T) string {
	t.Helper()
	bin := "/usr/bin/jupyter"
	if _, err := os.Stat(bin); err != nil {
		bin, _ = exec.LookPath("jupyter")
	}
	need(t, bin != "", "jupyter not installed: run scripts/setup.sh")
	specs, err := exec.Command(bin, "kernelspec", "list", "--json").Output()
	need(t, err == nil && strings.Contains(string(specs), `"gonb"`), "gonb kernel not installed: run scripts/setup.sh")
	for _, tool := range []string{"go", "goimports", "gopls"} {
		_, err := exec.LookPath(tool)
		need(t, err == nil, tool+" not on PATH (the gonb kernel calls it): run scripts/setup.sh and add $(go env GOPATH)/bin to PATH")
	}
	return bin
}

// execute runs the notebook nbPath with the gonb kernel, letting every cell run (--allow-errors), and writes the
// executed copy to outDir/name.ipynb. The kernel gets this process's environment minus the variables a notebook must
// set itself (GOTOOLCHAIN, GOEXPERIMENT, GOMLX_BACKEND, GOFLAGS), so that it behaves as when a person opens it, and
// workDir as the notebooks' work directory when it is not "".
func execute(t *testing.T, jupyterBin, nbPath, outDir, name, workDir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jupyterBin, "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name=gonb", "--ExecutePreprocessor.timeout=600",
		"--output-dir", outDir, "--output", name, nbPath)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		for _, k := range []string{"GOTOOLCHAIN=", "GOEXPERIMENT=", "GOMLX_BACKEND=", "GOFLAGS=", notebook.WorkDirEnv + "="} {
			if strings.HasPrefix(kv, k) {
				return true
			}
		}
		return false
	})
	if workDir != "" {
		cmd.Env = append(cmd.Env, notebook.WorkDirEnv+"="+workDir)
	}
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute %s: %v\n%s", nbPath, err, out)
	}
	t.Logf("executed %s in %.1fs", nbPath, time.Since(start).Seconds())
	return filepath.Join(outDir, name+".ipynb")
}

func TestCheckerOnExecutedNotebook(t *testing.T) {
	cells, err := readCells("testdata/checked.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	failures := failedCells(cells)
	var got []int
	for _, f := range failures {
		got = append(got, f.Index)
	}
	// Cell 1 has "exit status 3" only on stdout, cell 4 only "exit status 0" and a line that merely starts with
	// "exit status 12": none of them is a failure.
	// Cell 6 displays nothing although it calls gonbui.DisplayHTML; cell 7 did display.
	if want := []int{2, 3, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("failed cells %v, want %v", got, want)
	}
	if f := failures[0]; f.Source != "%%\npanic(1)" || f.Stderr != "panic: 1\nexit status 2\n" || f.Errors != "ERROR: exit status 2\n" {
		t.Errorf("cell 2 reported as %+v", f)
	}
	if f := failures[1]; f.Source != "!false\n!true" || f.Errors != "" {
		t.Errorf("cell 3 reported as %+v", f)
	}
	if f := failures[3]; !strings.Contains(f.Errors, "gonbui.Sync") {
		t.Errorf("cell 6 reported as %+v", f)
	}
	if _, err := readCells("testdata/missing.ipynb"); err == nil {
		t.Error("reading a missing notebook: no error")
	}
}

func TestCheckerCatchesFailingCells(t *testing.T) {
	bin := jupyter(t)
	executed := execute(t, bin, "testdata/failing.ipynb", t.TempDir(), "failing", "")
	cells, err := readCells(executed)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []int
	for i, c := range cells {
		if slices.Contains(c.Metadata.Tags, "expect-failure") {
			want = append(want, i)
		}
	}
	for _, f := range failedCells(cells) {
		got = append(got, f.Index)
		t.Logf("failed as intended: %s", f)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("failed cells %v, want the cells tagged expect-failure: %v", got, want)
	}
}

// update makes TestNotebooks write the executed notebooks over the committed ones instead of comparing them.
var update = flag.Bool("update", false, "write the executed notebooks over the committed ones (refreshes their outputs)")

func TestNotebooks(t *testing.T) {
	notebooks, err := filepath.Glob("*.ipynb")
	if err != nil || len(notebooks) == 0 {
		t.Fatalf("no notebooks found (err %v)", err)
	}
	bin := jupyter(t)
	outDir, err := filepath.Abs("out")
	if err != nil {
		t.Fatal(err)
	}
	// The notebooks run in file order in one fresh work directory, as a reader runs them: 03 finetunes what 02
	// pretrained.
	workDir := t.TempDir()
	for _, nb := range notebooks {
		name := strings.TrimSuffix(nb, ".ipynb")
		t.Run(name, func(t *testing.T) {
			for _, ext := range []string{".ipynb", ".html"} {
				if err := os.Remove(filepath.Join(outDir, name+ext)); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			executed := execute(t, bin, nb, outDir, name, workDir)
			if err := maskWorkDir(executed, workDir); err != nil {
				t.Fatal(err)
			}
			cells, err := readCells(executed)
			if err != nil {
				t.Fatal(err)
			}
			failures := failedCells(cells)
			if len(failures) > 0 {
				var msgs []string
				for _, f := range failures {
					msgs = append(msgs, f.String())
				}
				t.Errorf("%d failing cell(s) in %s (executed copy: %s):\n%s", len(failures), nb, executed,
					strings.Join(msgs, "\n"))
			}
			checkBuildInfo(t, cells)
			switch {
			case *update && len(failures) == 0:
				if err := writeRefreshed(executed, nb); err != nil {
					t.Fatal(err)
				}
			case !*update:
				committed, err := readCells(nb)
				if err != nil {
					t.Fatal(err)
				}
				if diffs := outputDifferences(committed, cells); len(diffs) > 0 {
					t.Errorf("the committed outputs of %s are not what its code gives now (executed copy: %s):\n%s\n"+
						"If the change is intended, refresh them: %s", nb, executed, strings.Join(diffs, "\n"), refreshCommand)
				}
			}
			html := exec.Command(bin, "nbconvert", "--to", "html", "--output-dir", outDir, executed)
			if out, err := html.CombinedOutput(); err != nil {
				t.Errorf("exporting %s to HTML: %v\n%s", executed, err, out)
			}
		})
	}
}
