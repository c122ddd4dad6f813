package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// MetricsFile is the name of the metrics log in a run's save directory: one JSON object per line with "step" (the
// update count) and metric values by name, e.g. {"step":250,"val/synthetic_vqa/vqa_accuracy":0.62,...}.
const MetricsFile = "metrics.jsonl"

// Record is one line of metrics.jsonl.
type Record struct {
	Step    int
	Metrics map[string]float64
}

// MarshalJSON writes the record as one flat JSON object; non-finite values become null.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"step":%d`, r.Step)
	for _, k := range sortedNames(r.Metrics) {
		kb, _ := json.Marshal(k)
		v := r.Metrics[k]
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
		} else {
			vb, _ := json.Marshal(v)
			b.Write(vb)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads one flat JSON object; null values become NaN.
func (r *Record) UnmarshalJSON(data []byte) error {
	var raw map[string]*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	step, ok := raw["step"]
	if !ok || step == nil {
		return errors.New(`no "step"`)
	}
	r.Step = int(*step)
	r.Metrics = make(map[string]float64, len(raw)-1)
	for k, v := range raw {
		if k == "step" {
			continue
		}
		if v == nil {
			r.Metrics[k] = math.NaN()
		} else {
			r.Metrics[k] = *v
		}
	}
	return nil
}

// ReadMetrics reads the metrics.jsonl of a run's save directory, in file order.
func ReadMetrics(saveDir string) ([]Record, error) {
	path := filepath.Join(saveDir, MetricsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	defer f.Close()
	return decodeMetrics(f, path)
}

// decodeMetrics parses metrics lines; name is used in errors.
func decodeMetrics(r io.Reader, name string) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			return nil, fmt.Errorf("reading %s line %d: %w", name, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}

// metricsLog appends records to metrics.jsonl.
type metricsLog struct {
	path string
	f    *os.File
}

// openMetricsLog opens the save directory's metrics.jsonl for appending. Records after keepUpTo (the step a run
// resumes from) are dropped first, so a resumed run's log continues where its checkpoint left off; keepUpTo < 0
// starts a new log.
func openMetricsLog(saveDir string, keepUpTo int) (*metricsLog, error) {
	path := filepath.Join(saveDir, MetricsFile)
	var keep []Record
	if keepUpTo >= 0 {
		recs, err := ReadMetrics(saveDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, r := range recs {
			if r.Step <= keepUpTo {
				keep = append(keep, r)
			}
		}
	}
	err := writeFileAtomic(path, func(w io.Writer) error {
		for _, r := range keep {
			if err := writeRecord(w, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &metricsLog{path: path, f: f}, nil
}

// writeRecord writes one JSON line.
func writeRecord(w io.Writer, r Record) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// add appends a record.
func (l *metricsLog) add(r Record) error {
	if err := writeRecord(l.f, r); err != nil {
		return fmt.Errorf("writing %s: %w", l.path, err)
	}
	return nil
}

// close closes the file.
func (l *metricsLog) close() error { return l.f.Close() }

// FormatMetrics renders metrics as name=value pairs in name order on one line, e.g.
// "val/vqa2/logit_bce=1.25 val/vqa2/vqa_accuracy=0.931".
func FormatMetrics(m map[string]float64) string {
	names := sortedNames(m)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return strings.Join(parts, " ")
}
