package runner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/uniter/named"
)

// result is one example's entry of a predictions file.
type result struct {
	id    string
	value any
}

// resultsFile is the predictions file of a task in its benchmark's format.
type resultsFile struct {
	ext string // the file extension, e.g. "csv"
	// collect returns the entries of the real examples of an evaluated batch.
	collect func(b *batch.Batch, out named.Tensors) []result
	write   func(w io.Writer, rs []result) error
}

// writeCSVResults writes one "id,value" line per entry without a header, as ORIG's train_nlvr2.py writes its
// results and the official NLVR2 evaluation script (ORIG scripts/eval_nlvr2.py) reads them.
func writeCSVResults(w io.Writer, rs []result) error {
	bw := bufio.NewWriter(w)
	for _, r := range rs {
		fmt.Fprintf(bw, "%s,%v\n", r.id, r.value)
	}
	return bw.Flush()
}

// writeJSONResults writes the entries as one JSON object {id: value}, in evaluation order, as ORIG's train_ve.py
// and train_re.py json.dump their results dict.
func writeJSONResults(w io.Writer, rs []result) error {
	bw := bufio.NewWriter(w)
	bw.WriteByte('{')
	for i, r := range rs {
		k, err := json.Marshal(r.id)
		if err != nil {
			return err
		}
		v, err := json.Marshal(r.value)
		if err != nil {
			return fmt.Errorf("prediction of %s: %w", r.id, err)
		}
		if i > 0 {
			bw.WriteString(", ")
		}
		bw.Write(k)
		bw.WriteString(": ")
		bw.Write(v)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// predictionsDir is the directory of the save directory that the predictions files are written into.
const predictionsDir = "predictions"

// predictionsPath returns predictions/<dataset>_<split>_results.<ext> in the save directory, creating the directory.
func (r *Runner) predictionsPath(split, ext string) (string, error) {
	dir := filepath.Join(r.saveDir, predictionsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("writing predictions: %w", err)
	}
	return filepath.Join(dir, r.s.dataset+"_"+split+"_results."+ext), nil
}

// writeResults writes the predictions file of t on a split.
func (r *Runner) writeResults(t *task, split string, rs []result) (string, error) {
	path, err := r.predictionsPath(split, t.results.ext)
	if err != nil {
		return "", err
	}
	err = writeFileAtomic(path, func(w io.Writer) error { return t.results.write(w, rs) })
	if err != nil {
		return "", fmt.Errorf("writing predictions %s: %w", path, err)
	}
	fmt.Fprintf(r.Log, "wrote %d predictions to %s\n", len(rs), path)
	return path, nil
}
