package uniter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// Entries of VILLA's adv_modality.
const (
	AdvText  = "text"  // perturb the word embeddings
	AdvImage = "image" // perturb the raw region features
	AdvAlter = "alter" // with text and image: a text-only and an image-only forward per step instead of a joint one
)

// Values of VILLA's norm_type.
const (
	NormL2   = "l2"   // the ascent step is the gradient over its l2 norm per example; adv_max_norm bounds the l2 norm
	NormLinf = "linf" // the ascent step is the gradient over its l∞ norm per example; adv_max_norm bounds each element
)

// AdversarialConfig holds VILLA's adversarial finetuning settings, under the key names of VILLA's
// config/train-*-adv.json.
type AdversarialConfig struct {
	AdvTraining bool     `json:"adv_training"`  // false: plain finetuning
	AdvSteps    int      `json:"adv_steps"`     // K, forwards per batch (K−1 ascent steps on δ)
	AdvLRTxt    float64  `json:"adv_lr_txt"`    // ascent step size of the text perturbation
	AdvLRImg    float64  `json:"adv_lr_img"`    // ascent step size of the image perturbation
	AdvMaxNorm  float64  `json:"adv_max_norm"`  // ε, the radius of the perturbation; 0 = unbounded
	NormType    string   `json:"norm_type"`     // NormL2 or NormLinf
	AdvKLWeight float64  `json:"adv_kl_weight"` // α, weight of the symmetric KL between clean and perturbed predictions
	AdvModality []string `json:"adv_modality"`  // ["text"], ["image"], ["text","image"] or ["text","image","alter"]
}

// Validate reports the first invalid setting by its VILLA key name.
func (c AdversarialConfig) Validate() error {
	if !c.AdvTraining {
		return nil
	}
	modalities := slices.Sorted(slices.Values(c.AdvModality))
	known := [][]string{{AdvText}, {AdvImage}, {AdvImage, AdvText}, {AdvAlter, AdvImage, AdvText}}
	switch {
	case c.AdvSteps < 1:
		return fmt.Errorf("adversarial training: adv_steps must be at least 1, got %d", c.AdvSteps)
	case c.NormType != NormL2 && c.NormType != NormLinf:
		return fmt.Errorf("adversarial training: norm_type %q is neither %q nor %q", c.NormType, NormL2, NormLinf)
	case c.AdvMaxNorm < 0 || c.AdvKLWeight < 0 || c.AdvLRTxt < 0 || c.AdvLRImg < 0:
		return fmt.Errorf("adversarial training: adv_max_norm %g, adv_kl_weight %g, adv_lr_txt %g and adv_lr_img %g must not be negative",
			c.AdvMaxNorm, c.AdvKLWeight, c.AdvLRTxt, c.AdvLRImg)
	case !slices.ContainsFunc(known, func(k []string) bool { return slices.Equal(k, modalities) }):
		return fmt.Errorf("adversarial training: adv_modality [%s] is none of [text], [image], [text, image], [text, image, alter]",
			strings.Join(c.AdvModality, ", "))
	}
	return nil
}

func (c AdversarialConfig) perturbs(modality string) bool {
	return slices.Contains(c.AdvModality, modality)
}

// AdversarialTask is the task adversarial finetuning trains: Forward computes the logits on backbone inputs that
// may carry the perturbations Inputs.TxtDelta and Inputs.ImgDelta, Loss the task loss of those logits. The logits'
// last axis holds the classes whose softmax the KL term compares (VQA's answers, NLVR2's 2 classes, SNLI-VE's 3).
type AdversarialTask struct {
	Forward func(in Inputs) (logits *Node)
	Loss    func(logits *Node) *Node
}

// AdversarialOutput is what AdversarialFinetuning computes.
type AdversarialOutput struct {
	// Loss is Σₜ lossₜ over the K steps with each δₜ held constant: its gradient with respect to the parameters is
	// the gradient VILLA accumulates over the K backward passes.
	Loss *Node
	// TaskLoss is the task loss of the first step (δ₀ = 0): the clean task loss (up to dropout).
	TaskLoss *Node
	// Logits are the clean logits (no perturbation).
	Logits *Node
	// KL [K] is the symmetric KL term of each step (for "alter", the mean of its two forwards). KL[0] is 0 up to dropout.
	KL *Node
	// TxtDelta [B,Lt,H] and ImgDelta [B,Nr,ImgDim] are the perturbations of the last step (nil when not perturbed).
	TxtDelta, ImgDelta *Node
}

// SymmetricKLDivergence is VILLA's KL term between the predictions of two sets of logits [N,C] (softmax over C):
// KL(p‖q) + KL(q‖p) = Σ_c (p_c − q_c)(log p_c − log q_c) per row, averaged over the (weighted) rows. It is the same
// in train_vqa_adv.py (kl.mean()·C), train_nlvr2_adv.py and train_ve_adv.py (kl.sum(1).mean()). weights [N] may be nil.
func SymmetricKLDivergence(logitsP, logitsQ, weights *Node) *Node {
	logP, logQ := LogSoftmax(logitsP, -1), LogSoftmax(logitsQ, -1)
	perRow := ReduceSum(Mul(Sub(Exp(logP), Exp(logQ)), Sub(logP, logQ)), -1)
	return weightedMean(perRow, weights)
}

