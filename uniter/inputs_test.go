package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
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
	outs := call(t, store, tb.inputs(map[string]any{"SwappedIDs": swappedIDs, "SwappedFeat": newFeat}), func(scope *model.Scope, in named.Nodes) named.Nodes {
		x := named.Bind[swappedInputs](in)
		base := x.Inputs
		g := base.InputIDs.Graph()
		pooled := func(x Inputs) *Node { return Backbone(scope, cfg, x, Options{}).Sequence }
		clean := pooled(base)

		withZeros := base
		withZeros.ImgTypeIDs = OnesLike(ConvertDType(base.ImgMask, base.InputIDs.DType()))
		withZeros.TxtDelta = Zeros(g, shapesOf(3, 6, cfg.HiddenSize))
		withZeros.ImgDelta = ZerosLike(base.ImgFeat)

		words := store.GetVariable(VariablePath("uniter.embeddings.word_embeddings.weight")).NodeValue(g)
		embed := func(ids *Node) *Node { return Gather(words, InsertAxes(ids, -1)) }
		shifted := base
		shifted.TxtDelta = Sub(embed(x.SwappedIDs), embed(base.InputIDs))
		shifted.ImgDelta = Sub(x.SwappedFeat, base.ImgFeat)
		swapped := base
		swapped.InputIDs, swapped.ImgFeat = x.SwappedIDs, x.SwappedFeat
		return named.Nodes{"clean": clean, "zeros": pooled(withZeros), "shifted": pooled(shifted), "swapped": pooled(swapped)}
	})
	for i, v := range outs["clean"] {
		if outs["zeros"][i] != v {
			t.Fatalf("token types 1 and zero perturbations changed output %d: %g vs %g", i, outs["zeros"][i], v)
		}
	}
	if d := maxAbs(outs["shifted"], outs["swapped"]); d > 1e-5 {
		t.Errorf("perturbations E[b]−E[a] and f'−f differ from swapping the token and the features by %g", d)
	}
	if d := maxAbs(outs["clean"], outs["swapped"]); d < 1e-3 {
		t.Errorf("swapping a token and a region's features changed the outputs by only %g", d)
	}
}

// swappedInputs are a batch and the token ids and region features of the same batch with one token and one
// region replaced.
type swappedInputs struct {
	Inputs
	SwappedIDs, SwappedFeat *Node
}

// TestThreeTokenTypes checks the NLVR2 token type table: created with row 2 a copy of row 1 (ORIG
// init_type_embedding), and the region types select their row.
func TestThreeTokenTypes(t *testing.T) {
	cfg := testConfig()
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	store := newStore(5)
	tb := newTinyBatch(cfg, 5)
	types := [][]int32{{1, 1, 2, 2, 2}, {2, 2, 0, 0, 0}, {1, 2, 1, 2, 0}} // 0 on padded regions, as ORIG pads
	fn := func(scope *model.Scope, in named.Nodes) named.Nodes {
		typed := named.Bind[Inputs](in)
		plain := typed
		plain.ImgTypeIDs = nil
		return named.Nodes{"plain": Backbone(scope, cfg, plain, Options{}).Pooled, "typed": Backbone(scope, cfg, typed, Options{}).Pooled}
	}
	inputs := tb.inputs(map[string]any{"ImgTypeIDs": types})
	outs := call(t, store, inputs, fn)
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
	if d := maxAbs(outs["plain"], outs["typed"]); d > 1e-6 {
		t.Errorf("types 2 with row 2 = row 1 changed the output by %g", d)
	}
	// Once row 2 differs, the regions typed 2 see it (a change that LayerNorm does not remove: not a constant).
	for k := range h {
		table[2*h+k] += float32(k%3) * 0.5
	}
	_ = store.GetVariable(VariablePath(tokenTypeKey)).SetValue(tensors.FromFlatDataAndDimensions(table, 3, h))
	changed := call(t, store, inputs, fn)
	if d := maxAbs(changed["plain"], outs["plain"]); d > 1e-6 {
		t.Errorf("row 2 changed the output of the untyped inputs by %g", d)
	}
	if d := maxAbs(changed["typed"], outs["typed"]); d < 1e-3 || math.IsNaN(d) {
		t.Errorf("row 2 changed the typed output by only %g", d)
	}
}
