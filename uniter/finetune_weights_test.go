package uniter

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

// randomCheckpoint returns tensors with random values for the ORIG keys of the backbone and heads.
func randomCheckpoint(t *testing.T, cfg Config, seed uint64, heads ...string) map[string]*tensors.Tensor {
	t.Helper()
	shapes, err := ParameterShapes(cfg, heads...)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 3))
	ckpt := map[string]*tensors.Tensor{}
	for key, dims := range shapes {
		data := make([]float32, CountParameters(map[string][]int{key: dims}))
		for i := range data {
			data[i] = float32(r.NormFloat64())
		}
		ckpt[key] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return ckpt
}

func variableValues(t *testing.T, store *model.Store, key string) []float32 {
	t.Helper()
	v := store.GetVariable(VariablePath(key))
	if v == nil {
		t.Fatalf("no variable for %s", key)
	}
	return tensors.MustCopyFlatData[float32](v.MustValue())
}

// TestPretrainedCheckpointInitialisesFinetuningHeads checks ORIG's init_output (rank_output = itm_output row 1) and
// init_type_embedding (3 token types, row 2 = row 1) in the loading path, that finetuned checkpoints load as they
// are, and that the SNLI-VE head loads its 3-output vqa_output whatever the VQA answer count.
func TestPretrainedCheckpointInitialisesFinetuningHeads(t *testing.T) {
	cfg := testConfig()
	h := cfg.HiddenSize
	pretrained := randomCheckpoint(t, cfg, 1, HeadITM, HeadMLM)
	itmW := tensors.MustCopyFlatData[float32](pretrained["itm_output.weight"])
	itmB := tensors.MustCopyFlatData[float32](pretrained["itm_output.bias"])
	types := tensors.MustCopyFlatData[float32](pretrained[tokenTypeKey])

	// Retrieval from the pretrained checkpoint, in MMF spelling for the ITM head: rank_output is derived. (ORIG's
	// retrieval model keeps itm_output too; here it is loaded to compare the two heads.)
	pretrained["uniter.heads.itm.cls.seq_relationship.weight"] = pretrained["itm_output.weight"]
	delete(pretrained, "itm_output.weight")
	store := newStore(1)
	rep, err := LoadWeights(store, cfg, pretrained, HeadRank, HeadITM, HeadMLM)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Derived, []string{"rank_output.weight", "rank_output.bias"}) || len(rep.Missing) != 0 {
		t.Errorf("report %s: want rank_output derived and nothing missing", rep)
	}
	if got := variableValues(t, store, "rank_output.weight"); !slices.Equal(got, itmW[h:2*h]) {
		t.Error("rank_output.weight is not row 1 of itm_output.weight")
	}
	if got := variableValues(t, store, "rank_output.bias"); !slices.Equal(got, itmB[1:2]) {
		t.Errorf("rank_output.bias %v, want itm_output.bias[1] %v", got, itmB[1])
	}
	// The derived head scores as the ITM head's "matched" logit.
	tb := newTinyBatch(cfg, 2)
	outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		pooled := Backbone(scope, cfg, named.Bind[Inputs](in), Options{}).Pooled
		itm := ImageTextMatchingHead(scope, cfg, pooled)
		return named.Nodes{"rank": RankingHead(scope, cfg, pooled), "itm": Squeeze(Slice(itm, AxisRange(), AxisRange(1, 2)), 1)}
	})
	if d := maxAbs(outs["rank"], outs["itm"]); d > 1e-6 {
		t.Errorf("rank scores differ from the ITM matched logits by %g", d)
	}

	// A finetuned retrieval checkpoint keeps its own rank_output.
	finetuned := randomCheckpoint(t, cfg, 2, HeadRank)
	store = newStore(2)
	if rep, err = LoadWeights(store, cfg, finetuned, HeadRank); err != nil || len(rep.Derived) != 0 {
		t.Fatalf("finetuned checkpoint: %v, report %s", err, rep)
	}
	if !slices.Equal(variableValues(t, store, "rank_output.weight"), tensors.MustCopyFlatData[float32](finetuned["rank_output.weight"])) {
		t.Error("a finetuned rank_output was replaced")
	}

	// NLVR2 from the pretrained checkpoint: the 2-row table grows to 3, row 2 = row 1.
	nlvr2 := cfg
	nlvr2.TypeVocabSize = NLVR2TypeVocabSize
	store = newStore(3)
	if rep, err = LoadWeights(store, nlvr2, pretrained, HeadNLVR2PairedAttn); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Derived, tokenTypeKey) || !strings.Contains(rep.String(), "derived") {
		t.Errorf("report %s: want the token type table derived", rep)
	}
	got := variableValues(t, store, tokenTypeKey)
	if !slices.Equal(got, append(slices.Clone(types), types[h:2*h]...)) {
		t.Error("token type table is not [row 0, row 1, row 1] of the checkpoint's")
	}
	// A checkpoint that has 3 rows already loads unchanged; into a 2-row model it is a shape error naming the key.
	grown := maps.Clone(pretrained)
	grown[tokenTypeKey] = tensors.FromFlatDataAndDimensions(append(slices.Clone(types), make([]float32, h)...), 3, h)
	store = newStore(4)
	if rep, err = LoadWeights(store, nlvr2, grown, HeadNLVR2PairedAttn); err != nil || slices.Contains(rep.Derived, tokenTypeKey) {
		t.Fatalf("3-row checkpoint: %v, report %s", err, rep)
	}
	if got := variableValues(t, store, tokenTypeKey); got[2*h] != 0 {
		t.Error("a 3-row token type table was replaced")
	}
	if _, err := LoadWeights(newStore(5), cfg, grown); err == nil || !strings.Contains(err.Error(), tokenTypeKey) {
		t.Errorf("3-row table into a 2-row model: error %v, want one naming %s", err, tokenTypeKey)
	}

	// SNLI-VE: vqa_output.3 has 3 rows whatever NumAnswers says; the VQA head with the same tensors is an error.
	ve := randomCheckpoint(t, cfg, 6, HeadVE)
	if rep, err := LoadWeights(newStore(6), cfg, ve, HeadVE); err != nil || len(rep.Missing)+len(rep.Unexpected) != 0 {
		t.Errorf("VE checkpoint: %v, report %s", err, rep)
	}
	if _, err := LoadWeights(newStore(7), cfg, ve, HeadVQA); err == nil {
		t.Error("a 3-answer vqa_output loaded into a VQA head")
	}
}

