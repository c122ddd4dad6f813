package runner

import (
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/uniter-go/uniter/uniter"
)

// Optimizer state lives in the store under these prefixes followed by the variable's own path, so checkpoints of
// the store carry it: "/optimizer/adam_m/uniter/pooler/dense/weight" is the first moment of
// "/uniter/pooler/dense/weight".
const (
	optimizerScope = "/optimizer"
	firstMoment    = optimizerScope + "/adam_m"
	secondMoment   = optimizerScope + "/adam_v"
	stepCount      = optimizerScope + "/step"
	gradAccum      = optimizerScope + "/grad_acc"
)

// AdamW is ORIG's AdamW (optim/adamw.py, the HuggingFace algorithm with bias correction and decoupled weight decay)
// with ORIG's parameter groups, built as graph code:
//
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε)
//	p ← p − lr·wd·p                      (not for biases and LayerNorm weights)
//
// where lr is the scheduled rate times the variable's multiplier and t counts the updates of that variable (a
// variable unused by a task's graph is not updated, as a PyTorch parameter without gradient). Before the update the
// gradients are clipped to a global L2 norm (torch.nn.utils.clip_grad_norm_). When the norm is not finite (a NaN
// or Inf loss) the update is skipped, so the variables and the optimizer state keep their last good values.
type AdamW struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	// MaxGradNorm clips the global gradient norm; ≤ 0 disables clipping.
	MaxGradNorm float64
	// LRMultipliers scales the learning rate of the variables whose ORIG key starts with a prefix (e.g.
	// "vqa_output." → 10, ORIG's lr_mul for the VQA head).
	LRMultipliers map[string]float64
}

// lrMultiplier returns the learning-rate multiplier of the variable with the given ORIG key.
func (o *AdamW) lrMultiplier(key string) float64 {
	for prefix, m := range o.LRMultipliers {
		if strings.HasPrefix(key, prefix) {
			return m
		}
	}
	return 1
}

// decays reports whether a variable gets weight decay: ORIG's no_decay group holds the biases and the LayerNorm
// weights; every 1-D weight of UNITER is a LayerNorm gain (including the positional head LayerNorms such as
// vqa_output.2.weight), so 1-D variables and biases are excluded.
func decays(key string, shape shapes.Shape) bool {
	return !strings.HasSuffix(key, "bias") && shape.Rank() > 1
}

// statePath returns the path of the optimizer state of kind (a prefix above) for the variable at path.
func statePath(kind, path string) string { return kind + path }

// stateVar returns (creating it zero-initialised when missing) the optimizer state variable of kind for v.
func stateVar(store *model.Store, kind string, v *model.Variable, shape shapes.Shape) *model.Variable {
	sv := store.VariableWithShape(statePath(kind, v.Path()), shape, initializer.Zero)
	sv.SetTrainable(false)
	return sv
}

// Accumulate adds grads to the gradient accumulators of vars (for all but the last micro-batch of a
// gradient-accumulation group).
func (o *AdamW) Accumulate(store *model.Store, vars []*model.Variable, grads []*Node) {
	for i, v := range vars {
		acc := stateVar(store, gradAccum, v, v.Shape())
		acc.SetNodeValue(Add(acc.NodeValue(grads[i]), grads[i]))
	}
}

