package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

func TestParameterCounts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		heads []string
		want  int
	}{
		{"base backbone", Base(), nil, 109_898_752},
		{"large backbone", Large(), nil, 335_695_872},
	} {
		s, err := ParameterShapes(tc.cfg, tc.heads...)
		if err != nil {
			t.Fatal(err)
		}
		if got := CountParameters(s); got != tc.want {
			t.Errorf("%s: %d parameters, want %d", tc.name, got, tc.want)
		}
	}
	backbone, _ := ParameterShapes(Base())
	withVQA, _ := ParameterShapes(Base(), HeadVQA)
	if got := CountParameters(withVQA) - CountParameters(backbone); got != 5_993_529 {
		t.Errorf("base VQA head: %d parameters, want 5,993,529", got)
	}
	if _, err := ParameterShapes(Base(), "nlvr2"); err == nil {
		t.Error("unknown head accepted")
	}
}

func TestVariablesMatchParameterShapes(t *testing.T) {
	cfg := testConfig()
	store := newStore(1)
	tb := newTinyBatch(cfg, 1)
	call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		inputs := named.Bind[Inputs](in)
		inputs.MRMMask = inputs.ImgMask
		out := Backbone(scope, cfg, inputs, Options{})
		seqRows := gatherPositions(out.Sequence, Const(out.Pooled.Graph(), [][]int32{{0, 1}, {1, 2}}))
		return named.Nodes{"vqa": VQAHead(scope, cfg, out.Pooled), "itm": ImageTextMatchingHead(scope, cfg, out.Pooled),
			"mlm": MaskedLanguageModelingHead(scope, cfg, seqRows), "mrfr": RegionFeatureRegressionHead(scope, cfg, seqRows),
			"mrc": RegionClassificationHead(scope, cfg, seqRows)}
	})
	want, _ := ParameterShapes(cfg, AllHeads...)
	got := map[string][]int{}
	for v := range store.IterVariables() {
		if v.Trainable {
			got[KeyOfPath(v.Path())] = v.Shape().Dimensions
		}
	}
	for k, dims := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("variable for %s not created", k)
		} else if len(g) != len(dims) || CountParameters(map[string][]int{k: g}) != CountParameters(map[string][]int{k: dims}) {
			t.Errorf("variable %s has shape %v, want %v", k, g, dims)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s (tied weights must not get their own variable)", k)
		}
	}
}

func TestPaddingInvarianceAndMaskEmbedding(t *testing.T) {
	cfg := testConfig()
	store := newStore(2)
	fn := func(scope *model.Scope, in named.Nodes) named.Nodes {
		out := Backbone(scope, cfg, named.Bind[Inputs](in), Options{})
		return named.Nodes{"seq": out.Sequence, "pooled": out.Pooled}
	}
	tb := newTinyBatch(cfg, 3)
	base := call(t, store, tb.inputs(nil), fn)
	// Garbage at padded positions must not move any real position.
	for i := range tb.ids {
		for j := tb.txtLens[i]; j < len(tb.ids[i]); j++ {
			tb.ids[i][j] = 1234
		}
		for j := tb.regionLens[i]; j < len(tb.feat[i]); j++ {
			for k := range tb.feat[i][j] {
				tb.feat[i][j][k] = 5
			}
			tb.pos[i][j][0] = 0.7
		}
	}
	changed := call(t, store, tb.inputs(nil), fn)
	const lt, nr, h = 6, 5, 64
	var maxDiff float64
	for i := range 3 {
		for p := range lt + nr {
			real := (p < lt && p < tb.txtLens[i]) || (p >= lt && p-lt < tb.regionLens[i])
			if !real {
				continue
			}
			for k := range h {
				idx := (i*(lt+nr)+p)*h + k
				maxDiff = math.Max(maxDiff, math.Abs(float64(base["seq"][idx]-changed["seq"][idx])))
			}
		}
	}
	if maxDiff > 1e-5 {
		t.Errorf("padding changed real outputs by %g", maxDiff)
	}
	// A nil MRM mask equals an all-zero one (mask_embedding row 0 is zero).
	zeros := make([][]float32, 3)
	for i := range zeros {
		zeros[i] = make([]float32, nr)
	}
	withZeroMask := call(t, store, tb.inputs(map[string]any{"MRMMask": zeros}), fn)
	if d := maxAbs(changed["pooled"], withZeroMask["pooled"]); d > 1e-6 {
		t.Errorf("all-zero MRM mask differs from no mask by %g", d)
	}
	row := tensors.MustCopyFlatData[float32](store.GetVariable(VariablePath(maskEmbeddingKey)).MustValue())
	for k := range cfg.ImgDim {
		if row[k] != 0 {
			t.Fatalf("mask_embedding.weight[0][%d] = %g, want 0", k, row[k])
		}
	}
}

