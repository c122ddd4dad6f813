package viz

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTokensHTML(t *testing.T) {
	tokens := []string{"<script>", "a&b", "\"q\"", "neg", "nan", "missing"}
	h := TokensHTML(tokens, []float32{0.5, 1, 0.25, -2, float32(math.NaN())})
	if strings.Contains(h, "<script>") || !strings.Contains(h, "&lt;script&gt;") || !strings.Contains(h, "a&amp;b") {
		t.Errorf("tokens not escaped: %s", h)
	}
	elems := parseXML(t, h) // escaped properly, the fragment is well-formed XML too
	spans := elems[1:]
	if len(spans) != len(tokens) {
		t.Fatalf("%d spans, want %d", len(spans), len(tokens))
	}
	if got := texts(spans); !slices.Equal(got, tokens) {
		t.Errorf("span texts %q, want %q", got, tokens)
	}
	reBg := regexp.MustCompile(`background-color:rgba\((\d+,\d+,\d+),([0-9.]+)\)`)
	var alphas []float64
	var colours []string
	for _, s := range spans {
		m := reBg.FindStringSubmatch(s.Attrs["style"])
		if m == nil {
			t.Fatalf("no background in %q", s.Attrs["style"])
		}
		a, _ := strconv.ParseFloat(m[2], 64)
		alphas = append(alphas, a)
		colours = append(colours, m[1])
	}
	// Opacity is |w| / max|w| = |w| / 2.
	if want := []float64{0.25, 0.5, 0.125, 1, 0, 0}; !slices.Equal(alphas, want) {
		t.Errorf("opacities %v, want %v", alphas, want)
	}
	if colours[3] == colours[0] {
		t.Error("a negative weight has the positive colour")
	}
	if got := spans[1].Attrs["title"]; got != "1" {
		t.Errorf("tooltip %q, want the weight 1", got)
	}
	if h := TokensHTML([]string{"x"}, nil); !strings.Contains(h, "rgba(255,127,14,0.000)") {
		t.Errorf("without weights: %s", h)
	}
}

func TestTable(t *testing.T) {
	h := Table([]string{"metric", "<v>"}, [][]string{{"acc", "0.5"}, {"a&b"}})
	elems := parseXML(t, h)
	var th, td []element
	for _, e := range elems {
		switch e.Name {
		case "th":
			th = append(th, e)
		case "td":
			td = append(td, e)
		}
	}
	if got := texts(th); !slices.Equal(got, []string{"metric", "<v>"}) {
		t.Errorf("header %q", got)
	}
	if got := texts(td); !slices.Equal(got, []string{"acc", "0.5", "a&b"}) {
		t.Errorf("cells %q", got)
	}
	if strings.Contains(h, "<v>") {
		t.Error("header not escaped")
	}
}

func TestPageAndFiles(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.SetRGBA(1, 1, color.RGBA{10, 200, 30, 255})
	svg, err := Heatmap([][]float32{{1, 2}}, nil, nil, "h")
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{Title: "Run <1>"}
	p.Add("Attention", svg)
	p.Add("", Table([]string{"a"}, nil))
	if err := p.AddImage("boxes", img); err != nil {
		t.Fatal(err)
	}
	h := p.HTML()
	for _, want := range []string{"<!DOCTYPE html>", "<title>Run &lt;1&gt;</title>", "<h2>Attention</h2>", "<svg ", "<table "} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(h, "<section>"); n != 3 {
		t.Errorf("%d sections, want 3", n)
	}
	if strings.Count(h, "http") != strings.Count(h, `xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(h, "<script") {
		t.Error("page refers to the network or runs scripts")
	}
	// The embedded PNG decodes to the same pixels.
	m := regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]+)`).FindStringSubmatch(h)
	if m == nil {
		t.Fatal("no embedded PNG")
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !sameColor(back.At(1, 1), img.At(1, 1)) || back.Bounds() != img.Bounds() {
		t.Error("embedded image differs")
	}

	dir := t.TempDir()
	pagePath := filepath.Join(dir, "sub", "page.html")
	if err := p.WriteFile(pagePath); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(pagePath); err != nil || string(data) != h {
		t.Errorf("page file differs (err %v)", err)
	}
	pngPath := filepath.Join(dir, "img", "x.png")
	if err := WritePNG(pngPath, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if back, err := png.Decode(f); err != nil || !sameColor(back.At(1, 1), img.At(1, 1)) {
		t.Errorf("PNG round trip failed (err %v)", err)
	}
	// Writing below a regular file fails with the path in the message.
	if err := WriteFile(filepath.Join(pagePath, "x"), "y"); err == nil || !strings.Contains(err.Error(), pagePath) {
		t.Errorf("WriteFile under a file: %v", err)
	}
	if err := WritePNG(filepath.Join(pagePath, "x.png"), img); err == nil {
		t.Error("WritePNG under a file: no error")
	}
}

// sameColor compares colours of possibly different colour models.
func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
