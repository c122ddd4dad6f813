package notebooks_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/experiments/notebook"
)

// This file holds what ties a committed notebook's outputs to its code: the hash of each code cell's source
// recorded beside its outputs, the comparison of committed with re-executed outputs, and the rewrite that
// -update makes of an executed notebook.

// refreshCommand is what the messages tell a person to run when committed outputs are stale.
const refreshCommand = "NOTEBOOK_TESTS=1 go test -tags noxla ./notebooks/ -run TestNotebooks -update"

// sourceHashKey is the key, under a code cell's metadata "uniter", of the SHA-256 of the source its committed
// outputs were made from.
const sourceHashKey = "source_sha256"

// sourceHash returns the hex SHA-256 of a cell's source.
func sourceHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}

// recordedHash returns the source hash recorded in a code cell's metadata ("" when there is none).
func recordedHash(c nbCell) string {
	h, _ := c.Metadata.Uniter[sourceHashKey].(string)
	return h
}

// reVolatile matches what differs between two executions of the same notebook: times ("1m12s", "850ms", Go's
// time.Duration format) and speeds ("1234 examples/s").
var reVolatile = regexp.MustCompile(`\b[0-9][0-9.,]* examples/s\b|\b([0-9]+(\.[0-9]+)?(h|m|s|ms|µs|ns))+\b`)

// normalize masks the volatile parts of an output's text.
func normalize(s string) string { return reVolatile.ReplaceAllString(s, "…") }

// outputKey renders one output as the text the comparison looks at: its type, stream name or MIME types, and its
// content with times and speeds masked (images exactly).
func outputKey(o nbOutput) string {
	var b strings.Builder
	b.WriteString(o.OutputType)
	switch o.OutputType {
	case "stream":
		fmt.Fprintf(&b, " %s\n%s", o.Name, normalize(joined(o.Text)))
	case "error":
		fmt.Fprintf(&b, " %s: %s", o.Ename, normalize(o.Evalue))
	default:
		for _, mime := range slices.Sorted(maps.Keys(o.Data)) {
			content := joined(o.Data[mime])
			if !strings.HasPrefix(mime, "image/") || mime == "image/svg+xml" {
				content = normalize(content)
			}
			fmt.Fprintf(&b, "\n%s\n%s", mime, content)
		}
	}
	return b.String()
}

// outputDifferences compares the outputs of a committed notebook with those of its re-execution, cell by cell,
// and describes each code cell whose outputs differ (beyond times and speeds) or whose source does.
func outputDifferences(committed, executed []nbCell) []string {
	if len(committed) != len(executed) {
		return []string{fmt.Sprintf("%d cells committed, %d executed", len(committed), len(executed))}
	}
	var diffs []string
	for i, c := range committed {
		e := executed[i]
		if c.CellType != "code" {
			continue
		}
		if joined(c.Source) != joined(e.Source) {
			diffs = append(diffs, fmt.Sprintf("cell %d: the executed source differs from the committed one", i))
			continue
		}
		want, got := outputKeys(c.Outputs), outputKeys(e.Outputs)
		if slices.Equal(want, got) {
			continue
		}
		d := fmt.Sprintf("cell %d (%s): %d outputs committed, %d now", i, firstLine(joined(c.Source)), len(want), len(got))
		for j := range min(len(want), len(got)) {
			if want[j] != got[j] {
				d += fmt.Sprintf("; output %d differs first at %s", j, firstDifference(want[j], got[j]))
				break
			}
		}
		diffs = append(diffs, d)
	}
	return diffs
}

// outputKeys applies outputKey to every output.
func outputKeys(outs []nbOutput) []string {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = outputKey(o)
	}
	return keys
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// firstDifference shows where two texts part: the line number and both versions of that line, shortened.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: committed %q, now %q", i+1, shorten(x, y), shorten(y, x))
		}
	}
	return "(no line differs)"
}

// shorten cuts s to a window of 80 bytes around the first byte where it differs from other.
func shorten(s, other string) string {
	at := 0
	for at < len(s) && at < len(other) && s[at] == other[at] {
		at++
	}
	from, to := max(0, at-30), min(len(s), at+50)
	return s[from:to]
}

