package viz

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/png"
	"math"
	"strings"
)

// TokensHTML renders tokens as inline HTML spans whose background shows their weight: orange for positive and blue
// for negative weights, opacity |w| / max|w|; each token's tooltip gives its weight. Tokens are HTML-escaped;
// missing or non-finite weights count as 0.
func TokensHTML(tokens []string, weights []float32) string {
	weight := func(i int) float64 {
		if i >= len(weights) {
			return 0
		}
		w := float64(weights[i])
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return 0
		}
		return w
	}
	heaviest := 0.0
	for i := range tokens {
		heaviest = math.Max(heaviest, math.Abs(weight(i)))
	}
	var b strings.Builder
	b.WriteString(`<div class="viz-tokens" style="font-family:sans-serif;line-height:2">`)
	for i, tok := range tokens {
		w, a := weight(i), 0.0
		if heaviest > 0 {
			a = math.Abs(w) / heaviest
		}
		rgb := "255,127,14"
		if w < 0 {
			rgb = "31,119,180"
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, `<span style="background-color:rgba(%s,%.3f);padding:2px 3px;border-radius:3px" title="%s">%s</span>`,
			rgb, a, formatNumber(w), html.EscapeString(tok))
	}
	b.WriteString("</div>")
	return b.String()
}

// Table renders an HTML table with one header row; all cells are HTML-escaped. Rows may differ in length.
func Table(header []string, rows [][]string) string {
	const cellStyle = `border:1px solid #ccc;padding:3px 8px;text-align:left`
	var b strings.Builder
	b.WriteString(`<table class="viz-table" style="border-collapse:collapse;font-family:sans-serif;font-size:13px">`)
	if len(header) > 0 {
		b.WriteString("<thead><tr>")
		for _, h := range header {
			fmt.Fprintf(&b, `<th style="%s;background:#f0f0f0">%s</th>`, cellStyle, html.EscapeString(h))
		}
		b.WriteString("</tr></thead>")
	}
	b.WriteString("<tbody>")
	for _, row := range rows {
		b.WriteString("<tr>")
		for _, cell := range row {
			fmt.Fprintf(&b, `<td style="%s">%s</td>`, cellStyle, html.EscapeString(cell))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// Page gathers sections (charts, heat maps, tables, images) into one standalone HTML file that needs nothing from
// the network. The zero value is an empty, untitled page.
type Page struct {
	Title    string
	sections []string
}

// Add appends a section: an escaped heading (none when empty) followed by body, which is inserted as is (an SVG
// string, or the output of TokensHTML or Table).
func (p *Page) Add(heading, body string) {
	var b strings.Builder
	b.WriteString("<section>\n")
	if heading != "" {
		fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(heading))
	}
	b.WriteString(body)
	b.WriteString("\n</section>\n")
	p.sections = append(p.sections, b.String())
}

// AddImage appends a section showing img, embedded as a PNG data URI.
func (p *Page) AddImage(heading string, img image.Image) error {
	src, err := PNGDataURI(img)
	if err != nil {
		return fmt.Errorf("page %q, section %q: %w", p.Title, heading, err)
	}
	p.Add(heading, `<img alt="`+html.EscapeString(heading)+`" src="`+src+`">`)
	return nil
}

// PNGDataURI encodes img as PNG in a data URI, for the src attribute of an HTML img element.
func PNGDataURI(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encoding PNG: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// HTML returns the whole page as an HTML document.
func (p *Page) HTML() string {
	var b strings.Builder
	title := html.EscapeString(p.Title)
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", title)
	b.WriteString("<style>body{font-family:sans-serif;margin:2em;max-width:1200px}section{margin-bottom:2em}</style>\n</head>\n<body>\n")
	if title != "" {
		fmt.Fprintf(&b, "<h1>%s</h1>\n", title)
	}
	for _, s := range p.sections {
		b.WriteString(s)
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

// WriteFile writes the page to path (see the package-level WriteFile).
func (p *Page) WriteFile(path string) error {
	return WriteFile(path, p.HTML())
}
