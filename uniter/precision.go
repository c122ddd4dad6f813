package uniter

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"
)

// computeDTypeParam is the scope parameter holding the dtype of the model's matrix products.
const computeDTypeParam = "uniter_compute_dtype"

// SetComputeDType selects the dtype in which the model under scope runs its matrix products: Float32 (the default)
// or BFloat16 for mixed precision as PyTorch's autocast does it: the operands of every linear layer and of the two
// attention products are cast to BFloat16 and the products cast back to Float32, so the variables (master weights),
// the residual stream, LayerNorm, softmax, the losses and the gradients of the variables stay in Float32.
func SetComputeDType(scope *model.Scope, dtype dtypes.DType) {
	scope.SetParam(computeDTypeParam, dtype)
}

// computeDType returns the dtype set by SetComputeDType for scope (Float32 when unset).
func computeDType(scope *model.Scope) dtypes.DType {
	return model.GetParamOr(scope, computeDTypeParam, dtypes.Float32)
}

// toCompute casts x to the compute dtype of scope (a no-op when it already has it).
func toCompute(scope *model.Scope, x *Node) *Node { return ConvertDType(x, computeDType(scope)) }
