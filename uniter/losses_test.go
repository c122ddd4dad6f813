package uniter

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

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
	outs := call(t, store, map[string]any{"features": target, "classes": oneHot}, func(scope *model.Scope, in named.Nodes) named.Nodes {
		g := in["features"].Graph()
		mrc := Zeros(g, shapesOf(1, 1601))
		mrcT := Reshape(in["classes"], 1, 1601)
		return named.Nodes{
			"VQA zero logits": VQALoss(Zeros(g, shapesOf(2, answers)), Zeros(g, shapesOf(2, answers)), nil),
			"MLM uniform":     MaskedLanguageModelingLoss(Zeros(g, shapesOf(4, vocab)), Const(g, []int32{7, 100, 2000, 28000}), nil),
			"ITM zero logits": ImageTextMatchingLoss(Zeros(g, shapesOf(3, 2)), Const(g, []int32{1, 0, 1}), nil),
			"MRC-kl one-hot vs uniform (ORIG element mean)": RegionClassificationKLLoss(mrc, mrcT, nil),
			"MRFR zero prediction":                          RegionFeatureRegressionLoss(Zeros(g, shapesOf(1, 2048)), Reshape(in["features"], 1, 2048), nil),
			"MRC hard uniform":                              RegionClassificationLoss(mrc, mrcT, nil),
		}
	})
	for name, want := range map[string]float64{
		"VQA zero logits": math.Ln2 * answers,
		"MLM uniform":     math.Log(vocab),
		"ITM zero logits": math.Ln2,
		"MRC-kl one-hot vs uniform (ORIG element mean)": math.Log(1601) / 1601,
		"MRFR zero prediction":                          meanSq,
		"MRC hard uniform":                              math.Log(1601),
	} {
		if got := outs[name][0]; math.Abs(float64(got)-want) > 1e-4*math.Max(1, want) {
			t.Errorf("%s: got %.7g, want %.7g", name, got, want)
		}
	}
	// ORIG's F.kl_div(reduction='none').mean() of this case: log(1601)/1601.
	if got := outs["MRC-kl one-hot vs uniform (ORIG element mean)"][0]; math.Abs(float64(got)-0.0046086) > 1e-6 {
		t.Errorf("MRC-kl %g, ORIG's value 0.0046086", got)
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
	in := map[string]any{"txt": txt, "img": img, "txtMask": txtMask, "imgMask": imgMask, "same": same, "sameMask": sameTxtMask}
	outs := call(t, newStore(0), in, func(scope *model.Scope, in named.Nodes) named.Nodes {
		cost := cosineCost(in["txt"], in["img"], in["txtMask"], in["imgMask"])
		return named.Nodes{
			"plan":     IPOT(cost, in["txtMask"], in["imgMask"], DefaultIPOT()),
			"dist":     OptimalTransportDistance(in["txt"], in["img"], in["txtMask"], in["imgMask"], DefaultIPOT()),
			"sameDist": OptimalTransportDistance(in["same"], in["same"], in["sameMask"], in["sameMask"], DefaultIPOT()),
		}
	})
	plan, dist, sameDist := outs["plan"], outs["dist"], outs["sameDist"]
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
	outs := call(t, newStore(0), map[string]any{"dist": []float32{0.2, 0.4, 0.6, 1.0}}, func(scope *model.Scope, in named.Nodes) named.Nodes {
		g, dist := in["dist"].Graph(), in["dist"]
		return named.Nodes{
			"all positives": WordRegionAlignmentLoss(dist, Const(g, []int32{1, 1, 1, 1}), nil),
			"mixed":         WordRegionAlignmentLoss(dist, Const(g, []int32{1, 0, 1, 0}), nil),
			"itm+wra":       ImageTextMatchingWithWRALoss(ScalarOne(g, dist.DType()), ReduceAllSum(dist), 0.1),
		}
	})
	if want := float32(0.55); math.Abs(float64(outs["all positives"][0]-want)) > 1e-6 {
		t.Errorf("all positives: %g, want mean distance %g", outs["all positives"][0], want)
	}
	if want := float32((0.2 - 0.4 + 0.6 - 1.0) / 4); math.Abs(float64(outs["mixed"][0]-want)) > 1e-6 {
		t.Errorf("mixed: %g, want %g", outs["mixed"][0], want)
	}
	if want := float32(1 + 0.1*2.2); math.Abs(float64(outs["itm+wra"][0]-want)) > 1e-6 {
		t.Errorf("itm + 0.1·ot: %g, want %g", outs["itm+wra"][0], want)
	}
}
