package uniter

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/uniter-go/uniter/internal/backend"
)

func testBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := testBackendB()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testBackendB() (compute.Backend, error) { return backend.Shared() }

// call builds and runs fn once on the store and returns the outputs as flat float32 slices.
func call(t *testing.T, store *model.Store, fn func(scope *model.Scope, in []*Node) []*Node, args ...any) [][]float32 {
	t.Helper()
	exec, err := model.NewExec(testBackend(t), store, fn)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		res[i] = tensors.MustCopyFlatData[float32](o)
	}
	return res
}

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

// randomInputs builds a tiny batch: B=3, Lt=6, Nr=5, with padding in examples 1 and 2.
type tinyBatch struct {
	ids                 [][]int32
	txtMask, imgMask    [][]float32
	feat, pos           [][][]float32
	txtLens, regionLens []int
}

func newTinyBatch(cfg Config, seed uint64) *tinyBatch {
	r := rand.New(rand.NewPCG(seed, 1))
	const b, lt, nr = 3, 6, 5
	tb := &tinyBatch{txtLens: []int{6, 4, 3}, regionLens: []int{5, 2, 4}}
	for i := range b {
		ids, tm := make([]int32, lt), make([]float32, lt)
		for j := range tb.txtLens[i] {
			ids[j], tm[j] = int32(1000+r.IntN(cfg.VocabSize-1000)), 1
		}
		ids[0], ids[tb.txtLens[i]-1] = 101, 102
		feat, pos, im := make([][]float32, nr), make([][]float32, nr), make([]float32, nr)
		for j := range nr {
			feat[j], pos[j] = make([]float32, cfg.ImgDim), make([]float32, cfg.PosDim)
			if j < tb.regionLens[i] {
				im[j] = 1
				for k := range feat[j] {
					feat[j][k] = float32(r.ExpFloat64())
				}
				for k := range pos[j] {
					pos[j][k] = r.Float32()
				}
			}
		}
		tb.ids, tb.txtMask, tb.imgMask = append(tb.ids, ids), append(tb.txtMask, tm), append(tb.imgMask, im)
		tb.feat, tb.pos = append(tb.feat, feat), append(tb.pos, pos)
	}
	return tb
}

func (tb *tinyBatch) args() []any { return []any{tb.ids, tb.txtMask, tb.feat, tb.pos, tb.imgMask} }

func inputsOf(in []*Node) Inputs {
	return Inputs{InputIDs: in[0], TxtMask: in[1], ImgFeat: in[2], ImgPos: in[3], ImgMask: in[4]}
}

func testConfig() Config {
	c := Tiny()
	c.VocabSize, c.ImgDim, c.NumAnswers = 2000, 32, 16
	return c
}

func newStore(seed int64) *model.Store {
	s := model.NewStore()
	s.SetParam(model.ParamInitialSeed, seed)
	return s
}

func TestVariablesMatchParameterShapes(t *testing.T) {
	cfg := testConfig()
	store := newStore(1)
	tb := newTinyBatch(cfg, 1)
	call(t, store, func(scope *model.Scope, in []*Node) []*Node {
		inputs := inputsOf(in)
		inputs.MRMMask = inputs.ImgMask
		out := Backbone(scope, cfg, inputs, Options{})
		pos := Const(in[0].Graph(), [][]int32{{0, 1}, {1, 2}})
		seqRows := GatherPositions(out.Sequence, pos)
		return []*Node{VQAHead(scope, cfg, out.Pooled), ImageTextMatchingHead(scope, cfg, out.Pooled),
			MaskedLanguageModelingHead(scope, cfg, seqRows), RegionFeatureRegressionHead(scope, cfg, seqRows),
			RegionClassificationHead(scope, cfg, seqRows)}
	}, tb.args()...)
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
	fn := func(scope *model.Scope, in []*Node) []*Node {
		inputs := inputsOf(in)
		if len(in) > 5 {
			inputs.MRMMask = in[5]
		}
		out := Backbone(scope, cfg, inputs, Options{})
		return []*Node{out.Sequence, out.Pooled}
	}
	tb := newTinyBatch(cfg, 3)
	base := call(t, store, fn, tb.args()...)
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
	changed := call(t, store, fn, tb.args()...)
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
				maxDiff = math.Max(maxDiff, math.Abs(float64(base[0][idx]-changed[0][idx])))
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
	withZeroMask := call(t, store, fn, append(tb.args(), zeros)...)
	if d := maxAbs(changed[1], withZeroMask[1]); d > 1e-6 {
		t.Errorf("all-zero MRM mask differs from no mask by %g", d)
	}
	row := tensors.MustCopyFlatData[float32](store.GetVariable(VariablePath(maskEmbeddingKey)).MustValue())
	for k := range cfg.ImgDim {
		if row[k] != 0 {
			t.Fatalf("mask_embedding.weight[0][%d] = %g, want 0", k, row[k])
		}
	}
}