// TestDownstreamHeadsMatchParameterShapes checks that each downstream objective creates exactly the variables
// ParameterShapes lists for its head (so its checkpoints load by key), with ORIG's initialisation of the
// non-Linear parameters.
func TestDownstreamHeadsMatchParameterShapes(t *testing.T) {
	base := testConfig()
	for _, tc := range []struct {
		head  string
		types int
		build func(scope *model.Scope, cfg Config, x Inputs, g *Graph)
	}{
		{HeadRank, 2, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) { RetrievalScores(scope, cfg, x) }},
		{HeadNLVR2Paired, 3, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			NLVR2(scope, cfg, NLVR2Paired, NLVR2Inputs{Inputs: evenRows(x), Targets: Const(g, []int32{1})})
		}},
		{HeadNLVR2Triplet, 3, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			NLVR2(scope, cfg, NLVR2Triplet, NLVR2Inputs{Inputs: x, Targets: Const(g, []int32{1, 0, 1})})
		}},
		{HeadNLVR2PairedAttn, 3, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			NLVR2(scope, cfg, NLVR2PairedAttn, NLVR2Inputs{Inputs: evenRows(x), Targets: Const(g, []int32{1})})
		}},
		{HeadVE, 2, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			VisualEntailment(scope, cfg, VisualEntailmentInputs{Inputs: x, Targets: Zeros(g, shapesOf(3, 3))})
		}},
		{HeadRE, 2, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			ReferringExpression(scope, cfg, ReferringConfig{TrainLoss: ReferringLossCls, MLP: 1}, ReferringInputs{Inputs: x, Targets: Const(g, []int32{0, 1, 2})})
		}},
		{HeadREMLP, 2, func(scope *model.Scope, cfg Config, x Inputs, g *Graph) {
			ReferringExpression(scope, cfg, ReferringConfig{TrainLoss: ReferringLossRank, Margin: 0.2, HardRatio: 0.3, MLP: 2},
				ReferringInputs{Inputs: x, Targets: Const(g, []int32{0, 1, 2})})
		}},
	} {
		cfg := base
		cfg.TypeVocabSize = tc.types
		store := newStore(8)
		tb := newTinyBatch(cfg, 8)
		call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			x := named.Bind[Inputs](in)
			x.MRMMask = ZerosLike(x.ImgMask) // creates mask_embedding, which ParameterShapes lists
			tc.build(scope, cfg, x, x.InputIDs.Graph())
			return named.Nodes{"mask": x.TxtMask}
		})
		want, err := ParameterShapes(cfg, tc.head)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]int{}
		for v := range store.IterVariables() {
			if v.Trainable {
				got[KeyOfPath(v.Path())] = v.Shape().Dimensions
			}
		}
		for k, dims := range want {
			if !slices.Equal(got[k], dims) {
				t.Errorf("%s: variable %s has shape %v, want %v", tc.head, k, got[k], dims)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected variable %s", tc.head, k)
			}
		}
		switch tc.head {
		case HeadNLVR2PairedAttn:
			// MultiheadAttention's in_proj_weight: xavier-uniform, |w| ≤ √(6/(H+3H)); its biases 0.
			limit := float32(math.Sqrt(6 / float64(4*cfg.HiddenSize)))
			var maxW float32
			for _, w := range variableValues(t, store, "attn1.in_proj_weight") {
				maxW = max(maxW, abs32(w))
			}
			if maxW > limit || maxW < 0.8*limit {
				t.Errorf("attn1.in_proj_weight max |w| = %g, want just under the xavier limit %g", maxW, limit)
			}
			if slices.ContainsFunc(variableValues(t, store, "attn2.in_proj_bias"), func(b float32) bool { return b != 0 }) {
				t.Error("attn2.in_proj_bias is not zero")
			}
		case HeadREMLP:
			if slices.ContainsFunc(variableValues(t, store, "re_output.2.weight"), func(w float32) bool { return w != 1 }) {
				t.Error("re_output.2.weight (LayerNorm) is not one")
			}
		}
	}
	if _, err := ParameterShapes(base, "nlvr3"); err == nil || !strings.Contains(err.Error(), HeadNLVR2PairedAttn) {
		t.Errorf("unknown head: error %v, want the list of known heads", err)
	}
}

// evenRows keeps rows 0 and 1 of x: one NLVR2 pair.
func evenRows(x Inputs) Inputs {
	return gatherRows(x, Reshape(Const(x.InputIDs.Graph(), []int32{0, 1}), 2, 1))
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
