package uniter

import . "github.com/gomlx/gomlx/core/graph" //nolint

// args returns the batch as positional operands (to be replaced by named inputs).
func (tb *tinyBatch) args() []any { return []any{tb.ids, tb.txtMask, tb.feat, tb.pos, tb.imgMask} }

// inputsOf reads the backbone inputs from positional operands (to be replaced by named inputs).
func inputsOf(in []*Node) Inputs {
	return Inputs{InputIDs: in[0], TxtMask: in[1], ImgFeat: in[2], ImgPos: in[3], ImgMask: in[4]}
}
