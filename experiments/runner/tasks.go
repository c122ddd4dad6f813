package runner

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/uniter"
)

// task is one objective the model trains or evaluates on: its batch type and its losses.
type task struct {
	name  string     // config name: the VQA task (dataset) name, or mlm, itm, mrc, mrfr
	batch batch.Task // the batch builder's task
	// parts are the metric names of the loss terms the graph reports (their sum is the loss), e.g. logit_bce;
	// itm with WRA reports itm_loss and wra_loss.
	parts []string
	// accuracy names the accuracy the evaluation reports ("" = none): vqa_accuracy, mlm_accuracy, itm_accuracy.
	accuracy string
}

// modelSpec is what the graph builders need besides the inputs.
type modelSpec struct {
	cfg         uniter.Config
	itmOTLambda float64
	maskUnknown bool // VQA: never predict answer 0 (<unk>), as MMF's vqa_accuracy
}

// newTasks returns the tasks of the run: the VQA task, or the weighted pretraining tasks.
func newTasks(s *settings) []*task {
	if !s.pretraining {
		return []*task{{name: s.tasks[0], batch: batch.TaskVQA, parts: []string{"logit_bce"}, accuracy: "vqa_accuracy"}}
	}
	var out []*task
	for _, tw := range s.pretrainingMix() {
		switch tw.task {
		case taskMLM:
			out = append(out, &task{name: taskMLM, batch: batch.TaskMLM, parts: []string{"masked_lm_loss"}, accuracy: "mlm_accuracy"})
		case taskITM:
			t := &task{name: taskITM, batch: batch.TaskITM, parts: []string{"itm_loss"}, accuracy: "itm_accuracy"}
			if s.itmOTLambda > 0 {
				t.parts = append(t.parts, "wra_loss")
			}
			out = append(out, t)
		case taskMRC:
			bt := batch.TaskMRC
			if s.useKL {
				bt = batch.TaskMRCKL
			}
			out = append(out, &task{name: taskMRC, batch: bt, parts: []string{"mrc_loss"}})
		case taskMRFR:
			out = append(out, &task{name: taskMRFR, batch: batch.TaskMRFR, parts: []string{"mrfr_loss"}})
		}
	}
	return out
}

// batchInputs converts a batch to the graph inputs of its task, in the order forward reads them: input ids, text
// mask, region features, positions, region mask, example weights, then the task's own fields.
func batchInputs(b *batch.Batch) []*tensors.Tensor {
	B, Lt, Nr, D := b.Size, b.TextLen, b.NumRegions, b.FeatDim
	weights := make([]float32, B)
	for i, ok := range b.ExampleOK {
		if ok {
			weights[i] = 1
		}
	}
	in := []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(b.InputIDs, B, Lt),
		tensors.FromFlatDataAndDimensions(b.TxtMask, B, Lt),
		tensors.FromFlatDataAndDimensions(b.ImgFeat, B, Nr, D),
		tensors.FromFlatDataAndDimensions(b.ImgPos, B, Nr, 7),
		tensors.FromFlatDataAndDimensions(b.ImgMask, B, Nr),
		tensors.FromFlatDataAndDimensions(weights, B),
	}
	K := b.NumGathered()
	switch b.Task {
	case batch.TaskVQA:
		in = append(in, tensors.FromFlatDataAndDimensions(b.Targets, B, b.NumAnswers))
	case batch.TaskMLM:
		in = append(in, tensors.FromFlatDataAndDimensions(b.MLMPositions, K, 2),
			tensors.FromFlatDataAndDimensions(b.MLMLabels, K),
			tensors.FromFlatDataAndDimensions(b.MLMValid, K))
	case batch.TaskMRFR:
		in = append(in, tensors.FromFlatDataAndDimensions(b.MRMMask, B, Nr),
			tensors.FromFlatDataAndDimensions(b.MRMPositions, K, 2),
			tensors.FromFlatDataAndDimensions(b.MRMValid, K),
			tensors.FromFlatDataAndDimensions(b.FeatTargets, K, D))
	case batch.TaskMRC, batch.TaskMRCKL:
		in = append(in, tensors.FromFlatDataAndDimensions(b.MRMMask, B, Nr),
			tensors.FromFlatDataAndDimensions(b.MRMPositions, K, 2),
			tensors.FromFlatDataAndDimensions(b.MRMValid, K),
			tensors.FromFlatDataAndDimensions(b.MRCTargets, K, b.LabelDim))
	case batch.TaskITM:
		in = append(in, tensors.FromFlatDataAndDimensions(b.ITMTargets, B))
	}
	return in
}

// numCommonInputs is the number of inputs every task has (see batchInputs).
const numCommonInputs = 6

