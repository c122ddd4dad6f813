package uniter

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// deriveFinetuningWeights returns weights plus the tensors ORIG's finetuning scripts derive from a pretrained
// checkpoint, for the model whose parameters are expected, and the ORIG keys it derived:
//   - rank_output (image-text retrieval) = row 1 of itm_output, the "matched" logit, when the checkpoint has
//     itm_output but no rank_output (ORIG model/itm.py init_output, called by train_itm.py after loading);
//   - the token type table grown from 2 to 3 rows with row 2 a copy of row 1, when the model has 3 rows and the
//     checkpoint 2 (ORIG model/nlvr2.py init_type_embedding, called by train_nlvr2.py after loading).
//
// A finetuned checkpoint, which has rank_output and 3 token types already, passes unchanged. weights itself is
// not modified.
func deriveFinetuningWeights(weights map[string]*tensors.Tensor, expected map[string][]int) (map[string]*tensors.Tensor, []string, error) {
	keyOf := map[string]string{} // ORIG key → the checkpoint's spelling of it
	for _, key := range slices.Sorted(maps.Keys(weights)) {
		if canon, tiedCopy := canonicalize(key); canon != "" && !tiedCopy {
			keyOf[canon] = key
		}
	}
	out := maps.Clone(weights)
	var derived []string

	rankW, rankB := rankOutputKey+".weight", rankOutputKey+".bias"
	itmW, itmB := "itm_output.weight", "itm_output.bias"
	_, wantRank := expected[rankW]
	_, haveRank := keyOf[rankW]
	_, haveITM := keyOf[itmW]
	if wantRank && !haveRank && haveITM {
		for _, pair := range [][2]string{{rankW, itmW}, {rankB, itmB}} {
			src, ok := keyOf[pair[1]]
			if !ok {
				return nil, nil, fmt.Errorf("checkpoint has %s but not %s, which rank_output is initialised from", keyOf[itmW], pair[1])
			}
			row, err := tensorRows(weights[src], src, 1, 2)
			if err != nil {
				return nil, nil, err
			}
			out[pair[0]] = row
			derived = append(derived, pair[0])
		}
	}

	if dims, ok := expected[tokenTypeKey]; ok && dims[0] == 3 {
		if src, ok := keyOf[tokenTypeKey]; ok && weights[src].Shape().Rank() == 2 && weights[src].Shape().Dimensions[0] == 2 {
			table, err := tensorRows(weights[src], src, 0, 2)
			if err != nil {
				return nil, nil, err
			}
			h := table.Shape().Dimensions[1]
			rows := tensors.MustCopyFlatData[float32](table)
			out[src] = tensors.FromFlatDataAndDimensions(append(rows, rows[h:2*h]...), 3, h)
			derived = append(derived, tokenTypeKey)
		}
	}
	return out, derived, nil
}

// tensorRows returns rows [from, to) of a float32 tensor t of rank 1 or 2 (named key in errors) as a new tensor.
func tensorRows(t *tensors.Tensor, key string, from, to int) (*tensors.Tensor, error) {
	shape := t.Shape()
	if shape.DType != dtypes.Float32 || shape.Rank() < 1 || shape.Rank() > 2 || shape.Dimensions[0] < to {
		return nil, fmt.Errorf("checkpoint tensor %q: want float32 with at least %d rows, got %s", key, to, shape)
	}
	width := 1
	if shape.Rank() == 2 {
		width = shape.Dimensions[1]
	}
	flat := tensors.MustCopyFlatData[float32](t)[from*width : to*width]
	if shape.Rank() == 1 {
		return tensors.FromFlatDataAndDimensions(flat, to-from), nil
	}
	return tensors.FromFlatDataAndDimensions(flat, to-from, width), nil
}
