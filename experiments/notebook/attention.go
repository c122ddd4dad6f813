package notebook

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// FirstCorrect returns the index of the first prediction that gives the answer most annotators gave, or -1 when
// none does.
func FirstCorrect(preds []runner.Prediction) int {
	for i, p := range preds {
		if p.Answers != nil && p.Predicted == report.MajorityAnswer(p.Answers) {
			return i
		}
	}
	return -1
}

// attentionFile keeps the attention of the example a notebook looks at, so that the drawing cells need not run
// the model again.
func (n *Notebook) attentionFile() string { return filepath.Join(n.Dir, "attention.json") }

// SaveAttention keeps am in the work directory for LoadAttention.
func (n *Notebook) SaveAttention(am *runner.AttentionMap) error {
	b, err := json.Marshal(am)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(n.attentionFile(), b, 0o644)
}

// LoadAttention returns the attention SaveAttention kept.
func (n *Notebook) LoadAttention() (*runner.AttentionMap, error) {
	b, err := os.ReadFile(n.attentionFile())
	if err != nil {
		return nil, fmt.Errorf("no attention kept yet (run the cell that computes it first): %w", err)
	}
	am := &runner.AttentionMap{}
	if err := json.Unmarshal(b, am); err != nil {
		return nil, fmt.Errorf("%s: %w", n.attentionFile(), err)
	}
	return am, nil
}