func maxAbs(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestLossesOnKnownInputs(t *testing.T) {
	store := newStore(0)
	const answers, vocab = 3129, 28996
	target := make([]float32, 2048)
	var meanSq float64
	for i := range target {
		target[i] = float32(i%7) * 0.25
		meanSq += float64(target[i] * target[i])
	}
	meanSq /= float64(len(target))
	oneHot := make([]float32, 1601)
	oneHot[5] = 1
	outs := call(t, store, func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		vqaLogits := Zeros(g, shapesOf(2, answers))
		vqaTargets := Zeros(g, shapesOf(2, answers))
		mlm := Zeros(g, shapesOf(4, vocab))
		labels := Const(g, []int32{7, 100, 2000, 28000})
		itm := Zeros(g, shapesOf(3, 2))
		itmLabels := Const(g, []int32{1, 0, 1})
		mrc := Zeros(g, shapesOf(1, 1601))
		mrcT := Reshape(in[1], 1, 1601)
		pred := Zeros(g, shapesOf(1, 2048))
		tgt := Reshape(in[0], 1, 2048)
		return []*Node{VQALoss(vqaLogits, vqaTargets, nil), MaskedLanguageModelingLoss(mlm, labels, nil),
			ImageTextMatchingLoss(itm, itmLabels, nil), RegionClassificationKLLoss(mrc, mrcT, nil),
			RegionFeatureRegressionLoss(pred, tgt, nil), RegionClassificationLoss(mrc, mrcT, nil)}
	}, target, oneHot)
	for _, c := range []struct {
		name string
		got  float32
		want float64
	}{
		{"VQA zero logits", outs[0][0], math.Ln2 * answers},
		{"MLM uniform", outs[1][0], math.Log(vocab)},
		{"ITM zero logits", outs[2][0], math.Ln2},
		{"MRC-kl one-hot vs uniform (ORIG element mean)", outs[3][0], math.Log(1601) / 1601},
		{"MRFR zero prediction", outs[4][0], meanSq},
		{"MRC hard uniform", outs[5][0], math.Log(1601)},
	} {
		if math.Abs(float64(c.got)-c.want) > 1e-4*math.Max(1, c.want) {
			t.Errorf("%s: got %.7g, want %.7g", c.name, c.got, c.want)
		}
	}
	if math.Abs(float64(outs[3][0])-0.0046086) > 1e-6 {
		t.Errorf("MRC-kl %g, spec value 0.0046086", outs[3][0])
	}
}

func TestIPOTMarginalsAndRange(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const b, m, n, h = 2, 5, 4, 8
	randT := func() [][][]float32 {
		x := make([][][]float32, b)
		for i := range x {
			x[i] = make([][]float32, 0, m)
		}
		return x
	}
	txt, img := randT(), randT()
	for i := range b {
		for range m {
			row := make([]float32, h)
			for k := range row {
				row[k] = float32(r.NormFloat64())
			}
			txt[i] = append(txt[i], row)
		}
		for range n {
			row := make([]float32, h)
			for k := range row {
				row[k] = float32(r.NormFloat64())
			}
			img[i] = append(img[i], row)
		}
	}
	txtMask := [][]float32{{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}
	imgMask := [][]float32{{1, 1, 1, 1}, {1, 1, 0, 0}}
	// Example 1 of the identical-sets check: the regions are the first real text tokens.
	same := [][][]float32{txt[0][:4], txt[0][:4]}
	sameTxtMask := [][]float32{{1, 1, 1, 1}, {1, 1, 1, 1}}
	outs := call(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		cost := CosineCost(in[0], in[1], in[2], in[3])
		plan := IPOT(cost, in[2], in[3], DefaultIPOT())
		dist := OptimalTransportDistance(in[0], in[1], in[2], in[3], DefaultIPOT())
		sameDist := OptimalTransportDistance(in[4], in[4], in[5], in[5], DefaultIPOT())
		return []*Node{plan, dist, sameDist}
	}, txt, img, txtMask, imgMask, same, sameTxtMask)
	plan, dist, sameDist := outs[0], outs[1], outs[2]
	nt, ni := []int{5, 3}, []int{4, 2}
	for i := range b {
		var total float64
		for mm := range m {
			var col float64
			for nn := range n {
				v := float64(plan[(i*n+nn)*m+mm])
				if (mm >= nt[i] || nn >= ni[i]) && v != 0 {
					t.Errorf("example %d: padded entry T[%d,%d] = %g", i, nn, mm, v)
				}
				col += v
			}
			total += col
			if mm < nt[i] && math.Abs(col-1/float64(nt[i])) > 1e-6 {
				t.Errorf("example %d: text column %d sums to %g, want 1/%d", i, mm, col, nt[i])
			}
		}
		for nn := range ni[i] {
			var row float64
			for mm := range m {
				row += float64(plan[(i*n+nn)*m+mm])
			}
			if math.Abs(row-1/float64(ni[i])) > 0.02/float64(ni[i]) {
				t.Errorf("example %d: region row %d sums to %g, want ≈1/%d", i, nn, row, ni[i])
			}
		}
		if math.Abs(total-1) > 1e-5 {
			t.Errorf("example %d: total mass %g", i, total)
		}
		if dist[i] < 0 || dist[i] > 2 {
			t.Errorf("example %d: distance %g outside [0,2]", i, dist[i])
		}
		if sameDist[i] > 0.02 {
			t.Errorf("identical sets: distance %g, want ≈0", sameDist[i])
		}
	}
}

