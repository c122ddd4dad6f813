package viz

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// element is one start tag of a parsed SVG document, with the text directly inside it.
type element struct {
	Name  string
	Attrs map[string]string
	Text  string
}

// parseXML checks that doc is well-formed XML and returns its elements in document order.
func parseXML(t *testing.T, doc string) []element {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var elems []element
	var open []int // indices into elems of the open elements
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.Attrs[a.Name.Local] = a.Value
			}
			elems = append(elems, e)
			open = append(open, len(elems)-1)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				elems[open[len(open)-1]].Text += string(tok)
			}
		}
	}
	return elems
}

// byClass returns the elements with the given name and class attribute.
func byClass(elems []element, name, class string) []element {
	var out []element
	for _, e := range elems {
		if e.Name == name && e.Attrs["class"] == class {
			out = append(out, e)
		}
	}
	return out
}

// texts returns the text of each element.
func texts(elems []element) []string {
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = e.Text
	}
	return out
}

var reNumber = regexp.MustCompile(`-?[0-9.]+`)

// pathPoints returns the absolute points of a path's d attribute (its "l0 0" dots are skipped).
func pathPoints(t *testing.T, d string) [][2]float64 {
	t.Helper()
	var pts [][2]float64
	for _, part := range regexp.MustCompile(`[ML][^ML]*`).FindAllString(d, -1) {
		nums := reNumber.FindAllString(part, 2)
		if len(nums) != 2 {
			t.Fatalf("bad path segment %q in %q", part, d)
		}
		x, _ := strconv.ParseFloat(nums[0], 64)
		y, _ := strconv.ParseFloat(nums[1], 64)
		pts = append(pts, [2]float64{x, y})
	}
	return pts
}

func TestLineChartSVG(t *testing.T) {
	chart := LineChart{
		Title:  "loss <train & val>",
		YLabel: "loss",
		Series: []Series{
			{Name: "train", X: []float64{0, 10, 20, 30}, Y: []float64{4, 3, 2.5, 2}},
			{Name: "val", X: []float64{0, 15, 30}, Y: []float64{4.2, math.NaN(), 2.4}},
			{Name: "lr", Y: []float64{1, 2}}, // nil X: steps 0 and 1
		},
	}
	svg, err := chart.SVG()
	if err != nil {
		t.Fatal(err)
	}
	elems := parseXML(t, svg)
	if elems[0].Name != "svg" || elems[0].Attrs["xmlns"] != "http://www.w3.org/2000/svg" {
		t.Errorf("root element = %v, want <svg xmlns=…>", elems[0])
	}
	paths := byClass(elems, "path", "series")
	if len(paths) != 3 {
		t.Fatalf("%d series paths, want 3", len(paths))
	}
	if got := len(byClass(elems, "g", "legend-entry")); got != 3 {
		t.Errorf("%d legend entries, want 3", got)
	}
	if got := texts(byClass(elems, "text", "title")); !slices.Equal(got, []string{chart.Title}) {
		t.Errorf("title = %q", got)
	}
	if got := texts(byClass(elems, "text", "xtick")); got[0] != "0" || got[len(got)-1] != "30" {
		t.Errorf("x ticks = %q, want 0 … 30", got)
	}
	if got := texts(byClass(elems, "text", "ytick")); got[0] != "1" || got[len(got)-1] != "5" {
		t.Errorf("y ticks = %q, want 1 … 5 (lr starts at 1)", got)
	}
	// The NaN splits "val" into two sub-paths.
	if d := paths[1].Attrs["d"]; strings.Count(d, "M") != 2 || strings.Count(d, "L") != 0 {
		t.Errorf("val path d=%q, want two lone points", d)
	}
	// Train: x is linear in the step and y falls as the loss falls (SVG y grows downwards).
	p := pathPoints(t, paths[0].Attrs["d"])
	if len(p) != 4 {
		t.Fatalf("train path has %d points, want 4", len(p))
	}
	if dx1, dx2 := p[1][0]-p[0][0], p[3][0]-p[2][0]; math.Abs(dx1-dx2) > 0.02 {
		t.Errorf("x spacing %v vs %v for equal step gaps", dx1, dx2)
	}
	for i := 1; i < 4; i++ {
		if p[i][1] <= p[i-1][1] {
			t.Errorf("falling loss drawn rising: %v", p)
		}
	}
}

