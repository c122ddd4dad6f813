package uniter

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

func TestPerturbationStepOnKnownValues(t *testing.T) {
	grad := [][]float32{{3, 4}, {0, 2}, {0, 0}}
	start := [][]float32{{0, 0}, {0, 0}, {0.5, 0}}
	outs := callOps(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		return []*Node{
			PerturbationStep(in[1], in[0], 0.1, NormL2, 0),
			PerturbationStep(in[1], in[0], 0.1, NormL2, 0.05),
			PerturbationStep(in[1], in[0], 0.1, NormLinf, 0),
			PerturbationStep(in[1], MulScalar(in[0], -1), 0.1, NormLinf, 0.08),
		}
	}, grad, start)
	want := [][]float64{
		// l2: δ + lr·g/‖g‖₂ per row; a zero gradient leaves δ as it is (denominator clamped at 1e-8).
		{0.06, 0.08, 0, 0.1, 0.5, 0},
		// l2 with ε = 0.05: rows longer than ε rescaled to ε (row 2 has norm 0.5).
		{0.03, 0.04, 0, 0.05, 0.05, 0},
		// l∞: δ + lr·g/‖g‖∞ per row.
		{0.075, 0.1, 0, 0.1, 0.5, 0},
		// l∞ with ε = 0.08: elements clamped to [−ε, ε].
		{-0.075, -0.08, 0, -0.08, 0.08, 0},
	}
	for i, w := range want {
		for j := range w {
			if math.Abs(float64(outs[i][j])-w[j]) > 1e-7 {
				t.Errorf("case %d: got %v, want %v", i, outs[i], w)
				break
			}
		}
	}
}

func TestSymmetricKLDivergence(t *testing.T) {
	outs := callOps(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		return []*Node{SymmetricKLDivergence(in[0], in[1], nil), SymmetricKLDivergence(in[0], in[0], nil),
			SymmetricKLDivergence(in[0], in[1], Const(in[0].Graph(), []float32{0, 1}))}
	}, [][]float32{{0, 0}, {1, 2}}, [][]float32{{float32(math.Log(3)), 0}, {1, 2}})
	// Row 0: p = (1/2, 1/2), q = (3/4, 1/4): Σ (p−q)(log p − log q) = −1/4·log(2/3) + 1/4·log 2 = 1/4·log 3. Row 1: 0.
	want := 0.25 * math.Log(3) / 2
	if math.Abs(float64(outs[0][0])-want) > 1e-6 || outs[1][0] != 0 || math.Abs(float64(outs[2][0])) > 1e-7 {
		t.Errorf("symmetric KL: %g (want %g), identical %g (want 0), weighted to row 1 %g (want 0)", outs[0][0], want, outs[1][0], outs[2][0])
	}
}

