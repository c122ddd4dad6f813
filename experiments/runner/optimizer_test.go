package runner

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/internal/backend"
	"github.com/uniter-go/uniter/uniter"
)

func testBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toyVariables are the variables of the optimizer tests, by ORIG key, with their initial values: a decayed
// matrix, a bias, a LayerNorm gain and a head matrix with an lr multiplier.
var toyVariables = map[string][]float32{
	"enc.dense.weight":     {0.5, -1, 2, 0.25},
	"enc.dense.bias":       {0.1, -0.2},
	"enc.LayerNorm.weight": {1, 1},
	"vqa_output.3.weight":  {0.3, -0.7},
}

var toyShapes = map[string][]int{
	"enc.dense.weight": {2, 2}, "enc.dense.bias": {2}, "enc.LayerNorm.weight": {2}, "vqa_output.3.weight": {1, 2},
}

// toyCoefficients define the loss Σ_k Σ_i c_k[i]·p_k[i]² / 2, whose gradient is c·p.
var toyCoefficients = map[string][]float32{
	"enc.dense.weight":     {1, 2, -3, 4},
	"enc.dense.bias":       {0.5, 1.5},
	"enc.LayerNorm.weight": {2, -1},
	"vqa_output.3.weight":  {3, 0.25},
}

func newToyStore(t *testing.T) *model.Store {
	t.Helper()
	store := model.NewStore()
	for key, vals := range toyVariables {
		if _, err := store.CreateVariable(uniter.VariablePath(key), tensors.FromFlatDataAndDimensions(append([]float32(nil), vals...), toyShapes[key]...)); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// toyLoss builds Σ c·p²/2 over the store's toy variables.
func toyLoss(store *model.Store, g *Graph) *Node {
	var loss *Node
	for key, c := range toyCoefficients {
		p := store.GetVariable(uniter.VariablePath(key)).NodeValue(g)
		term := ReduceAllSum(MulScalar(Mul(Const(g, c), Square(Reshape(p, len(c)))), 0.5))
		if loss == nil {
			loss = term
		} else {
			loss = Add(loss, term)
		}
	}
	return loss
}

// referenceAdamW is ORIG's optim/adamw.py step in float64: the hand computation the graph must match.
func referenceAdamW(p, m, v []float64, grad []float64, t int, lr, b1, b2, eps, wd float64) {
	stepSize := lr * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*grad[i]
		v[i] = b2*v[i] + (1-b2)*grad[i]*grad[i]
		p[i] -= stepSize * m[i] / (math.Sqrt(v[i]) + eps)
		p[i] -= lr * wd * p[i]
	}
}

func TestAdamWMatchesHandComputedSteps(t *testing.T) {
	be := testBackend(t)
	store := newToyStore(t)
	opt := &AdamW{Beta1: 0.9, Beta2: 0.98, Eps: 1e-6, WeightDecay: 0.01, LRMultipliers: map[string]float64{"vqa_output.": 10}}
	step, err := model.NewExec(be, store, func(scope *model.Scope, lr *Node) *Node {
		g := lr.Graph()
		store.SetTraining(g, true) // an update graph: GoMLX would otherwise read the variables as constants
		loss := toyLoss(store, g)
		vars := TrainableVariables(store, g, nil)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(g)
		}
		opt.Update(store, vars, Gradient(loss, nodes...), lr, false, 1)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	// Reference state.
	type ref struct{ p, m, v []float64 }
	refs := map[string]*ref{}
	for key, vals := range toyVariables {
		r := &ref{p: make([]float64, len(vals)), m: make([]float64, len(vals)), v: make([]float64, len(vals))}
		for i, x := range vals {
			r.p[i] = float64(x)
		}
		refs[key] = r
	}
	sched := WarmupLinear{Peak: 1e-2, Warmup: 2, Total: 10}
	for it := 1; it <= 3; it++ {
		lr := sched.LR(it)
		if _, err := step.Call(float32(lr)); err != nil {
			t.Fatal(err)
		}
		if it == 1 {
			// By hand: Adam's first step moves p by lr·g/(|g|+eps/√(1-β2)) ≈ lr = 5e-3 against the gradient sign,
			// then decoupled decay multiplies by 1 - lr·wd: 0.5 → 0.495 → 0.495·(1-5e-5) = 0.49497525; the bias
			// (no decay) 0.1 → 0.095; the head weight 0.3 (lr ×10) → 0.25·(1-5e-4) = 0.249875.
			for key, want := range map[string]float64{"enc.dense.weight": 0.49497525, "enc.dense.bias": 0.095, "vqa_output.3.weight": 0.249875} {
				got := flatten(store.GetVariable(uniter.VariablePath(key)).MustValue().Value())[0]
				if math.Abs(float64(got)-want) > 2e-6 {
					t.Fatalf("after the first update %s[0] = %.8f, by hand %.8f", key, got, want)
				}
			}
		}
		for key, r := range refs {
			grad := make([]float64, len(r.p))
			for i := range grad {
				grad[i] = float64(toyCoefficients[key][i]) * r.p[i]
			}
			rate, wd := lr, 0.01
			if key == "vqa_output.3.weight" {
				rate *= 10
			}
			if key == "enc.dense.bias" || key == "enc.LayerNorm.weight" {
				wd = 0 // ORIG's no_decay group
			}
			referenceAdamW(r.p, r.m, r.v, grad, it, rate, 0.9, 0.98, 1e-6, wd)
		}
		for key, r := range refs {
			got := store.GetVariable(uniter.VariablePath(key)).MustValue().Value()
			flat := flatten(got)
			for i := range flat {
				if d := math.Abs(float64(flat[i]) - r.p[i]); d > 1e-6 {
					t.Fatalf("step %d %s[%d] = %.8f, hand-computed AdamW gives %.8f", it, key, i, flat[i], r.p[i])
				}
			}
		}
	}
}

// flatten returns the float32 values of a tensor value of rank 1 or 2.
func flatten(v any) []float32 {
	switch x := v.(type) {
	case []float32:
		return x
	case [][]float32:
		var out []float32
		for _, row := range x {
			out = append(out, row...)
		}
		return out
	}
	panic("unexpected value type")
}

func TestGradientClippingAndNonFiniteSkip(t *testing.T) {
	be := testBackend(t)
	store := newToyStore(t)
	opt := &AdamW{Beta1: 0.9, Beta2: 0.98, Eps: 1e-6, MaxGradNorm: 0.5}
	// With lr = 0 the update leaves p unchanged and m = (1-β1)·clipped gradient reveals the clipping.
	var norm float64
	exec, err := model.NewExec(be, store, func(scope *model.Scope, lr, poison *Node) *Node {
		g := lr.Graph()
		store.SetTraining(g, true) // an update graph: GoMLX would otherwise read the variables as constants
		loss := Mul(toyLoss(store, g), poison)
		vars := TrainableVariables(store, g, nil)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(g)
		}
		return opt.Update(store, vars, Gradient(loss, nodes...), lr, false, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(float32(0), float32(1))
	if err != nil {
		t.Fatal(err)
	}
	norm = scalar(outs[0])
	var sumSq float64
	for key, c := range toyCoefficients {
		for i := range c {
			g := float64(c[i]) * float64(toyVariables[key][i])
			sumSq += g * g
		}
	}
	if math.Abs(norm-math.Sqrt(sumSq)) > 1e-4 {
		t.Fatalf("global norm %v, want %v", norm, math.Sqrt(sumSq))
	}
	coef := 0.5 / (norm + 1e-6)
	m := flatten(store.GetVariable(statePath(firstMoment, uniter.VariablePath("enc.dense.weight"))).MustValue().Value())
	for i, c := range toyCoefficients["enc.dense.weight"] {
		want := 0.1 * coef * float64(c) * float64(toyVariables["enc.dense.weight"][i])
		if math.Abs(float64(m[i])-want) > 1e-6 {
			t.Fatalf("first moment after clipping m[%d] = %v, want %v", i, m[i], want)
		}
	}
	// A NaN loss skips the update: variables and state keep their values.
	before := flatten(store.GetVariable(uniter.VariablePath("enc.dense.weight")).MustValue().Value())
	if _, err := exec.Call(float32(1), float32(math.NaN())); err != nil {
		t.Fatal(err)
	}
	after := flatten(store.GetVariable(uniter.VariablePath("enc.dense.weight")).MustValue().Value())
	m2 := flatten(store.GetVariable(statePath(firstMoment, uniter.VariablePath("enc.dense.weight"))).MustValue().Value())
	for i := range before {
		if before[i] != after[i] || m2[i] != m[i] {
			t.Fatalf("NaN step changed the state: p %v → %v, m %v → %v", before, after, m, m2)
		}
	}
}

func TestGradientAccumulationEqualsFullBatch(t *testing.T) {
	be := testBackend(t)
	xs := [][]float32{{1, 2}, {-1, 0.5}, {0.3, -2}, {2, 1}, {-0.5, -0.5}, {1.5, 0}, {0, 1}, {-2, 0.7}}
	ys := []float32{1, -1, 0.5, 2, 0, 1, -0.5, 0.3}
	opt := &AdamW{Beta1: 0.9, Beta2: 0.98, Eps: 1e-6, WeightDecay: 0.01, MaxGradNorm: 1}
	newStore := func() *model.Store {
		s := model.NewStore()
		s.CreateVariable("/lin/weight", tensors.FromFlatDataAndDimensions([]float32{0.2, -0.4}, 2))
		s.CreateVariable("/lin/bias", tensors.FromFlatDataAndDimensions([]float32{0.1}, 1))
		return s
	}
	// Mean squared error of a linear model over the batch.
	lossOf := func(store *model.Store, x, y *Node) *Node {
		w := store.GetVariable("/lin/weight").NodeValue(x.Graph())
		b := store.GetVariable("/lin/bias").NodeValue(x.Graph())
		pred := Add(ReduceSum(Mul(x, ExpandLeftToRank(w, 2)), -1), b)
		return ReduceAllMean(Square(Sub(pred, y)))
	}
	build := func(store *model.Store, update bool, uf int) *model.Exec {
		return model.MustNewExec(be, store, func(scope *model.Scope, x, y, lr *Node) *Node {
			g := x.Graph()
			store.SetTraining(g, true) // an update graph: GoMLX would otherwise read the variables as constants
			loss := lossOf(store, x, y)
			vars := TrainableVariables(store, g, nil)
			nodes := []*Node{vars[0].NodeValue(g), vars[1].NodeValue(g)}
			grads := Gradient(loss, nodes...)
			if update {
				opt.Update(store, vars, grads, lr, uf > 1, 1/float64(uf))
			} else {
				opt.Accumulate(store, vars, grads)
			}
			return loss
		})
	}
	full := newStore()
	fullStep := build(full, true, 1)
	split := newStore()
	accum, last := build(split, false, 2), build(split, true, 2)
	for it := 0; it < 3; it++ {
		lr := float32(0.05)
		fullStep.MustCall(xs, ys, lr)
		accum.MustCall(xs[:4], ys[:4], lr)
		last.MustCall(xs[4:], ys[4:], lr)
	}
	for _, path := range []string{"/lin/weight", "/lin/bias"} {
		a := full.GetVariable(path).MustValue().Value().([]float32)
		b := split.GetVariable(path).MustValue().Value().([]float32)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-6 {
				t.Fatalf("%s: 1×batch 8 gives %v, 2×batch 4 gives %v", path, a, b)
			}
		}
	}
	if acc := split.GetVariable(statePath(gradAccum, "/lin/weight")).MustValue().Value().([]float32); acc[0] != 0 || acc[1] != 0 {
		t.Fatalf("accumulator not reset after the update: %v", acc)
	}
}

func TestDecayGroups(t *testing.T) {
	store := newToyStore(t)
	for key, want := range map[string]bool{
		"enc.dense.weight": true, "enc.dense.bias": false, "enc.LayerNorm.weight": false, "vqa_output.3.weight": true,
	} {
		v := store.GetVariable(uniter.VariablePath(key))
		if got := decays(key, v.Shape()); got != want {
			t.Errorf("decays(%s) = %v, want %v", key, got, want)
		}
	}
	if decays("vqa_output.2.weight", store.GetVariable(uniter.VariablePath("enc.dense.bias")).Shape()) {
		t.Error("the head LayerNorm vqa_output.2.weight (1-D) must not decay")
	}
}