func TestLineChartYInclude(t *testing.T) {
	flat := LineChart{Series: []Series{{Name: "itm_accuracy", Y: []float64{0.49, 0.51, 0.5}}}}
	svg, err := flat.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(byClass(parseXML(t, svg), "text", "ytick")); got[0] == "0" || got[len(got)-1] == "1" {
		t.Errorf("y ticks without YInclude = %q: expected an axis around 0.49 … 0.51", got)
	}
	flat.YInclude = []float64{0, 1}
	if svg, err = flat.SVG(); err != nil {
		t.Fatal(err)
	}
	if got := texts(byClass(parseXML(t, svg), "text", "ytick")); got[0] != "0" || got[len(got)-1] != "1" {
		t.Errorf("y ticks with YInclude 0 and 1 = %q, want 0 … 1", got)
	}
	// On a log axis a value ≤ 0 cannot be covered and is left out.
	logChart := LineChart{LogY: true, YInclude: []float64{0, 1000}, Series: []Series{{Name: "loss", Y: []float64{2, 3}}}}
	if svg, err = logChart.SVG(); err != nil {
		t.Fatal(err)
	}
	if got := texts(byClass(parseXML(t, svg), "text", "ytick")); got[len(got)-1] != "1000" {
		t.Errorf("log y ticks with YInclude 1000 = %q, want up to 1000", got)
	}
}

func TestLineChartLogY(t *testing.T) {
	chart := LineChart{LogY: true, Series: []Series{{Name: "ppl", Y: []float64{100, 10, 0, 1, 0.1, 0.01}}}}
	svg, err := chart.SVG()
	if err != nil {
		t.Fatal(err)
	}
	elems := parseXML(t, svg)
	if got, want := texts(byClass(elems, "text", "ytick")), []string{"0.01", "0.1", "1", "10", "100"}; !slices.Equal(got, want) {
		t.Errorf("log ticks = %q, want %q", got, want)
	}
	p := pathPoints(t, byClass(elems, "path", "series")[0].Attrs["d"])
	if len(p) != 5 {
		t.Fatalf("%d points, want 5 (the 0 is left out)", len(p))
	}
	// Each factor of 10 takes the same height.
	for i := 2; i < 5; i++ {
		if gap, first := p[i][1]-p[i-1][1], p[1][1]-p[0][1]; math.Abs(gap-first) > 0.02 {
			t.Errorf("decade %d is %v px high, decade 0 is %v", i, gap, first)
		}
	}
}