// TestDropoutMaskAndGradient checks dropout in training mode: each element is either 0 or x/(1-rate), about rate of
// them are 0, the gradient is the same mask, and evaluation mode is the identity.
func TestDropoutMaskAndGradient(t *testing.T) {
	const n, rate = 4000, 0.25
	x := make([]float32, n)
	for i := range x {
		x[i] = 1 + float32(i%5)
	}
	for _, training := range []bool{true, false} {
		store := newStore(4)
		outs := call(t, store, map[string]any{"x": x}, func(scope *model.Scope, in named.Nodes) named.Nodes {
			store.SetTraining(in["x"].Graph(), training)
			y := dropout(scope, in["x"], rate)
			return named.Nodes{"y": y, "grad": Gradient(ReduceAllSum(y), in["x"])[0]}
		})
		y, grad := outs["y"], outs["grad"]
		var zeros int
		for i := range x {
			switch {
			case !training && (y[i] != x[i] || grad[i] != 1):
				t.Fatalf("evaluation: element %d is %g (gradient %g), want %g (1)", i, y[i], grad[i], x[i])
			case training && y[i] == 0 && grad[i] == 0:
				zeros++
			case training && (math.Abs(float64(y[i]-x[i]/(1-rate))) > 1e-5 || math.Abs(float64(grad[i]-1/(1-rate))) > 1e-6):
				t.Fatalf("training: element %d is %g (gradient %g), want 0 or %g (%g)", i, y[i], grad[i], x[i]/(1-rate), 1/(1-rate))
			}
		}
		if frac := float64(zeros) / n; training && math.Abs(frac-rate) > 0.03 {
			t.Errorf("training: %.3f of the elements dropped, want about %g", frac, rate)
		}
	}
}

// TestPooledOnlyMatchesFullBackbone checks that Options.PooledOnly changes neither the pooled output nor the
// [CLS] row of the last layer, with padding in the batch, and that gradients flow the same.
func TestPooledOnlyMatchesFullBackbone(t *testing.T) {
	cfg := testConfig()
	tb := newTinyBatch(cfg, 9)
	var outs [2]map[string][]float32
	for i, pooledOnly := range []bool{false, true} {
		store := newStore(6)
		outs[i] = call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
			out := Backbone(scope, cfg, named.Bind[Inputs](in), Options{PooledOnly: pooledOnly})
			cls := Slice(out.Sequence, AxisRange(), AxisRange(0, 1))
			w := store.GetVariable(VariablePath("uniter.encoder.layer.0.attention.self.key.weight")).NodeValue(cls.Graph())
			return named.Nodes{"pooled": out.Pooled, "[CLS] row": cls,
				"gradient of a first-layer weight": Gradient(ReduceAllSum(Sin(out.Pooled)), w)[0]}
		})
	}
	for what := range outs[0] {
		if d := maxAbs(outs[0][what], outs[1][what]); d > 1e-5 {
			t.Errorf("PooledOnly changes the %s by %g", what, d)
		}
	}
}

// TestTiedWeightsGetGradientsFromBothUses checks that the MLM decoder is the word-embedding variable and the MRFR
// projection is img_linear's weight (ORIG model/pretrain.py ties them), and that the loss gradient reaches them
// through the heads too.
func TestTiedWeightsGetGradientsFromBothUses(t *testing.T) {
	cfg := testConfig()
	store := newStore(3)
	tb := newTinyBatch(cfg, 5)
	outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		out := Backbone(scope, cfg, named.Bind[Inputs](in), Options{})
		g := out.Pooled.Graph()
		rows := gatherPositions(out.Sequence, Const(g, [][]int32{{0, 1}, {2, 7}}))
		mlm := MaskedLanguageModelingLoss(MaskedLanguageModelingHead(scope, cfg, rows), Const(g, []int32{1500, 1999}), nil)
		mrfr := RegionFeatureRegressionLoss(RegionFeatureRegressionHead(scope, cfg, rows), Ones(g, shapesOf(2, cfg.ImgDim)), nil)
		words := store.GetVariable(VariablePath("uniter.embeddings.word_embeddings.weight")).NodeValue(g)
		imgW := store.GetVariable(VariablePath("uniter.img_embeddings.img_linear.weight")).NodeValue(g)
		grads := Gradient(Add(mlm, mrfr), words, imgW)
		// Row 1999 of the embeddings never appears in the input: only the decoder use can give it a gradient.
		unusedRow := Slice(grads[0], AxisRange(1999, 2000))
		return named.Nodes{"unused row": ReduceAllSum(Abs(unusedRow)), "img_linear": ReduceAllSum(Abs(grads[1]))}
	})
	if outs["unused row"][0] == 0 {
		t.Error("no gradient reached the word embeddings through the tied MLM decoder")
	}
	if outs["img_linear"][0] == 0 {
		t.Error("no gradient reached img_linear.weight")
	}
}
