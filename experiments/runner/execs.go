package runner

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// executors are the compiled graphs of one task (each compiled on first use, once per input shape). Their inputs
// are the task's (see task.feed), plus "LearningRate" for update; their outputs are named.
type executors struct {
	update    *named.Exec // forward + backward + AdamW update (the last micro-batch of an update): "loss", "grad_norm", the loss parts
	accum     *named.Exec // forward + backward, gradients added to the accumulators (earlier micro-batches): the same
	eval      *named.Exec // forward in evaluation mode: every output of the task's forward
	attention *named.Exec // forward in evaluation mode: "attention", [layers, B, heads, L, L]
}

// execsFor returns the executors of t, creating them on first use.
func (r *Runner) execsFor(t *task) (*executors, error) {
	if ex, ok := r.execs[t.name]; ok {
		return ex, nil
	}
	uf := r.s.updateFrequency
	frozen := r.frozenPrefixes()
	store := r.store
	trainGraph := func(scope *model.Scope, in named.Nodes, update bool) named.Nodes {
		g := in["InputIDs"].Graph()
		store.SetTraining(g, true)
		lr := in["LearningRate"]
		delete(in, "LearningRate")
		out, _ := t.forward(scope, r.model, in, uniter.Options{})
		loss := out["loss"]
		vars := TrainableVariables(store, g, frozen)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(g)
		}
		grads := Gradient(loss, nodes...)
		res := named.Nodes{"loss": loss}
		if update {
			res["grad_norm"] = r.opt.Update(store, vars, grads, lr, uf > 1, 1/float64(uf))
		} else {
			r.opt.Accumulate(store, vars, grads)
			res["grad_norm"] = GlobalNorm(grads)
		}
		for _, p := range t.parts {
			res[p] = out[p]
		}
		return res
	}
	ex := &executors{}
	var err error
	ex.update, err = named.NewExec(r.backend, store, func(scope *model.Scope, in named.Nodes) named.Nodes {
		return trainGraph(scope, in, true)
	})
	if err == nil && uf > 1 {
		ex.accum, err = named.NewExec(r.backend, store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			return trainGraph(scope, in, false)
		})
	}
	if err == nil {
		ex.eval, err = named.NewExec(r.backend, store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			variablesAsParameters(store, in["InputIDs"].Graph())
			out, _ := t.forward(scope, r.model, in, uniter.Options{})
			return out
		})
	}
	if err == nil {
		ex.attention, err = named.NewExec(r.backend, store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			variablesAsParameters(store, in["InputIDs"].Graph())
			_, backbone := t.forward(scope, r.model, in, uniter.Options{AttentionProbs: true})
			return named.Nodes{"attention": Stack(backbone.AttentionProbs, 0)}
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

// call runs an executor of t on a batch (plus the learning rate for update).
func call(e *named.Exec, t *task, b *batch.Batch, lr ...float32) (named.Tensors, error) {
	in := backboneInputs(b)
	t.feed(b, in)
	if len(lr) > 0 {
		in["LearningRate"] = tensors.FromScalar(lr[0])
	}
	outs, err := e.Call(in)
	if err != nil {
		return nil, fmt.Errorf("running the %s graph: %w", b.Task, err)
	}
	return outs, nil
}
