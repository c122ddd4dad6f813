package uniter

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// VisualEntailmentClasses is the number of SNLI-VE labels: contradiction 0, entailment 1, neutral 2
// (ORIG utils/misc.py VE_ENT2IDX).
const VisualEntailmentClasses = 3

// VisualEntailmentHead is ORIG's UniterForVisualEntailment head (model/ve.py): the VQA head, under the same
// vqa_output keys, with 3 outputs. Logits [B,3].
func VisualEntailmentHead(scope *model.Scope, cfg Config, pooled *Node) *Node {
	cfg.NumAnswers = VisualEntailmentClasses
	return VQAHead(scope, cfg, pooled)
}

// VisualEntailmentInputs are the inputs of VisualEntailment.
type VisualEntailmentInputs struct {
	Inputs
	Targets *Node // [B,3] float32 label scores: the one-hot label (ORIG VeDataset reuses VqaDataset's targets).
	Weights *Node // [B] float32, 1 = real example; nil = all real.
	Options Options
}

// VisualEntailmentOutput is what VisualEntailment computes.
type VisualEntailmentOutput struct {
	Backbone *Output
	Logits   *Node // [B,3]
	Loss     *Node // scalar; nil without Targets
}

// VisualEntailment is ORIG's SNLI-VE objective (train_ve.py): UniterForVisualEntailment is the VQA model with 3
// outputs, so this is VQA with VisualEntailmentClasses answers: the head on the pooled output and VQALoss, binary
// cross entropy summed over the 3 classes and averaged over the batch ("instance-level bce"). The head reads the
// pooled output only: Options.PooledOnly gives the same result faster.
func VisualEntailment(scope *model.Scope, cfg Config, in VisualEntailmentInputs) VisualEntailmentOutput {
	cfg.NumAnswers = VisualEntailmentClasses
	return VisualEntailmentOutput(VQA(scope, cfg, VQAInputs(in)))
}