// forwardOut is what a task's forward pass computes.
type forwardOut struct {
	loss  *Node   // the training loss (sum of parts)
	parts []*Node // the loss terms, in task.parts order
	// correct and count give the accuracy numerator and denominator (float32 scalars); nil for tasks without one.
	correct, count *Node
	pred           *Node   // VQA: predicted answer per row [B] int32
	attention      []*Node // per layer [B,heads,L,L] when requested
}

// forward builds the model and the loss of t on the inputs in (see batchInputs).
func forward(scope *model.Scope, spec modelSpec, t *task, in []*Node, attention bool) *forwardOut {
	cfg := spec.cfg
	ui := uniter.Inputs{InputIDs: in[0], TxtMask: in[1], ImgFeat: in[2], ImgPos: in[3], ImgMask: in[4]}
	weights := in[5]
	extra := in[numCommonInputs:]
	if t.batch == batch.TaskMRFR || t.batch == batch.TaskMRC || t.batch == batch.TaskMRCKL {
		ui.MRMMask = extra[0]
	}
	out := uniter.Backbone(scope, cfg, ui, uniter.Options{AttentionProbs: attention})
	lt := ui.TextLen()
	res := &forwardOut{attention: out.AttentionProbs}
	switch t.batch {
	case batch.TaskVQA:
		logits := uniter.VQAHead(scope, cfg, out.Pooled)
		res.loss = uniter.VQALoss(logits, extra[0], weights)
		if spec.maskUnknown {
			// MMF's vqa_accuracy never predicts column 0 (<unk>).
			col := Iota(logits.Graph(), logits.Shape(), 1)
			logits = Where(Equal(col, ZerosLike(col)), Scalar(logits.Graph(), logits.DType(), -1e30), logits)
		}
		res.pred = ArgMax(logits, -1, dtypes.Int32)
	case batch.TaskMLM:
		positions, labels, valid := extra[0], extra[1], extra[2]
		logits := uniter.MaskedLanguageModelingHead(scope, cfg, uniter.GatherPositions(out.Sequence, positions))
		res.loss = uniter.MaskedLanguageModelingLoss(logits, labels, valid)
		res.correct, res.count = hits(logits, labels, valid)
	case batch.TaskMRFR:
		positions, valid, targets := extra[1], extra[2], extra[3]
		hidden := uniter.GatherPositions(out.Sequence, uniter.OffsetPositions(positions, lt))
		pred := uniter.RegionFeatureRegressionHead(scope, cfg, hidden)
		res.loss = uniter.RegionFeatureRegressionLoss(pred, targets, valid)
	case batch.TaskMRC, batch.TaskMRCKL:
		positions, valid, targets := extra[1], extra[2], extra[3]
		hidden := uniter.GatherPositions(out.Sequence, uniter.OffsetPositions(positions, lt))
		logits := uniter.RegionClassificationHead(scope, cfg, hidden)
		if t.batch == batch.TaskMRCKL {
			res.loss = uniter.RegionClassificationKLLoss(logits, targets, valid)
		} else {
			res.loss = uniter.RegionClassificationLoss(logits, targets, valid)
		}
	case batch.TaskITM:
		labels := extra[0]
		logits := uniter.ImageTextMatchingHead(scope, cfg, out.Pooled)
		itm := uniter.ImageTextMatchingLoss(logits, labels, weights)
		res.loss = itm
		res.correct, res.count = hits(logits, labels, weights)
		if spec.itmOTLambda > 0 {
			seq := out.Sequence
			txt := Slice(seq, AxisRange(), AxisRange(0, lt))
			img := Slice(seq, AxisRange(), AxisRangeToEnd(lt))
			dist := uniter.OptimalTransportDistance(txt, img, ui.TxtMask, ui.ImgMask, uniter.DefaultIPOT())
			ot := uniter.WordRegionAlignmentLoss(dist, labels, weights)
			res.parts = []*Node{itm, ot}
			res.loss = uniter.ImageTextMatchingWithWRALoss(itm, ot, spec.itmOTLambda)
			return res
		}
	default:
		panic(fmt.Sprintf("runner: no graph for task %q", t.batch))
	}
	res.parts = []*Node{res.loss}
	return res
}

// hits counts the rows whose argmax equals the label, among the weighted ones: (Σ w·[argmax = label], Σ w).
func hits(logits, labels, weights *Node) (correct, count *Node) {
	pred := ArgMax(logits, -1, dtypes.Int32)
	ok := ConvertDType(Equal(pred, ConvertDType(labels, dtypes.Int32)), dtypes.Float32)
	w := ConvertDType(weights, dtypes.Float32)
	return ReduceAllSum(Mul(ok, w)), ReduceAllSum(w)
}
