package runner

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
)

// executors are the compiled graphs of one task (each compiled on first use, once per input shape).
type executors struct {
	update    *model.Exec // forward + backward + AdamW update (the last micro-batch of an update); inputs + lr
	accum     *model.Exec // forward + backward, gradients added to the accumulators (earlier micro-batches)
	eval      *model.Exec // forward in evaluation mode: loss terms, accuracy counts, VQA predictions
	attention *model.Exec // forward in evaluation mode returning the attention probabilities
}

// execsFor returns the executors of t, creating them on first use.
func (r *Runner) execsFor(t *task) (*executors, error) {
	if ex, ok := r.execs[t.name]; ok {
		return ex, nil
	}
	uf := r.s.updateFrequency
	frozen := r.s.frozenPrefixes()
	store := r.store
	trainGraph := func(scope *model.Scope, in []*Node, update bool) []*Node {
		g := in[0].Graph()
		store.SetTraining(g, true)
		var lr *Node
		if update {
			lr, in = in[len(in)-1], in[:len(in)-1]
		}
		out := forward(scope, r.spec, t, in, false)
		vars := TrainableVariables(store, g, frozen)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(g)
		}
		grads := Gradient(out.loss, nodes...)
		var norm *Node
		if update {
			norm = r.opt.Update(store, vars, grads, lr, uf > 1, 1/float64(uf))
		} else {
			r.opt.Accumulate(store, vars, grads)
			norm = GlobalNorm(grads)
		}
		return append([]*Node{out.loss, norm}, out.parts...)
	}
	ex := &executors{}
	var err error
	ex.update, err = model.NewExec(r.backend, store, func(scope *model.Scope, in []*Node) []*Node {
		return trainGraph(scope, in, true)
	})
	if err == nil && uf > 1 {
		ex.accum, err = model.NewExec(r.backend, store, func(scope *model.Scope, in []*Node) []*Node {
			return trainGraph(scope, in, false)
		})
	}
	if err == nil {
		ex.eval, err = model.NewExec(r.backend, store, func(scope *model.Scope, in []*Node) []*Node {
			variablesAsParameters(store, in[0].Graph())
			out := forward(scope, r.spec, t, in, false)
			outs := append([]*Node{out.loss}, out.parts...)
			if out.correct != nil {
				outs = append(outs, out.correct, out.count)
			}
			if out.pred != nil {
				outs = append(outs, out.pred)
			}
			return outs
		})
	}
	if err == nil {
		ex.attention, err = model.NewExec(r.backend, store, func(scope *model.Scope, in []*Node) []*Node {
			variablesAsParameters(store, in[0].Graph())
			return []*Node{Stack(forward(scope, r.spec, t, in, true).attention, 0)}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("creating the %s graphs: %w", t.name, err)
	}
	r.execs[t.name] = ex
	return ex, nil
}

// variablesAsParameters makes every model variable of the store a parameter of the evaluation graph g before the
// model is built on it. GoMLX's Go backend otherwise bakes the variables of a graph not marked as training into it
// as constants, and an evaluation graph, compiled once, would keep the weights of its first call while training
// goes on. GoMLX decides when a graph first reads a variable, so the variables are read here in training mode, and
// the graph then goes back to evaluation mode (no dropout) for the model itself.
func variablesAsParameters(store *model.Store, g *Graph) {
	store.SetTraining(g, true)
	for v := range store.IterVariables() {
		if !strings.HasPrefix(v.Path(), optimizerScope+"/") {
			v.NodeValue(g)
		}
	}
	store.SetTraining(g, false)
}

// call runs an executor on a batch (plus extra inputs), turning graph-building panics into errors.
func call(e *model.Exec, b *batch.Batch, extra ...any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("running the %s graph: %v", b.Task, p)
		}
	}()
	ins := batchInputs(b)
	args := make([]any, 0, len(ins)+len(extra))
	for _, t := range ins {
		args = append(args, t)
	}
	args = append(args, extra...)
	outs, err = e.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("running the %s graph: %w", b.Task, err)
	}
	return outs, nil
}

// scalar returns a float32 scalar output as float64.
func scalar(t *tensors.Tensor) float64 {
	return float64(t.Value().(float32))
}
