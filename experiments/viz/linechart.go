package viz

import (
	"errors"
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one named line of a LineChart: Y[i] is the value at step X[i].
type Series struct {
	Name string
	// X holds the steps; nil means 0, 1, 2, ….
	X []float64
	Y []float64
}

// LineChart is a chart of several series against a shared step axis, with ticks, a legend and a title.
type LineChart struct {
	Title  string
	XLabel string // empty means "step"
	YLabel string
	// LogY puts the value axis on a log10 scale; points with values ≤ 0 are then left out.
	LogY bool
	// YInclude are values the value axis covers whatever the data, e.g. 0 and 1 for an accuracy, so that the
	// axis does not zoom into the noise of a flat curve.
	YInclude []float64
	// Width and Height are the SVG size in pixels; 0 means 640 and 360.
	Width, Height int
	Series        []Series
}

// palette holds the line colours (Tableau 10), used in turn by the series.
var palette = [...]string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

const (
	fontSize  = 12.0
	charWidth = 0.6 * fontSize // rough advance of one character, for layout
)

// SVG renders the chart as a standalone SVG document. Each series becomes one <path>; NaN, infinite (and, with
// LogY, non-positive) values are left out and break the line there. It fails when a series' X and Y differ in
// length or when no series has a plottable point.
func (c LineChart) SVG() (string, error) {
	width, height := float64(c.Width), float64(c.Height)
	if width <= 0 {
		width = 640
	}
	if height <= 0 {
		height = 360
	}
	xMin, xMax, yMin, yMax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	legendChars := 0
	for _, s := range c.Series {
		if s.X != nil && len(s.X) != len(s.Y) {
			return "", fmt.Errorf("line chart %q: series %q has %d steps but %d values", c.Title, s.Name, len(s.X), len(s.Y))
		}
		legendChars = max(legendChars, len([]rune(s.Name)))
		for i, y := range s.Y {
			x := stepOf(s, i)
			if !c.plottable(x, y) {
				continue
			}
			xMin, xMax = math.Min(xMin, x), math.Max(xMax, x)
			yMin, yMax = math.Min(yMin, y), math.Max(yMax, y)
		}
	}
	if xMin > xMax {
		return "", fmt.Errorf("line chart %q: %w", c.Title, errNoPoints)
	}
	for _, y := range c.YInclude {
		if c.plottable(xMin, y) {
			yMin, yMax = math.Min(yMin, y), math.Max(yMax, y)
		}
	}

	xTicks := linearTicks(xMin, xMax, 6)
	var yTicks []float64
	if c.LogY {
		yTicks = logTicks(yMin, yMax)
	} else {
		yTicks = linearTicks(yMin, yMax, 5)
	}
	xLo, xHi := xTicks[0], xTicks[len(xTicks)-1]
	yLo, yHi := yTicks[0], yTicks[len(yTicks)-1]
	yScale := func(v float64) float64 { return v }
	if c.LogY {
		yScale = math.Log10
	}
	tickChars := 0
	for _, t := range yTicks {
		tickChars = max(tickChars, len(formatNumber(t)))
	}

	left := 16 + float64(tickChars)*charWidth
	if c.YLabel != "" {
		left += 1.5 * fontSize
	}
	top, bottom := 2.5*fontSize, 3.5*fontSize
	right := 24 + 28 + float64(legendChars)*charWidth
	plotW, plotH := width-left-right, height-top-bottom
	if plotW < 40 || plotH < 40 {
		return "", fmt.Errorf("line chart %q: %gx%g pixels leave no room for the plot", c.Title, width, height)
	}
	px := func(x float64) float64 { return left + (x-xLo)/(xHi-xLo)*plotW }
	py := func(y float64) float64 {
		return top + plotH - (yScale(y)-yScale(yLo))/(yScale(yHi)-yScale(yLo))*plotH
	}

	var b strings.Builder
	svgOpen(&b, width, height)
	if c.Title != "" {
		fmt.Fprintf(&b, `<text class="title" x="%.1f" y="%.1f" text-anchor="middle" font-size="%.0f" font-weight="bold">%s</text>`+"\n",
			width/2, 1.6*fontSize, fontSize+2, html.EscapeString(c.Title))
	}
	// Grid lines and tick labels.
	b.WriteString(`<g class="axes" stroke="#ddd" stroke-width="1">` + "\n")
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f"/>`+"\n", px(t), top, px(t), top+plotH)
	}
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f"/>`+"\n", left, py(t), left+plotW, py(t))
	}
	fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="none" stroke="#444"/>`+"\n", left, top, plotW, plotH)
	b.WriteString("</g>\n")
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<text class="xtick" x="%.2f" y="%.2f" text-anchor="middle">%s</text>`+"\n",
			px(t), top+plotH+fontSize+4, formatNumber(t))
	}
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<text class="ytick" x="%.2f" y="%.2f" text-anchor="end">%s</text>`+"\n",
			left-6, py(t)+fontSize/3, formatNumber(t))
	}
	xLabel := c.XLabel
	if xLabel == "" {
		xLabel = "step"
	}
	fmt.Fprintf(&b, `<text class="xlabel" x="%.2f" y="%.2f" text-anchor="middle">%s</text>`+"\n",
		left+plotW/2, height-fontSize/2, html.EscapeString(xLabel))
	if c.YLabel != "" {
		fmt.Fprintf(&b, `<text class="ylabel" transform="translate(%.2f %.2f) rotate(-90)" text-anchor="middle">%s</text>`+"\n",
			fontSize, top+plotH/2, html.EscapeString(c.YLabel))
	}

	// One path per series; a non-plottable point starts a new sub-path. Round caps make lone points visible.
	for si, s := range c.Series {
		var d strings.Builder
		pen := false
		for i, y := range s.Y {
			x := stepOf(s, i)
			if !c.plottable(x, y) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.2f %.2f ", cmd, px(x), py(y))
			if !pen && (i+1 == len(s.Y) || !c.plottable(stepOf(s, i+1), s.Y[i+1])) {
				d.WriteString("l0 0 ")
			}
			pen = true
		}
		fmt.Fprintf(&b, `<path class="series" d="%s" fill="none" stroke="%s" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><title>%s</title></path>`+"\n",
			strings.TrimSpace(d.String()), palette[si%len(palette)], html.EscapeString(s.Name))
	}

	// Legend, in the right margin.
	b.WriteString(`<g class="legend">` + "\n")
	for si, s := range c.Series {
		y := top + 8 + float64(si)*(fontSize+6)
		lx := left + plotW + 16
		fmt.Fprintf(&b, `<g class="legend-entry"><line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="3"/><text x="%.2f" y="%.2f">%s</text></g>`+"\n",
			lx, y, lx+20, y, palette[si%len(palette)], lx+26, y+fontSize/3, html.EscapeString(s.Name))
	}
	b.WriteString("</g>\n</svg>\n")
	return b.String(), nil
}

// errNoPoints is returned for a chart without a single plottable point.
var errNoPoints = errors.New("no plottable points")

// stepOf returns the step of point i of s.
func stepOf(s Series, i int) float64 {
	if s.X == nil {
		return float64(i)
	}
	return s.X[i]
}

// plottable reports whether the point (x, y) can be drawn on c's axes.
func (c LineChart) plottable(x, y float64) bool {
	ok := !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0)
	return ok && (!c.LogY || y > 0)
}

// svgOpen starts an SVG document of the given size with the shared font settings.
func svgOpen(b *strings.Builder, width, height float64) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="%.0f">`+"\n",
		width, height, width, height, fontSize)
	fmt.Fprintf(b, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", width, height)
}