func TestWordRegionAlignmentLoss(t *testing.T) {
	outs := call(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		allPos := Const(g, []int32{1, 1, 1, 1})
		mixed := Const(g, []int32{1, 0, 1, 0})
		return []*Node{WordRegionAlignmentLoss(in[0], allPos, nil), WordRegionAlignmentLoss(in[0], mixed, nil),
			ImageTextMatchingWithWRALoss(ScalarOne(g, in[0].DType()), ReduceAllSum(in[0]), 0.1)}
	}, []float32{0.2, 0.4, 0.6, 1.0})
	if want := float32(0.55); math.Abs(float64(outs[0][0]-want)) > 1e-6 {
		t.Errorf("all positives: %g, want mean distance %g", outs[0][0], want)
	}
	if want := float32((0.2 - 0.4 + 0.6 - 1.0) / 4); math.Abs(float64(outs[1][0]-want)) > 1e-6 {
		t.Errorf("mixed: %g, want %g", outs[1][0], want)
	}
	if want := float32(1 + 0.1*2.2); math.Abs(float64(outs[2][0]-want)) > 1e-6 {
		t.Errorf("itm + 0.1·ot: %g, want %g", outs[2][0], want)
	}
}

// TestTiedWeightsGetGradientsFromBothUses checks invariant 6: the MLM decoder is the word-embedding variable and
// the MRFR projection is img_linear's weight, and the loss gradient reaches them through the heads too.
func TestTiedWeightsGetGradientsFromBothUses(t *testing.T) {
	cfg := testConfig()
	store := newStore(3)
	tb := newTinyBatch(cfg, 5)
	outs := call(t, store, func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		out := Backbone(scope, cfg, inputsOf(in), Options{})
		rows := GatherPositions(out.Sequence, Const(g, [][]int32{{0, 1}, {2, 7}}))
		mlm := MaskedLanguageModelingLoss(MaskedLanguageModelingHead(scope, cfg, rows), Const(g, []int32{1500, 1999}), nil)
		mrfr := RegionFeatureRegressionLoss(RegionFeatureRegressionHead(scope, cfg, rows), Ones(g, shapesOf(2, cfg.ImgDim)), nil)
		words := store.GetVariable(VariablePath("uniter.embeddings.word_embeddings.weight")).NodeValue(g)
		imgW := store.GetVariable(VariablePath("uniter.img_embeddings.img_linear.weight")).NodeValue(g)
		grads := Gradient(Add(mlm, mrfr), words, imgW)
		// Row 1999 of the embeddings never appears in the input: only the decoder use can give it a gradient.
		unusedRow := Slice(grads[0], AxisRange(1999, 2000))
		return []*Node{ReduceAllSum(Abs(unusedRow)), ReduceAllSum(Abs(grads[1]))}
	}, tb.args()...)
	if outs[0][0] == 0 {
		t.Error("no gradient reached the word embeddings through the tied MLM decoder")
	}
	if outs[1][0] == 0 {
		t.Error("no gradient reached img_linear.weight")
	}
}