// PerturbationStep is VILLA's ascent step on a perturbation delta [B,...] with the gradient grad of the loss with
// respect to it: delta + lr·grad/max(‖grad‖, 10⁻⁸), the norm (l2 or l∞, normType) taken per example over all other
// axes; then, if maxNorm > 0, projected back to the ε-ball: l2 rows longer than maxNorm are rescaled to maxNorm,
// l∞ elements are clamped to [−maxNorm, maxNorm]. The result carries no gradient.
func PerturbationStep(delta, grad *Node, lr float64, normType string, maxNorm float64) *Node {
	g := delta.Graph()
	dt := delta.DType()
	perExample := axes(1, delta.Rank())
	l2 := func(x *Node) *Node { return Sqrt(ReduceAndKeep(Square(x), ReduceSum, perExample...)) }
	var norm *Node
	switch normType {
	case NormL2:
		norm = l2(grad)
	case NormLinf:
		norm = ReduceAndKeep(Abs(grad), ReduceMax, perExample...)
	default:
		panic(fmt.Sprintf("uniter: unknown adversarial norm_type %q", normType))
	}
	delta = Add(delta, MulScalar(Div(grad, Max(norm, Scalar(g, dt, 1e-8))), lr))
	if maxNorm > 0 {
		if normType == NormL2 {
			n := l2(delta)
			delta = Mul(delta, Where(GreaterThan(n, Scalar(g, dt, maxNorm)), Div(Scalar(g, dt, maxNorm), n), OnesLike(n)))
		} else {
			delta = ClipScalar(delta, -maxNorm, maxNorm)
		}
	}
	return StopGradient(delta)
}

// AdversarialFinetuning is VILLA's adversarial finetuning (AFT) of task on one batch (train_vqa_adv.py,
// train_nlvr2_adv.py, train_ve_adv.py), as one graph. With ac.AdvTraining false it is the plain task objective.
// Otherwise, with clean logits z = Forward(in) (kept in the graph: the KL term's gradient reaches the parameters
// through both sides) and δ₀ = 0 for each perturbed modality, for t = 0 … K−1:
//
//	lossₜ = (Loss(Forward(in + δₜ)) + α·KL_sym(z, Forward(in + δₜ))) / K
//	δₜ₊₁ = PerturbationStep(δₜ, ∂lossₜ/∂δₜ, adv_lr, norm_type, adv_max_norm)   (held constant afterwards)
//
// δ_txt [B,Lt,H] is added to the word embeddings and δ_img [B,Nr,ImgDim] to the raw region features. With "alter"
// each step runs a text-only and an image-only forward and lossₜ is the sum of both terms over 2K. weights [N]
// (the rows of the logits; nil = all real) weight the KL's mean as the task loss weights its own.
func AdversarialFinetuning(scope *model.Scope, cfg Config, ac AdversarialConfig, in Inputs, task AdversarialTask, weights *Node) AdversarialOutput {
	clean := task.Forward(in)
	if !ac.AdvTraining {
		loss := task.Loss(clean)
		return AdversarialOutput{Loss: loss, TaskLoss: loss, Logits: clean}
	}
	if err := ac.Validate(); err != nil {
		panic(err)
	}
	g := in.InputIDs.Graph()
	k := ac.AdvSteps
	var txtDelta, imgDelta *Node
	if ac.perturbs(AdvText) {
		dims := in.InputIDs.Shape().Dimensions
		txtDelta = Zeros(g, shapes.Make(in.ImgFeat.DType(), dims[0], dims[1], cfg.HiddenSize))
	}
	if ac.perturbs(AdvImage) {
		imgDelta = ZerosLike(in.ImgFeat)
	}
	// term runs one perturbed forward and returns its task loss and KL term.
	term := func(txt, img *Node) (taskLoss, kl *Node) {
		perturbed := in
		perturbed.TxtDelta, perturbed.ImgDelta = txt, img
		logits := task.Forward(perturbed)
		return task.Loss(logits), SymmetricKLDivergence(clean, logits, weights)
	}
	var total, firstTaskLoss *Node
	kls := make([]*Node, 0, k)
	for t := range k {
		var loss, taskLoss, kl *Node
		if ac.perturbs(AdvAlter) {
			taskTxt, klTxt := term(txtDelta, nil)
			taskImg, klImg := term(nil, imgDelta)
			taskLoss, kl = taskTxt, MulScalar(Add(klTxt, klImg), 0.5)
			loss = DivScalar(Add(Add(taskTxt, taskImg), MulScalar(Add(klTxt, klImg), ac.AdvKLWeight)), float64(2*k))
		} else {
			taskLoss, kl = term(txtDelta, imgDelta)
			loss = DivScalar(Add(taskLoss, MulScalar(kl, ac.AdvKLWeight)), float64(k))
		}
		if t == 0 {
			total, firstTaskLoss = loss, taskLoss
		} else {
			total = Add(total, loss)
		}
		kls = append(kls, kl)
		if t == k-1 {
			break
		}
		var deltas []*Node
		for _, d := range []*Node{txtDelta, imgDelta} {
			if d != nil {
				deltas = append(deltas, d)
			}
		}
		grads := Gradient(loss, deltas...)
		if txtDelta != nil {
			txtDelta, grads = PerturbationStep(txtDelta, grads[0], ac.AdvLRTxt, ac.NormType, ac.AdvMaxNorm), grads[1:]
		}
		if imgDelta != nil {
			imgDelta = PerturbationStep(imgDelta, grads[0], ac.AdvLRImg, ac.NormType, ac.AdvMaxNorm)
		}
	}
	return AdversarialOutput{Loss: total, TaskLoss: firstTaskLoss, Logits: clean, KL: Stack(kls, 0),
		TxtDelta: txtDelta, ImgDelta: imgDelta}
}
