package torchckpt

import "github.com/gomlx/gomlx/core/tensors"

// Tensors converts the state dict to GoMLX float32 tensors keyed like the state dict, ready for
// uniter.LoadWeights.
func (sd StateDict) Tensors() map[string]*tensors.Tensor {
	out := make(map[string]*tensors.Tensor, len(sd))
	for key, t := range sd {
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		out[key] = tensors.FromFlatDataAndDimensions(t.Data, shape...)
	}
	return out
}