// workDirToken stands for the notebooks' work directory in executed notebooks: the runner's messages name
// checkpoints by their path, and the test's work directory is a fresh temporary one.
const workDirToken = "$" + notebook.WorkDirEnv

// maskWorkDir writes the work directory workDir as workDirToken throughout the executed notebook at path.
func maskWorkDir(path, workDir string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, bytes.ReplaceAll(data, []byte(workDir), []byte(workDirToken)), 0o644)
}

// refreshed turns an executed notebook (nbconvert's output) into the file to commit: the execution timestamps
// nbclient adds are dropped, and every code cell records the hash of the source its outputs come from. The JSON
// layout is nbformat's (keys sorted, one-space indent, no ASCII escapes).
func refreshed(executed []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(executed, &doc); err != nil {
		return nil, err
	}
	cells, _ := doc["cells"].([]any)
	for _, c := range cells {
		cell, _ := c.(map[string]any)
		if cell == nil || cell["cell_type"] != "code" {
			continue
		}
		meta, _ := cell["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			cell["metadata"] = meta
		}
		delete(meta, "execution")
		meta["uniter"] = map[string]any{sourceHashKey: sourceHash(joined(cell["source"]))}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeRefreshed writes the refreshed form of the executed notebook at executedPath over the committed one.
func writeRefreshed(executedPath, committedPath string) error {
	data, err := os.ReadFile(executedPath)
	if err != nil {
		return err
	}
	out, err := refreshed(data)
	if err != nil {
		return fmt.Errorf("%s: %w", executedPath, err)
	}
	return os.WriteFile(committedPath, out, 0o644)
}

// header is the first code cell of every notebook (README.md explains each line).
const header = "%env GOTOOLCHAIN auto\n!*bash ${GONB_DIR}/module.sh\n%goflags -tags=noxla\n%env GOEXPERIMENT simd\n%env GOMLX_BACKEND go:parallelism=-1"

// maxOutputBytes bounds the size of one committed output (a chart, a picture, a table), so that the repository
// stays small: SVG charts are a few tens of kB, PNG scenes about 100 kB.
const maxOutputBytes = 400 << 10

// TestCommittedNotebooks checks the committed notebooks without running them: the header first, outputs made by
// the committed code (each code cell's recorded hash is its source's), no failing cell, and outputs of modest size.
func TestCommittedNotebooks(t *testing.T) {
	notebooks, err := filepath.Glob("*.ipynb")
	if err != nil || len(notebooks) == 0 {
		t.Fatalf("no notebooks found (err %v)", err)
	}
	for _, nb := range notebooks {
		cells, err := readCells(nb)
		if err != nil {
			t.Fatal(err)
		}
		var code []nbCell
		for _, c := range cells {
			if c.CellType == "code" {
				code = append(code, c)
			}
		}
		if len(code) == 0 || joined(code[0].Source) != header {
			t.Errorf("%s: the first code cell is not the header of README.md", nb)
		}
		for i, c := range cells {
			if c.CellType != "code" {
				continue
			}
			if h := recordedHash(c); h != sourceHash(joined(c.Source)) {
				t.Errorf("%s, cell %d (%s): the code changed since its outputs were made (recorded hash %q); refresh them: %s",
					nb, i, firstLine(joined(c.Source)), h, refreshCommand)
			}
			if len(c.Outputs) == 0 && strings.Contains(joined(c.Source), "%%") {
				t.Errorf("%s, cell %d (%s): no outputs committed", nb, i, firstLine(joined(c.Source)))
			}
			for j, o := range c.Outputs {
				if n := len(outputKey(o)); n > maxOutputBytes {
					t.Errorf("%s, cell %d, output %d: %d kB, more than %d kB", nb, i, j, n>>10, maxOutputBytes>>10)
				}
			}
		}
		for _, f := range failedCells(cells) {
			t.Errorf("%s: a committed output shows a failure:\n%s", nb, f)
		}
	}
}

func TestOutputComparison(t *testing.T) {
	stream := func(text any) nbOutput { return nbOutput{OutputType: "stream", Name: "stdout", Text: text} }
	html := func(h string) nbOutput {
		return nbOutput{OutputType: "display_data", Data: map[string]any{"text/html": h}}
	}
	png := func(b64 string) nbOutput {
		return nbOutput{OutputType: "display_data", Data: map[string]any{"image/png": b64, "text/plain": "<image>"}}
	}
	cell := func(src string, outs ...nbOutput) nbCell { return nbCell{CellType: "code", Source: src, Outputs: outs} }
	committed := []nbCell{
		{CellType: "markdown", Source: "# title"},
		cell("%%\ntrain()", stream("pretrain: 300 updates in 1m12s, 1234 examples/s; vqa_accuracy 0.8125\n"),
			html("<div>update 300 of 300, 850ms, 9.5 examples/s</div>")),
		cell("%%\ndraw()", png("iVBORw0KGgo=")),
	}
	same := []nbCell{
		{CellType: "markdown", Source: "# title"},
		cell("%%\ntrain()", stream([]any{"pretrain: 300 updates in 58s, ", "987 examples/s; vqa_accuracy 0.8125\n"}),
			html("<div>update 300 of 300, 2.5s, 12 examples/s</div>")),
		cell("%%\ndraw()", png("iVBORw0KGgo=")),
	}
	if d := outputDifferences(committed, same); len(d) > 0 {
		t.Errorf("outputs that differ only in times and speeds reported: %v", d)
	}
	for name, tc := range map[string]struct {
		cells []nbCell
		want  string
	}{
		"an accuracy": {[]nbCell{committed[0], cell("%%\ntrain()", stream("pretrain: 300 updates in 1m12s, 1234 examples/s; vqa_accuracy 0.8126\n"),
			html("<div>update 300 of 300, 850ms, 9.5 examples/s</div>")), committed[2]}, `cell 1 (%%): 2 outputs committed, 2 now; output 0 differs first at line 2`},
		"a picture":      {[]nbCell{committed[0], committed[1], cell("%%\ndraw()", png("iVBORw0KGgx="))}, "cell 2 (%%): 1 outputs committed, 1 now; output 0 differs"},
		"an output more": {[]nbCell{committed[0], committed[1], cell("%%\ndraw()", png("iVBORw0KGgo="), stream("x"))}, "cell 2 (%%): 1 outputs committed, 2 now"},
		"the source":     {[]nbCell{committed[0], committed[1], cell("%%\ndraw(2)", png("iVBORw0KGgo="))}, "cell 2: the executed source differs"},
		"a cell fewer":   {committed[:2], "3 cells committed, 2 executed"},
	} {
		d := outputDifferences(committed, tc.cells)
		if len(d) != 1 || !strings.HasPrefix(d[0], tc.want) {
			t.Errorf("%s: differences %q, want one starting %q", name, d, tc.want)
		}
	}
}

func TestRefreshedRecordsSourceHashes(t *testing.T) {
	executed := `{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# a <b>"},
 {"cell_type": "code", "execution_count": 1, "metadata": {"execution": {"iopub.status.busy": "2026-12-06T05:00:00"}, "tags": ["x"]},
  "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>é & ü</b>"}}], "source": ["%%\n", "f()"]}],
 "metadata": {"kernelspec": {"name": "gonb"}}, "nbformat": 4, "nbformat_minor": 5}`
	out, err := refreshed([]byte(executed))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"<b>é & ü</b>"`, `"source_sha256": "` + sourceHash("%%\nf()") + `"`, `"tags": [`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("refreshed notebook lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "iopub") {
		t.Errorf("execution timestamps kept:\n%s", out)
	}
	path := filepath.Join(t.TempDir(), "n.ipynb")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cells, err := readCells(path)
	if err != nil {
		t.Fatal(err)
	}
	if recordedHash(cells[1]) != sourceHash(joined(cells[1].Source)) || recordedHash(cells[0]) != "" {
		t.Errorf("recorded hashes %q %q", recordedHash(cells[0]), recordedHash(cells[1]))
	}
}
