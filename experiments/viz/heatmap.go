package viz

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// missingColor fills heat-map cells whose value is NaN or infinite.
const missingColor = "#cccccc"

// Heatmap renders matrix (rows × columns, e.g. words × image regions) as an SVG heat map: one <rect> per cell,
// coloured with ColorMap between the smallest and largest finite value, each with a tooltip, and a colour bar with
// ticks on the right. Row labels go on the left, column labels (slanted) below; nil labels mean 0, 1, 2, ….
// NaN and infinite cells are drawn grey and do not count for the colour range. It fails on an empty or ragged
// matrix and on label counts that do not match it.
func Heatmap(matrix [][]float32, rowLabels, colLabels []string, title string) (string, error) {
	rows := len(matrix)
	if rows == 0 || len(matrix[0]) == 0 {
		return "", fmt.Errorf("heat map %q: empty matrix", title)
	}
	cols := len(matrix[0])
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, row := range matrix {
		if len(row) != cols {
			return "", fmt.Errorf("heat map %q: row %d has %d columns, row 0 has %d", title, r, len(row), cols)
		}
		for _, v := range row {
			if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
		}
	}
	rowLabels, err := labelsOrIndices(rowLabels, rows)
	if err != nil {
		return "", fmt.Errorf("heat map %q: row labels: %w", title, err)
	}
	colLabels, err = labelsOrIndices(colLabels, cols)
	if err != nil {
		return "", fmt.Errorf("heat map %q: column labels: %w", title, err)
	}
	// norm maps a finite value to [0, 1]; a constant matrix sits in the middle of the colour map.
	norm := func(v float64) float64 {
		if hi == lo {
			return 0.5
		}
		return (v - lo) / (hi - lo)
	}

	cell := math.Min(28, math.Max(8, math.Min(640/float64(cols), 640/float64(rows))))
	rowChars, colChars := maxRunes(rowLabels), maxRunes(colLabels)
	slant := float64(colChars) * charWidth * math.Sqrt2 / 2 // extent of a column label rotated by 45°
	left := 12 + math.Max(float64(rowChars)*charWidth, slant-cell/2)
	top := 12.0
	if title != "" {
		top += 2 * fontSize
	}
	gridW, gridH := cell*float64(cols), cell*float64(rows)
	barX := left + gridW + 16
	const barW = 14.0
	width := barX + barW + 8 + 8*charWidth
	if title != "" { // bold, 2 px larger: about 1.2 character widths per character
		width = math.Max(width, 16+float64(len([]rune(title)))*charWidth*1.2)
	}
	height := top + gridH + slant + fontSize + 12

	var b strings.Builder
	svgOpen(&b, width, height)
	if title != "" {
		fmt.Fprintf(&b, `<text class="title" x="%.1f" y="%.1f" text-anchor="middle" font-size="%.0f" font-weight="bold">%s</text>`+"\n",
			width/2, 1.6*fontSize, fontSize+2, html.EscapeString(title))
	}
	b.WriteString(`<g class="cells">` + "\n")
	for r, row := range matrix {
		for c, v := range row {
			fill, f := missingColor, float64(v)
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				fill = hexColor(ColorMap(norm(f)))
			}
			fmt.Fprintf(&b, `<rect class="cell" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s × %s: %s</title></rect>`+"\n",
				left+float64(c)*cell, top+float64(r)*cell, cell, cell, fill,
				html.EscapeString(rowLabels[r]), html.EscapeString(colLabels[c]), formatNumber(f))
		}
	}
	b.WriteString("</g>\n")
	for r, l := range rowLabels {
		fmt.Fprintf(&b, `<text class="rowlabel" x="%.2f" y="%.2f" text-anchor="end">%s</text>`+"\n",
			left-4, top+(float64(r)+0.5)*cell+fontSize/3, html.EscapeString(l))
	}
	for c, l := range colLabels {
		fmt.Fprintf(&b, `<text class="collabel" transform="translate(%.2f %.2f) rotate(-45)" text-anchor="end">%s</text>`+"\n",
			left+(float64(c)+0.5)*cell+fontSize/3, top+gridH+6, html.EscapeString(l))
	}

	// Colour bar: strips from the smallest value (bottom) to the largest (top), with ticks inside the range.
	const strips = 64
	stripH := gridH / strips
	b.WriteString(`<g class="colorbar">` + "\n")
	for i := 0; i < strips; i++ {
		t := (float64(i) + 0.5) / strips
		if hi == lo {
			t = 0.5
		}
		fmt.Fprintf(&b, `<rect class="colorbar" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n",
			barX, top+gridH-float64(i+1)*stripH, barW, stripH+0.5, hexColor(ColorMap(t)))
	}
	fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="none" stroke="#444"/>`+"\n", barX, top, barW, gridH)
	barTicks := []float64{lo}
	if hi > lo {
		barTicks = nil
		for _, t := range linearTicks(lo, hi, 4) {
			if t >= lo-1e-9*(hi-lo) && t <= hi+1e-9*(hi-lo) {
				barTicks = append(barTicks, t)
			}
		}
	}
	for _, t := range barTicks {
		y := top + gridH - norm(t)*gridH
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="#444"/><text class="bartick" x="%.2f" y="%.2f">%s</text>`+"\n",
			barX+barW, y, barX+barW+4, y, barX+barW+6, y+fontSize/3, formatNumber(t))
	}
	b.WriteString("</g>\n</svg>\n")
	return b.String(), nil
}

// labelsOrIndices returns labels when it has n entries, "0" … "n-1" when it is nil, and an error otherwise.
func labelsOrIndices(labels []string, n int) ([]string, error) {
	if labels == nil {
		labels = make([]string, n)
		for i := range labels {
			labels[i] = strconv.Itoa(i)
		}
		return labels, nil
	}
	if len(labels) != n {
		return nil, fmt.Errorf("got %d labels for %d entries", len(labels), n)
	}
	return labels, nil
}

// maxRunes returns the length in runes of the longest string.
func maxRunes(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len([]rune(s)))
	}
	return n
}
