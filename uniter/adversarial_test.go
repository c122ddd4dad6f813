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

func (f *aftFixture) args() []any { return append(f.tb.args(), f.targets) }

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
		outs := callOps(t, store, func(scope *model.Scope, in []*Node) []*Node {
			inputs, task := inputsOf(in[:5]), f.task(scope, in[5])
			aft := AdversarialFinetuning(scope, f.cfg, ac, inputs, task, nil)
			// The reference direction: ∂(task loss)/∂δ at δ = 0 (the KL term has zero gradient there).
			zero := ZerosLike(aft.TxtDelta)
			perturbed := inputs
			perturbed.TxtDelta = zero
			grad := Gradient(task.Loss(task.Forward(perturbed)), zero)[0]
			return []*Node{aft.TaskLoss, task.Loss(task.Forward(inputs)), aft.KL, aft.TxtDelta, grad}
		}, f.args()...)
		taskLoss, clean, kl, delta, grad := outs[0][0], outs[1][0], outs[2], outs[3], outs[4]
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
		exec, err := model.NewExec(testBackend(t), store, func(scope *model.Scope, in []*Node) []*Node {
			aft := AdversarialFinetuning(scope, f.cfg, ac, inputsOf(in[:5]), f.task(scope, in[5]), nil)
			outs := []*Node{aft.Loss, orZeros(aft.TxtDelta, aft.Loss), orZeros(aft.ImgDelta, aft.Loss)}
			for _, k := range keys {
				outs = append(outs, Gradient(aft.Loss, store.GetVariable(VariablePath(k)).NodeValue(aft.Loss.Graph()))[0])
			}
			return outs
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(f.args()...)
		if err != nil {
			t.Fatal(err)
		}
		txtDelta, imgDelta := outs[1], outs[2]
		// VILLA's objective with δ₀ = 0 and δ₁ fixed, written out.
		reference, err := model.NewExec(testBackend(t), store, func(scope *model.Scope, in []*Node) []*Node {
			store.SetTraining(in[0].Graph(), true) // variables as parameters (no dropout in this model)
			inputs, task := inputsOf(in[:5]), f.task(scope, in[5])
			clean := task.Forward(inputs)
			term := func(txt, img *Node) *Node {
				p := inputs
				p.TxtDelta, p.ImgDelta = txt, img
				logits := task.Forward(p)
				return Add(task.Loss(logits), MulScalar(SymmetricKLDivergence(clean, logits, nil), ac.AdvKLWeight))
			}
			given := func(x *Node) *Node { // a scalar stands for "not perturbed"
				if x.Rank() == 0 {
					return nil
				}
				return x
			}
			zero := func(x *Node) *Node {
				if x == nil {
					return nil
				}
				return ZerosLike(x)
			}
			txt1, img1 := given(in[6]), given(in[7])
			txt0, img0 := zero(txt1), zero(img1)
			var loss *Node
			if ac.perturbs(AdvAlter) {
				loss = DivScalar(Add(Add(term(txt0, nil), term(nil, img0)), Add(term(txt1, nil), term(nil, img1))), 4)
			} else {
				loss = DivScalar(Add(term(txt0, img0), term(txt1, img1)), 2)
			}
			return []*Node{loss}
		})
		if err != nil {
			t.Fatal(err)
		}
		refArgs := append(f.args(), txtDelta, imgDelta)
		refLoss := func() float64 {
			o, err := reference.Call(refArgs...)
			if err != nil {
				t.Fatal(err)
			}
			return float64(tensors.MustCopyFlatData[float32](o[0])[0])
		}
		if got, want := float64(tensors.MustCopyFlatData[float32](outs[0])[0]), refLoss(); math.Abs(got-want) > 1e-5*math.Max(1, want) {
			t.Errorf("%v: AFT loss %g, VILLA's objective written out %g", modality, got, want)
		}
		for ki, k := range keys {
			v := store.GetVariable(VariablePath(k))
			orig := tensors.MustCopyFlatData[float32](v.MustValue())
			grad := tensors.MustCopyFlatData[float32](outs[3+ki])
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

// orZeros returns x, or a scalar 0 of like's dtype when x is nil.
func orZeros(x, like *Node) *Node {
	if x == nil {
		return ScalarZero(like.Graph(), like.DType())
	}
	return x
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
		outs := callOps(t, store, func(scope *model.Scope, in []*Node) []*Node {
			g := in[0].Graph()
			store.SetTraining(g, true)
			inputs := inputsOf(in)
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
			return []*Node{aft.TaskLoss, clean, aft.KL, aft.TxtDelta, aft.ImgDelta, ReduceAllSum(Abs(headGrad))}
		}, tb.args()...)
		if outs[0][0] != outs[1][0] || outs[2][0] != 0 || !(outs[2][1] > 0) {
			t.Errorf("%s: first-step task loss %g vs clean %g, KL %v (want equal, 0, then > 0)", name, outs[0][0], outs[1][0], outs[2])
		}
		rows := 3
		if name == "nlvr2" {
			rows = 4
		}
		for i, delta := range outs[3:5] {
			size := len(delta) / rows
			for r := range rows {
				if n := norm2(delta[r*size : (r+1)*size]); math.Abs(n-lr) > 1e-5 {
					t.Errorf("%s: δ %d row %d has norm %g, want %g", name, i, r, n, lr)
				}
			}
		}
		if !(outs[5][0] > 0) {
			t.Errorf("%s: no gradient reaches the task head", name)
		}
	}
}