func TestAdversarialConfigDecodesVILLAKeys(t *testing.T) {
	// The adversarial keys of VILLA's config/train-vqa-base-4gpu-adv.json.
	villa := `{"adv_training": true, "adv_modality": ["text"], "adv_lr_txt": 1e-3, "adv_lr_img": 1e-3,
		"adv_steps": 3, "norm_type": "l2", "adv_max_norm": 0, "adv_kl_weight": 1.5}`
	dec := json.NewDecoder(strings.NewReader(villa))
	dec.DisallowUnknownFields()
	var c AdversarialConfig
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := AdversarialConfig{AdvTraining: true, AdvSteps: 3, AdvLRTxt: 1e-3, AdvLRImg: 1e-3, NormType: NormL2,
		AdvKLWeight: 1.5, AdvModality: []string{AdvText}}
	if got, _ := json.Marshal(c); !bytes.Equal(got, must(json.Marshal(want))) {
		t.Errorf("decoded %s, want %+v", got, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []func(*AdversarialConfig){
		func(c *AdversarialConfig) { c.AdvModality = []string{"alter"} },
		func(c *AdversarialConfig) { c.AdvModality = []string{"text", "audio"} },
		func(c *AdversarialConfig) { c.NormType = "l1" },
		func(c *AdversarialConfig) { c.AdvSteps = 0 },
		func(c *AdversarialConfig) { c.AdvMaxNorm = -1 },
	} {
		b := c
		bad(&b)
		if err := b.Validate(); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
	ok := c
	ok.AdvModality = []string{"image", "text", "alter"}
	if err := ok.Validate(); err != nil {
		t.Errorf("[image, text, alter]: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// aftFixture is a tiny VQA model without dropout (so a forward is deterministic) and a batch for it.
type aftFixture struct {
	cfg     Config
	tb      *tinyBatch
	targets [][]float32
}

func newAFTFixture() *aftFixture {
	cfg := testConfig()
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
	cfg.InitializerRange = 0.2
	f := &aftFixture{cfg: cfg, tb: newTinyBatch(cfg, 21)}
	for i := range 3 {
		row := make([]float32, cfg.NumAnswers)
		row[(5*i)%cfg.NumAnswers], row[(5*i+3)%cfg.NumAnswers] = 1, 0.3
		f.targets = append(f.targets, row)
	}
	return f
}

// inputs returns the batch and the VQA targets as the named inputs of VQAInputs, plus extra.
func (f *aftFixture) inputs(extra map[string]any) map[string]any {
	in := f.tb.inputs(extra)
	in["Targets"] = f.targets
	return in
}

// task is the VQA objective as VILLA's train_vqa_adv.py trains it.
func (f *aftFixture) task(scope *model.Scope, targets *Node) AdversarialTask {
	return AdversarialTask{
		Forward: func(in Inputs) *Node {
			return VQAHead(scope, f.cfg, Backbone(scope, f.cfg, in, Options{PooledOnly: true}).Pooled)
		},
		Loss: func(logits *Node) *Node { return VQALoss(logits, targets, nil) },
	}
}

func villaConfig(modality ...string) AdversarialConfig {
	return AdversarialConfig{AdvTraining: true, AdvSteps: 3, AdvLRTxt: 0.05, AdvLRImg: 0.5, NormType: NormL2,
		AdvKLWeight: 1.5, AdvModality: modality}
}

// TestAdversarialFirstStepIsCleanAndStepLength checks that with δ₀ = 0 the first step's task loss is the clean loss
// and its KL term 0, and that after one ascent step δ is adv_lr times the per-example normalised gradient of the
// first step's loss (no radius), or lies on the ε-sphere (radius smaller than the step).
func TestAdversarialFirstStepIsCleanAndStepLength(t *testing.T) {
	f := newAFTFixture()
	store := newStore(31)
	const lr = 0.05
	for _, maxNorm := range []float64{0, 0.02} {
		ac := villaConfig(AdvText)
		ac.AdvSteps, ac.AdvLRTxt, ac.AdvMaxNorm = 2, lr, maxNorm
		outs := call(t, store, f.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			x := named.Bind[VQAInputs](in)
			task := f.task(scope, x.Targets)
			aft := AdversarialFinetuning(scope, f.cfg, ac, x.Inputs, task, nil)
			// The reference direction: ∂(task loss)/∂δ at δ = 0 (the KL term has zero gradient there).
			zero := ZerosLike(aft.TxtDelta)
			perturbed := x.Inputs
			perturbed.TxtDelta = zero
			grad := Gradient(task.Loss(task.Forward(perturbed)), zero)[0]
			return named.Nodes{"task_loss": aft.TaskLoss, "clean": task.Loss(task.Forward(x.Inputs)), "kl": aft.KL,
				"delta": aft.TxtDelta, "grad": grad}
		})
		taskLoss, clean, kl, delta, grad := outs["task_loss"][0], outs["clean"][0], outs["kl"], outs["delta"], outs["grad"]
		if taskLoss != clean || kl[0] != 0 {
			t.Errorf("ε=%g: first step task loss %g vs clean %g, KL %g (want equal and 0)", maxNorm, taskLoss, clean, kl[0])
		}
		if kl[1] <= 0 {
			t.Errorf("ε=%g: KL of the perturbed step is %g, want > 0", maxNorm, kl[1])
		}
		rowSize := len(delta) / 3
		for b := range 3 {
			d, g := delta[b*rowSize:(b+1)*rowSize], grad[b*rowSize:(b+1)*rowSize]
			gNorm, dNorm := norm2(g), norm2(d)
			wantNorm := lr
			if maxNorm > 0 {
				wantNorm = maxNorm
			}
			if math.Abs(dNorm-wantNorm) > 1e-6 {
				t.Errorf("ε=%g example %d: ‖δ‖ = %g, want %g", maxNorm, b, dNorm, wantNorm)
			}
			var maxDiff float64
			for i := range d {
				maxDiff = math.Max(maxDiff, math.Abs(float64(d[i])-wantNorm*float64(g[i])/gNorm))
			}
			if maxDiff > 1e-6 {
				t.Errorf("ε=%g example %d: δ differs from %g·g/‖g‖ by %g", maxNorm, b, wantNorm, maxDiff)
			}
		}
	}
}

func norm2(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// TestAdversarialGradientsMatchFiniteDifferences checks, for each adv_modality, that AdversarialFinetuning's loss
// equals VILLA's objective Σₜ lossₜ written out with the perturbations it produced held fixed, and that its
// gradient with respect to the parameters matches central finite differences of that objective: the perturbations
// are constants for the parameter gradient (VILLA's detach) and the clean logits are not (VILLA keeps their graph).
func TestAdversarialGradientsMatchFiniteDifferences(t *testing.T) {
	f := newAFTFixture()
	store := newStore(41)
	keys := []string{"uniter.encoder.layer.0.attention.self.query.weight", "uniter.encoder.layer.1.output.dense.weight",
		"uniter.embeddings.word_embeddings.weight", "uniter.img_embeddings.img_linear.weight", "vqa_output.3.weight"}
	for _, modality := range [][]string{{AdvText}, {AdvText, AdvImage}, {AdvText, AdvImage, AdvAlter}} {
		ac := villaConfig(modality...)
		ac.AdvSteps, ac.AdvMaxNorm = 2, 0.04
		// Pass 1: the AFT loss, its gradients, and the perturbation δ₁ it used in its second step.
		outs := call(t, store, f.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			x := named.Bind[VQAInputs](in)
			aft := AdversarialFinetuning(scope, f.cfg, ac, x.Inputs, f.task(scope, x.Targets), nil)
			out := named.Nodes{"loss": aft.Loss}
			if aft.TxtDelta != nil {
				out["TxtDelta1"] = aft.TxtDelta
			}
			if aft.ImgDelta != nil {
				out["ImgDelta1"] = aft.ImgDelta
			}
			for _, k := range keys {
				out[k] = Gradient(aft.Loss, store.GetVariable(VariablePath(k)).NodeValue(aft.Loss.Graph()))[0]
			}
			return out
		})
		// VILLA's objective with δ₀ = 0 and δ₁ fixed, written out.
		reference, err := named.NewExec(testBackend(t), store, func(scope *model.Scope, in named.Nodes) named.Nodes {
			x := named.Bind[villaReferenceInputs](in)
			store.SetTraining(x.InputIDs.Graph(), true) // variables as parameters (no dropout in this model)
			task := f.task(scope, x.Targets)
			clean := task.Forward(x.Inputs)
			term := func(txt, img *Node) *Node {
				p := x.Inputs
				p.TxtDelta, p.ImgDelta = txt, img
				logits := task.Forward(p)
				return Add(task.Loss(logits), MulScalar(SymmetricKLDivergence(clean, logits, nil), ac.AdvKLWeight))
			}
			zero := func(x *Node) *Node {
				if x == nil {
					return nil
				}
				return ZerosLike(x)
			}
			txt1, img1 := x.TxtDelta1, x.ImgDelta1
			txt0, img0 := zero(txt1), zero(img1)
			var loss *Node
			if ac.perturbs(AdvAlter) {
				loss = DivScalar(Add(Add(term(txt0, nil), term(nil, img0)), Add(term(txt1, nil), term(nil, img1))), 4)
			} else {
				loss = DivScalar(Add(term(txt0, img0), term(txt1, img1)), 2)
			}
			return named.Nodes{"loss": loss}
		})
		if err != nil {
			t.Fatal(err)
		}
		refInputs := f.inputs(nil)
		for _, name := range []string{"TxtDelta1", "ImgDelta1"} {
			if d, ok := outs[name]; ok {
				refInputs[name] = tensors.FromFlatDataAndDimensions(d, f.deltaDims(name)...)
			}
		}
		feedRef := feed(t, refInputs)
		refLoss := func() float64 {
			o, err := reference.Call(feedRef)
			if err != nil {
				t.Fatal(err)
			}
			return float64(tensors.MustCopyFlatData[float32](o["loss"])[0])
		}
		if got, want := float64(outs["loss"][0]), refLoss(); math.Abs(got-want) > 1e-5*math.Max(1, want) {
			t.Errorf("%v: AFT loss %g, VILLA's objective written out %g", modality, got, want)
		}
		for _, k := range keys {
			v := store.GetVariable(VariablePath(k))
			orig := tensors.MustCopyFlatData[float32](v.MustValue())
			grad := outs[k]
			for _, idx := range []int{3, len(orig) / 3, len(orig) - 5} {
				const eps = 5e-3
				at := func(delta float32) float64 {
					w := append([]float32(nil), orig...)
					w[idx] += delta
					_ = v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...))
					return refLoss()
				}
				num := (at(eps) - at(-eps)) / (2 * eps)
				_ = v.SetValue(tensors.FromFlatDataAndDimensions(orig, v.Shape().Dimensions...))
				if math.Abs(num-float64(grad[idx])) > 0.03*math.Max(0.05, math.Abs(num)) {
					t.Errorf("%v %s[%d]: autodiff %g vs numeric %g", modality, k, idx, grad[idx], num)
				}
			}
		}
	}
}

// villaReferenceInputs are the inputs of VILLA's objective written out: the VQA batch and the perturbations δ₁ of
// the second step (nil when the modality is not perturbed).
type villaReferenceInputs struct {
	VQAInputs
	TxtDelta1, ImgDelta1 *Node
}

// deltaDims returns the shape of the perturbation output name (TxtDelta1 or ImgDelta1).
func (f *aftFixture) deltaDims(name string) []int {
	b, lt, nr := len(f.tb.ids), len(f.tb.ids[0]), len(f.tb.feat[0])
	if name == "TxtDelta1" {
		return []int{b, lt, f.cfg.HiddenSize}
	}
	return []int{b, nr, f.cfg.ImgDim}
}

// TestAdversarialFinetuningIsGenericOverTasks runs the same AFT function on NLVR2 paired-attn (two backbone rows
// per example, 2-way logits) and SNLI-VE (3-way logits): the first step is the clean objective with KL 0, each
// backbone row's δ is one normalised step long, the perturbed steps move the predictions, and the loss has
// gradients for the task head.
func TestAdversarialFinetuningIsGenericOverTasks(t *testing.T) {
	cfg := testConfig()
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb, cfg.InitializerRange = 0, 0, 0.2
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	tb := newTinyBatch(cfg, 17)
	const lr = 0.3
	ac := villaConfig(AdvText, AdvImage)
	ac.AdvSteps, ac.AdvLRTxt, ac.AdvLRImg = 2, lr, lr
	for _, name := range []string{"nlvr2", "ve"} {
		store := newStore(19)
		outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			inputs := named.Bind[Inputs](in)
			g := inputs.InputIDs.Graph()
			store.SetTraining(g, true)
			var task AdversarialTask
			var headKey string
			if name == "nlvr2" {
				inputs = gatherRows(inputs, Reshape(Const(g, []int32{0, 1, 2, 0}), 4, 1))
				inputs.ImgTypeIDs = Const(g, [][]int32{{1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}, {1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}})
				targets := Const(g, []int32{1, 0})
				task = AdversarialTask{
					Forward: func(x Inputs) *Node {
						return NLVR2(scope, cfg, NLVR2PairedAttn, NLVR2Inputs{Inputs: x, Targets: targets}).Logits
					},
					Loss: func(logits *Node) *Node { return NLVR2Loss(logits, targets, nil) },
				}
				headKey = "attn_pool.fc.0.weight"
			} else {
				targets := Const(g, [][]float32{{0, 1, 0}, {1, 0, 0}, {0, 0, 1}})
				task = AdversarialTask{
					Forward: func(x Inputs) *Node {
						return VisualEntailment(scope, cfg, VisualEntailmentInputs{Inputs: x, Targets: targets}).Logits
					},
					Loss: func(logits *Node) *Node { return VQALoss(logits, targets, nil) },
				}
				headKey = "vqa_output.3.weight"
			}
			aft := AdversarialFinetuning(scope, cfg, ac, inputs, task, nil)
			clean := task.Loss(task.Forward(inputs))
			headGrad := Gradient(aft.Loss, store.GetVariable(VariablePath(headKey)).NodeValue(g))[0]
			return named.Nodes{"task_loss": aft.TaskLoss, "clean": clean, "kl": aft.KL, "txt_delta": aft.TxtDelta,
				"img_delta": aft.ImgDelta, "head_grad": ReduceAllSum(Abs(headGrad))}
		})
		if kl := outs["kl"]; outs["task_loss"][0] != outs["clean"][0] || kl[0] != 0 || !(kl[1] > 0) {
			t.Errorf("%s: first-step task loss %g vs clean %g, KL %v (want equal, 0, then > 0)", name, outs["task_loss"][0], outs["clean"][0], kl)
		}
		rows := 3
		if name == "nlvr2" {
			rows = 4
		}
		for _, which := range []string{"txt_delta", "img_delta"} {
			delta := outs[which]
			size := len(delta) / rows
			for r := range rows {
				if n := norm2(delta[r*size : (r+1)*size]); math.Abs(n-lr) > 1e-5 {
					t.Errorf("%s: %s row %d has norm %g, want %g", name, which, r, n, lr)
				}
			}
		}
		if !(outs["head_grad"][0] > 0) {
			t.Errorf("%s: no gradient reaches the task head", name)
		}
	}
}