// linearTicks returns about n evenly spaced "nice" ticks (1, 2 or 5 times a power of ten apart) whose first and last
// values enclose [lo, hi]. A degenerate range is widened around its value.
func linearTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		pad := math.Max(math.Abs(lo)*0.1, 0.5)
		lo, hi = lo-pad, hi+pad
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, f := range []float64{1, 2, 5} {
		if raw <= f*mag {
			step = f * mag
			break
		}
	}
	first, last := math.Floor(lo/step), math.Ceil(hi/step)
	ticks := make([]float64, 0, int(last-first)+1)
	for k := first; k <= last; k++ {
		ticks = append(ticks, k*step)
	}
	return ticks
}

// logTicks returns ticks for a log10 axis enclosing [lo, hi] (both > 0): the powers of ten, thinned out over wide
// ranges, and with 2× and 5× added when the range spans a single decade.
func logTicks(lo, hi float64) []float64 {
	a, z := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if z == a {
		z++
	}
	stride := math.Ceil((z - a) / 8)
	var ticks []float64
	for e := a; e <= z; e += stride {
		ticks = append(ticks, math.Pow(10, e))
		if z-a == 1 && e < z {
			ticks = append(ticks, 2*math.Pow(10, e), 5*math.Pow(10, e))
		}
	}
	if last := ticks[len(ticks)-1]; last < hi {
		ticks = append(ticks, last*math.Pow(10, stride))
	}
	return ticks
}
