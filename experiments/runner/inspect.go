package runner

import (
	"slices"

	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/uniter"
)

// Data returns the dataset the run opened: the example set of every split it loaded, the tokenizer and, for VQA,
// the answer vocabulary. The runner owns it (Close closes it).
func (r *Runner) Data() *datasets.Data { return r.data }

// Model returns the run's model: its configuration (num_answers set from the dataset's answers) and the heads its
// tasks train, as uniter.ParameterShapes and uniter.LoadWeights take them.
func (r *Runner) Model() (uniter.Config, []string) { return r.model, slices.Clone(r.state.Heads) }