// Update builds the AdamW update of vars from grads. With accumulated=true the accumulators (see Accumulate) are
// added to grads and reset, and the sum is multiplied by scale (1/update_frequency, so that the update follows the
// mean gradient of the group). lr is the scheduled learning rate, a float32 scalar. It returns the global gradient
// norm before clipping.
func (o *AdamW) Update(store *model.Store, vars []*model.Variable, grads []*Node, lr *Node, accumulated bool, scale float64) *Node {
	g := lr.Graph()
	grads = append([]*Node(nil), grads...)
	for i, v := range vars {
		if accumulated {
			acc := stateVar(store, gradAccum, v, v.Shape())
			grads[i] = Add(acc.NodeValue(g), grads[i])
			acc.SetNodeValue(ZerosLike(grads[i]))
		}
		if scale != 1 {
			grads[i] = MulScalar(grads[i], scale)
		}
	}
	norm := GlobalNorm(grads)
	finite := IsFinite(norm)
	if o.MaxGradNorm > 0 {
		// PyTorch: coef = max_norm / (norm + 1e-6), applied when < 1.
		coef := Min(Div(Scalar(g, dtypes.Float32, o.MaxGradNorm), AddScalar(norm, 1e-6)), ScalarOne(g, dtypes.Float32))
		for i := range grads {
			grads[i] = Mul(grads[i], coef)
		}
	}
	for i, v := range vars {
		o.updateVariable(store, v, grads[i], lr, finite)
	}
	return norm
}

// updateVariable applies one AdamW step to v; when finite is false every value is kept.
func (o *AdamW) updateVariable(store *model.Store, v *model.Variable, grad, lr, finite *Node) {
	g := grad.Graph()
	key := uniter.KeyOfPath(v.Path())
	m := stateVar(store, firstMoment, v, v.Shape())
	s := stateVar(store, secondMoment, v, v.Shape())
	t := stateVar(store, stepCount, v, shapes.Make(dtypes.Int32))

	p0, m0, s0, t0 := v.NodeValue(g), m.NodeValue(g), s.NodeValue(g), t.NodeValue(g)
	step := AddScalar(t0, 1)
	tf := ConvertDType(step, dtypes.Float32)
	m1 := Add(MulScalar(m0, o.Beta1), MulScalar(grad, 1-o.Beta1))
	s1 := Add(MulScalar(s0, o.Beta2), MulScalar(Square(grad), 1-o.Beta2))
	rate := MulScalar(lr, o.lrMultiplier(key))
	bc1 := OneMinus(Pow(Scalar(g, dtypes.Float32, o.Beta1), tf))
	bc2 := OneMinus(Pow(Scalar(g, dtypes.Float32, o.Beta2), tf))
	stepSize := Div(Mul(rate, Sqrt(bc2)), bc1)
	p1 := Sub(p0, Mul(stepSize, Div(m1, AddScalar(Sqrt(s1), o.Eps))))
	if o.WeightDecay > 0 && decays(key, v.Shape()) {
		p1 = Sub(p1, Mul(MulScalar(rate, o.WeightDecay), p1))
	}
	v.SetNodeValue(Where(finite, p1, p0))
	m.SetNodeValue(Where(finite, m1, m0))
	s.SetNodeValue(Where(finite, s1, s0))
	t.SetNodeValue(Where(finite, step, t0))
}

// GlobalNorm returns the L2 norm of all the tensors together, a float32 scalar.
func GlobalNorm(xs []*Node) *Node {
	var sum *Node
	for _, x := range xs {
		s := ReduceAllSum(Square(ConvertDType(x, dtypes.Float32)))
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	return Sqrt(sum)
}

// TrainableVariables lists the model variables used by the graph g (not optimizer state or the RNG state), except
// those whose ORIG key starts with one of frozen, sorted by path (so the order does not depend on the order the
// variables were created or restored in): the variables a task's loss updates.
func TrainableVariables(store *model.Store, g *Graph, frozen []string) []*model.Variable {
	var vars []*model.Variable
	for v := range store.IterVariables() {
		if !v.Trainable || !v.InUseByGraph(g) || strings.HasPrefix(v.Path(), optimizerScope+"/") || v.DType() != dtypes.Float32 {
			continue
		}
		key := uniter.KeyOfPath(v.Path())
		if slices.ContainsFunc(frozen, func(p string) bool { return strings.HasPrefix(key, p) }) {
			continue
		}
		vars = append(vars, v)
	}
	slices.SortFunc(vars, func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
	return vars
}