func TestLineChartErrors(t *testing.T) {
	for name, c := range map[string]LineChart{
		"length mismatch": {Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}},
		"no series":       {},
		"only NaN":        {Series: []Series{{Name: "a", Y: []float64{math.NaN()}}}},
		"log of zero":     {LogY: true, Series: []Series{{Name: "a", Y: []float64{0, -1}}}},
		"too small":       {Width: 60, Height: 40, Series: []Series{{Name: "a", Y: []float64{1, 2}}}},
	} {
		if _, err := c.SVG(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := LineChart{}.SVG()
	if !errors.Is(err, errNoPoints) {
		t.Errorf("empty chart: %v, want errNoPoints", err)
	}
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 97, []float64{0, 20, 40, 60, 80, 100}},
		{0.13, 0.91, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{-3, 3, []float64{-4, -2, 0, 2, 4}},
		{5, 5, []float64{4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6}}, // widened to 4.5 … 5.5
	} {
		got := linearTicks(tc.lo, tc.hi, 5)
		if len(got) != len(tc.want) {
			t.Errorf("linearTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("linearTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0.5, 3, []float64{0.1, 1, 10}},
		{2, 8, []float64{1, 2, 5, 10}},
		{1e-9, 1e9, []float64{1e-9, 1e-6, 1e-3, 1, 1e3, 1e6, 1e9}},
		{1, 9e7, []float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}},
		{1, 2e8, []float64{1, 100, 1e4, 1e6, 1e8, 1e10}}, // 9 decades: every other one, and one more to reach 2e8
	} {
		got := logTicks(tc.lo, tc.hi)
		if len(got) != len(tc.want) {
			t.Errorf("logTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]/tc.want[i]-1) > 1e-9 {
				t.Errorf("logTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
}

// luminance returns the relative luminance (WCAG) of a #rrggbb colour.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("bad colour %q", hex)
	}
	lin := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
}

func TestColorMapDarkensWithValue(t *testing.T) {
	prev := 2.0
	for i := 0; i <= 1000; i++ {
		l := luminance(t, hexColor(ColorMap(float64(i)/1000)))
		if l > prev {
			t.Fatalf("luminance rises at t=%v: %v > %v", float64(i)/1000, l, prev)
		}
		prev = l
	}
	if ColorMap(-1) != blues[0] || ColorMap(math.NaN()) != blues[0] || ColorMap(2) != blues[len(blues)-1] {
		t.Error("out-of-range inputs are not clamped")
	}
}

func TestHeatmapSVG(t *testing.T) {
	m := [][]float32{{0, 0.1, 0.2, 0.3}, {0.4, 0.5, 0.6, 0.7}, {0.8, 0.9, 1, float32(math.NaN())}}
	svg, err := Heatmap(m, []string{"a", "<b>", "c&d"}, nil, "attention")
	if err != nil {
		t.Fatal(err)
	}
	elems := parseXML(t, svg)
	cells := byClass(elems, "rect", "cell")
	if len(cells) != 12 {
		t.Fatalf("%d cells, want 3×4", len(cells))
	}
	if got := texts(byClass(elems, "text", "rowlabel")); !slices.Equal(got, []string{"a", "<b>", "c&d"}) {
		t.Errorf("row labels = %q", got)
	}
	if got := texts(byClass(elems, "text", "collabel")); !slices.Equal(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("column labels = %q", got)
	}
	if got := len(byClass(elems, "rect", "colorbar")); got != 64 {
		t.Errorf("%d colour-bar strips, want 64", got)
	}
	if got := texts(byClass(elems, "text", "bartick")); got[0] != "0" || got[len(got)-1] != "1" {
		t.Errorf("colour-bar ticks = %q, want 0 … 1", got)
	}
	if f := cells[11].Attrs["fill"]; f != missingColor {
		t.Errorf("NaN cell fill %s, want %s", f, missingColor)
	}
	if f := cells[0].Attrs["fill"]; f != hexColor(blues[0]) {
		t.Errorf("smallest cell fill %s, want %s", f, hexColor(blues[0]))
	}
	if f := cells[10].Attrs["fill"]; f != hexColor(blues[len(blues)-1]) {
		t.Errorf("largest cell fill %s, want %s", f, hexColor(blues[len(blues)-1]))
	}
	// The tooltip names the row, the column and the value.
	var tips []string
	for _, e := range elems {
		if e.Name == "title" {
			tips = append(tips, e.Text)
		}
	}
	if !slices.Contains(tips, "<b> × 2: 0.6") {
		t.Errorf("no tooltip %q among %q", "<b> × 2: 0.6", tips)
	}
}

func TestHeatmapColourMonotoneInValue(t *testing.T) {
	values := []float32{0.7, -2, 3.5, 0, 1.25, -0.5, 2, 3, 0.1, 1}
	svg, err := Heatmap([][]float32{values}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cells := byClass(parseXML(t, svg), "rect", "cell")
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(math.Copysign(1, float64(values[a]-values[b]))) })
	prev := 2.0
	for _, i := range order {
		l := luminance(t, cells[i].Attrs["fill"])
		if l >= prev {
			t.Errorf("value %v has luminance %v, not below the next smaller value's %v", values[i], l, prev)
		}
		prev = l
	}
}

func TestHeatmapConstantMatrix(t *testing.T) {
	svg, err := Heatmap([][]float32{{2, 2}, {2, 2}}, nil, nil, "flat")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range byClass(parseXML(t, svg), "rect", "cell") {
		if c.Attrs["fill"] != hexColor(ColorMap(0.5)) {
			t.Errorf("constant cell fill %s, want the middle colour %s", c.Attrs["fill"], hexColor(ColorMap(0.5)))
		}
	}
}

func TestHeatmapErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		m          [][]float32
		rows, cols []string
	}{
		"empty":          {m: nil},
		"empty row":      {m: [][]float32{{}}},
		"ragged":         {m: [][]float32{{1, 2}, {3}}},
		"row labels":     {m: [][]float32{{1, 2}}, rows: []string{"a", "b"}},
		"column labels":  {m: [][]float32{{1, 2}}, cols: []string{"a"}},
		"empty labels":   {m: [][]float32{{1}}, rows: []string{}},
		"too few labels": {m: [][]float32{{1}, {2}}, rows: []string{"a"}, cols: []string{"x"}},
	} {
		if _, err := Heatmap(tc.m, tc.rows, tc.cols, name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
