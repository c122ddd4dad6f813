package report

import (
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/experiments/runner"
)

// codedProbs returns probs[l][h][q][k] = 1000l + 100h + 10q + k over L = lt+nr positions.
func codedProbs(layers, heads, l int) [][][][]float32 {
	p := make([][][][]float32, layers)
	for a := range p {
		p[a] = make([][][]float32, heads)
		for h := range p[a] {
			p[a][h] = make([][]float32, l)
			for q := range l {
				p[a][h][q] = make([]float32, l)
				for k := range l {
					p[a][h][q][k] = float32(1000*a + 100*h + 10*q + k)
				}
			}
		}
	}
	return p
}

func TestWordRegionAttentionPicksTextQueriesAndRegionKeys(t *testing.T) {
	// Text: 4 slots (3 real), regions: 3 slots (2 real); L = 7, region keys start at 4.
	probs := codedProbs(2, 3, 7)
	m, err := WordRegionAttention(probs, 1, 2, 4, 3, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{1204, 1205}, {1214, 1215}, {1224, 1225}}
	if !equalMatrix(m, want) {
		t.Errorf("layer 1 head 2: got %v, want %v", m, want)
	}
	// LastLayer is layer 1; AllHeads averages 100h over h = 0, 1, 2 → +100.
	m, err = WordRegionAttention(probs, LastLayer, AllHeads, 4, 3, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	want = [][]float32{{1104, 1105}, {1114, 1115}, {1124, 1125}}
	if !equalMatrix(m, want) {
		t.Errorf("last layer, mean of heads: got %v, want %v", m, want)
	}
	for _, tc := range []struct {
		name                                string
		layer, head, lt, nr, txtLen, nbb, l int
	}{
		{"layer too large", 2, 0, 4, 3, 3, 2, 7},
		{"negative layer", -2, 0, 4, 3, 3, 2, 7},
		{"head too large", 0, 3, 4, 3, 3, 2, 7},
		{"more tokens than slots", 0, 0, 4, 3, 5, 2, 7},
		{"no regions", 0, 0, 4, 3, 3, 0, 7},
		{"layout longer than the matrix", 0, 0, 5, 3, 3, 2, 7},
	} {
		if _, err := WordRegionAttention(codedProbs(2, 3, tc.l), tc.layer, tc.head, tc.lt, tc.nr, tc.txtLen, tc.nbb); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ragged := codedProbs(1, 1, 7)
	ragged[0][0][1] = ragged[0][0][1][:5]
	if _, err := WordRegionAttention(ragged, 0, 0, 4, 3, 3, 2); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("ragged row: error %v", err)
	}
	if _, err := WordRegionAttention(nil, 0, 0, 4, 3, 3, 2); err == nil {
		t.Error("no layers: no error")
	}
}

func TestRegionAndTokenWeights(t *testing.T) {
	m := [][]float32{{0.1, 0.3, 0.2}, {0.3, 0.1, 0.0}}
	if got, want := RegionWeights(m), []float32{0.2, 0.2, 0.1}; !closeSlice(got, want, 1e-7) {
		t.Errorf("RegionWeights = %v, want %v", got, want)
	}
	if got, want := TokenWeights(m), []float32{0.6, 0.4}; !closeSlice(got, want, 1e-7) {
		t.Errorf("TokenWeights = %v, want %v", got, want)
	}
	if RegionWeights(nil) != nil || len(TokenWeights(nil)) != 0 {
		t.Error("empty matrix: non-empty weights")
	}
}

func TestCurves(t *testing.T) {
	recs := []runner.Record{
		{Step: 10, Metrics: map[string]float64{"train/d/masked_lm_loss": 5, "train/total_loss": 6, "train/lr": 1e-4}},
		{Step: 20, Metrics: map[string]float64{"train/d/masked_lm_loss": math.NaN(), "train/total_loss": 4}},
		{Step: 20, Metrics: map[string]float64{"val/d/masked_lm_loss": 4.5, "val/d/mlm_accuracy": 0.3, "val/total_loss": 4.5}},
		{Step: 30, Metrics: map[string]float64{"train/d/masked_lm_loss": 3, "val/d/logit_bce": 2, "val/d/r_mean": 0.25, "val/d/img_r_mean": 0.2}},
	}
	losses := LossCurves(recs)
	var names []string
	for _, s := range losses {
		names = append(names, s.Name)
	}
	if want := []string{"train/masked_lm_loss", "train/total_loss", "val/logit_bce", "val/masked_lm_loss", "val/total_loss"}; !slices.Equal(names, want) {
		t.Fatalf("loss series %v, want %v", names, want)
	}
	if s := losses[0]; !slices.Equal(s.X, []float64{10, 30}) || !slices.Equal(s.Y, []float64{5, 3}) {
		t.Errorf("train/masked_lm_loss: X %v Y %v, want [10 30] [5 3] (the NaN left out)", s.X, s.Y)
	}
	acc := AccuracyCurves(recs)
	if len(acc) != 2 || acc[0].Name != "val/mlm_accuracy" || acc[0].Y[0] != 0.3 || acc[1].Name != "val/r_mean" || acc[1].Y[0] != 0.25 {
		t.Errorf("accuracy series %+v", acc)
	}
	charts := TaskCharts(recs)
	var titles []string
	for _, c := range charts {
		titles = append(titles, c.Title)
	}
	if want := []string{"logit_bce", "masked_lm_loss", "mlm_accuracy", "r_mean"}; !slices.Equal(titles, want) {
		t.Fatalf("task charts %v, want %v", titles, want)
	}
	if c := charts[3]; c.YLabel != "accuracy" || !slices.Equal(c.YInclude, []float64{0, 1}) {
		t.Errorf("r_mean chart %+v: not drawn as an accuracy", c)
	}
	if s := charts[1].Series; len(s) != 2 || s[0].Name != "train/masked_lm_loss" || s[1].Name != "val/masked_lm_loss" {
		t.Errorf("masked_lm_loss chart series %+v", s)
	}
	if l := Latest(recs); l["train/d/masked_lm_loss"] != 3 || l["train/total_loss"] != 4 || l["train/lr"] != 1e-4 {
		t.Errorf("Latest = %v", l)
	}
	html, err := ChartsHTML(charts...)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html, "<svg"); n != 4 {
		t.Errorf("ChartsHTML has %d SVGs, want 4", n)
	}
	if got := MajorityAnswer([]string{"2", "3", "3", "2", "3"}); got != "3" {
		t.Errorf("MajorityAnswer = %q, want 3", got)
	}
}

