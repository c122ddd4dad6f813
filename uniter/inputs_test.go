package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestOptionalInputsKeepTheCleanPath checks the optional backbone inputs: region token types all 1 and zero
// perturbations give bit-identical outputs to leaving them out; a text perturbation E[b] − E[a] at a token a acts
// as the token b, and an image perturbation f' − f acts as the features f'.
func TestOptionalInputsKeepTheCleanPath(t *testing.T) {
	cfg := testConfig()
	store := newStore(4)
	tb := newTinyBatch(cfg, 4)
	const newID = 1777
	swappedIDs := make([][]int32, len(tb.ids))
	for i := range tb.ids {
		swappedIDs[i] = append([]int32(nil), tb.ids[i]...)
	}
	swappedIDs[0][2] = newID
	newFeat := make([][][]float32, len(tb.feat))
	for i := range tb.feat {
		for j := range tb.feat[i] {
			row := append([]float32(nil), tb.feat[i][j]...)
			if i == 1 && j == 0 {
				for k := range row {
					row[k] = float32(k%5) * 0.3
				}
			}
			newFeat[i] = append(newFeat[i], row)
		}
	}
	outs := callOps(t, store, func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		base := inputsOf(in[:5])
		pooled := func(x Inputs) *Node { return Backbone(scope, cfg, x, Options{}).Sequence }
		clean := pooled(base)

		withZeros := base
		withZeros.ImgTypeIDs = OnesLike(ConvertDType(base.ImgMask, in[0].DType()))
		withZeros.TxtDelta = Zeros(g, shapesOf(3, 6, cfg.HiddenSize))
		withZeros.ImgDelta = ZerosLike(base.ImgFeat)

		words := store.GetVariable(VariablePath("uniter.embeddings.word_embeddings.weight")).NodeValue(g)
		embed := func(ids *Node) *Node { return Gather(words, InsertAxes(ids, -1)) }
		shifted := base
		shifted.TxtDelta = Sub(embed(in[5]), embed(base.InputIDs))
		shifted.ImgDelta = Sub(in[6], base.ImgFeat)
		swapped := base
		swapped.InputIDs, swapped.ImgFeat = in[5], in[6]
		return []*Node{clean, pooled(withZeros), pooled(shifted), pooled(swapped)}
	}, append(tb.args(), swappedIDs, newFeat)...)
	for i, v := range outs[0] {
		if outs[1][i] != v {
			t.Fatalf("token types 1 and zero perturbations changed output %d: %g vs %g", i, outs[1][i], v)
		}
	}
	if d := maxAbs(outs[2], outs[3]); d > 1e-5 {
		t.Errorf("perturbations E[b]−E[a] and f'−f differ from swapping the token and the features by %g", d)
	}
	if d := maxAbs(outs[0], outs[3]); d < 1e-3 {
		t.Errorf("swapping a token and a region's features changed the outputs by only %g", d)
	}
}

// TestThreeTokenTypes checks the NLVR2 token type table: created with row 2 a copy of row 1 (ORIG
// init_type_embedding), and the region types select their row.
func TestThreeTokenTypes(t *testing.T) {
	cfg := testConfig()
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	store := newStore(5)
	tb := newTinyBatch(cfg, 5)
	types := [][]int32{{1, 1, 2, 2, 2}, {2, 2, 0, 0, 0}, {1, 2, 1, 2, 0}} // 0 on padded regions, as ORIG pads
	fn := func(scope *model.Scope, in []*Node) []*Node {
		x := inputsOf(in[:5])
		plain := Backbone(scope, cfg, x, Options{}).Pooled
		x.ImgTypeIDs = in[5]
		return []*Node{plain, Backbone(scope, cfg, x, Options{}).Pooled}
	}
	outs := callOps(t, store, fn, append(tb.args(), types)...)
	table := tensors.MustCopyFlatData[float32](store.GetVariable(VariablePath(tokenTypeKey)).MustValue())
	h := cfg.HiddenSize
	if len(table) != 3*h {
		t.Fatalf("token type table has %d values, want 3×%d", len(table), h)
	}
	for k := range h {
		if table[2*h+k] != table[h+k] {
			t.Fatalf("row 2 is not a copy of row 1 at %d: %g vs %g", k, table[2*h+k], table[h+k])
		}
	}
	if table[0] == table[h] {
		t.Error("row 0 equals row 1")
	}
	if d := maxAbs(outs[0], outs[1]); d > 1e-6 {
		t.Errorf("types 2 with row 2 = row 1 changed the output by %g", d)
	}
	// Once row 2 differs, the regions typed 2 see it (a change that LayerNorm does not remove: not a constant).
	for k := range h {
		table[2*h+k] += float32(k%3) * 0.5
	}
	_ = store.GetVariable(VariablePath(tokenTypeKey)).SetValue(tensors.FromFlatDataAndDimensions(table, 3, h))
	changed := callOps(t, store, fn, append(tb.args(), types)...)
	if d := maxAbs(changed[0], outs[0]); d > 1e-6 {
		t.Errorf("row 2 changed the output of the untyped inputs by %g", d)
	}
	if d := maxAbs(changed[1], outs[1]); d < 1e-3 || math.IsNaN(d) {
		t.Errorf("row 2 changed the typed output by only %g", d)
	}
}
