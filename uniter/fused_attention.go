package uniter

import (
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/layers/attention"
	"github.com/gomlx/gomlx/ml/model"
)

// fusedAttentionParam is the scope parameter set by SetFusedAttention.
const fusedAttentionParam = "uniter_fused_attention"

// SetFusedAttention lets the self-attention of the model under scope run through the backend's fused scaled
// dot-product attention: cuDNN flash attention on xla:cuda (with bfloat16 operands, see SetComputeDType), the Go
// backend's fused forward on CPUs. It is used where it computes the same function, softmax(q kᵀ/√d + bias) v: when no
// attention-probability dropout is active (evaluation, or AttentionProbsDropoutProb 0) and the backend has the op;
// elsewhere the decomposed attention runs. Backbone cannot return attention probabilities from a fused attention.
func SetFusedAttention(scope *model.Scope, on bool) { scope.SetParam(fusedAttentionParam, on) }

// FusedAttention reports whether SetFusedAttention turned the fused attention on for scope.
func FusedAttention(scope *model.Scope) bool {
	return model.GetParamOr(scope, fusedAttentionParam, false)
}

// fusedAttentionContext returns softmax(q kᵀ + bias) v, [B,nh,Lq,dh], for the (already scaled) queries q
// [B,nh,Lq,dh], the keys and values k, v [B,nh,L,dh] and the additive bias [B,1,1,L] through the backend's fused
// attention, or nil where SetFusedAttention is off, attention dropout is active or the backend lacks the op.
func fusedAttentionContext(scope *model.Scope, cfg Config, q, k, v, bias *Node) *Node {
	g := q.Graph()
	if !FusedAttention(scope) || (cfg.AttentionProbsDropoutProb > 0 && scope.IsTraining(g)) ||
		!g.Backend().Capabilities().Operations[compute.OpTypeFusedScaledDotProductAttention] {
		return nil
	}
	qd, kd := q.Shape().Dimensions, k.Shape().Dimensions
	fullBias := BroadcastToDims(ConvertDType(bias, q.DType()), qd[0], qd[1], qd[2], kd[2]) // [B,nh,Lq,L]
	context, _ := attention.Core(q, k, v, attention.LayoutBHSD, attention.CoreOptions{Scale: 1, AttentionBias: fullBias})
	return context
}