func TestDrawAttentionWithoutImage(t *testing.T) {
	probs := codedProbs(1, 2, 5) // 3 tokens, 2 regions
	am := &runner.AttentionMap{Text: "a red cube", Tokens: []string{"[CLS]", "cube", "[SEP]"},
		Boxes: [][4]float32{{10, 10, 50, 40}, {60, 20, 150, 90}}, Probs: probs}
	v, err := DrawAttention(am, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]float32{{103, 104}, {113, 114}, {123, 124}}; !equalMatrix(v.Matrix, want) {
		t.Errorf("matrix %v, want %v", v.Matrix, want)
	}
	if b := v.Scene.Bounds(); b.Dx() != 6*150 || b.Dy() != 6*90 {
		t.Errorf("scene %v, want the 150×90 blank canvas holding every box, enlarged 6× to a side ≥ 480", b)
	}
	if got := heatmapValues(t, v.Heatmap); !closeSlice(got, flatten(v.Matrix), 1e-3) {
		t.Errorf("heat map tooltips %v, matrix %v", got, v.Matrix)
	}
	if !strings.Contains(v.Tokens, ">cube<") {
		t.Errorf("tokens HTML lacks the token: %s", v.Tokens)
	}
	am.ImagePath = t.TempDir() + "/missing.png"
	if _, err := DrawAttention(am, 0, 0); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing image: error %v", err)
	}
}

func TestStretch(t *testing.T) {
	if got, want := stretch([]float32{0.04, 0.05, 0.06}), []float32{0, 0.5, 1}; !closeSlice(got, want, 1e-6) {
		t.Errorf("stretch = %v, want %v", got, want)
	}
	if got := stretch([]float32{0.3, 0.3}); !slices.Equal(got, []float32{1, 1}) {
		t.Errorf("stretch of equal weights = %v, want all 1", got)
	}
}

func TestEnlarge(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 110, 70)) // 100×50, not at the origin
	img.Set(10, 20, color.RGBA{255, 0, 0, 255})
	img.Set(109, 69, color.RGBA{0, 0, 255, 255})
	big, boxes := Enlarge(img, [][4]float32{{1, 2, 30.5, 40}}, 120)
	if b := big.Bounds(); b != image.Rect(0, 0, 300, 150) {
		t.Fatalf("enlarged bounds %v, want 300×150 (factor 3)", b)
	}
	if boxes[0] != [4]float32{3, 6, 91.5, 120} {
		t.Errorf("scaled box %v", boxes[0])
	}
	for _, p := range []struct {
		x, y int
		want color.RGBA
	}{{0, 0, color.RGBA{255, 0, 0, 255}}, {2, 2, color.RGBA{255, 0, 0, 255}}, {3, 0, color.RGBA{}}, {299, 149, color.RGBA{0, 0, 255, 255}}} {
		if got := color.RGBAModel.Convert(big.At(p.x, p.y)); got != p.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", p.x, p.y, got, p.want)
		}
	}
	same, _ := Enlarge(img, nil, 50)
	if same != image.Image(img) {
		t.Error("an image with a side ≥ minSide was copied")
	}
}

func equalMatrix(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool { return slices.Equal(x, y) })
}

func closeSlice(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*math.Max(1, math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func flatten(m [][]float32) []float32 {
	var out []float32
	for _, row := range m {
		out = append(out, row...)
	}
	return out
}
