package viz

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// greyImage returns a uniform mid-grey image with the given bounds.
func greyImage(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{128, 128, 128, 255})
		}
	}
	return img
}

// redness is how far a pixel has moved from mid-grey towards boxColor.
func redness(c color.Color) int {
	r, _, b, _ := c.RGBA()
	return int(r>>8) - int(b>>8)
}

func TestDrawBoxes(t *testing.T) {
	src := greyImage(image.Rect(10, 20, 130, 110)) // a non-zero origin: boxes are relative to the top-left corner
	boxes := [][4]float32{{5, 5, 45, 35}, {60.4, 40.6, 110.2, 85.9}}
	out := DrawBoxes(src, boxes, []float32{0.1, 0.8}, []string{"", "r1"})

	if got, want := out.Bounds(), image.Rect(0, 0, 120, 90); got != want {
		t.Fatalf("bounds %v, want %v", got, want)
	}
	if src.RGBAAt(10, 20) != (color.RGBA{128, 128, 128, 255}) {
		t.Fatal("the input image was modified")
	}
	inside := func(x, y int) bool {
		return (x >= 5 && x < 45 && y >= 5 && y < 35) || (x >= 60 && x < 111 && y >= 40 && y < 86)
	}
	for y := 0; y < 90; y++ {
		for x := 0; x < 120; x++ {
			if changed := out.At(x, y) != src.At(x+10, y+20); changed && !inside(x, y) {
				t.Fatalf("pixel (%d,%d) outside every box changed to %v", x, y, out.At(x, y))
			}
		}
	}
	// Both frames are drawn on every edge; the box centres are untouched.
	for _, p := range []image.Point{{5, 20}, {44, 20}, {25, 5}, {25, 34}, {60, 60}, {110, 60}, {90, 85}} {
		if redness(out.At(p.X, p.Y)) <= 0 {
			t.Errorf("edge pixel %v not drawn: %v", p, out.At(p.X, p.Y))
		}
	}
	for _, p := range []image.Point{{25, 20}, {85, 65}} {
		if out.At(p.X, p.Y) != src.At(p.X+10, p.Y+20) {
			t.Errorf("box centre %v changed", p)
		}
	}
	// The heavier box has the more opaque and the thicker frame.
	light, heavy := redness(out.At(5, 20)), redness(out.At(60, 60))
	if heavy <= light {
		t.Errorf("heavy frame redness %d, not above light frame's %d", heavy, light)
	}
	thickness := func(x0, y int) int {
		n := 0
		for x := x0; redness(out.At(x, y)) > 0; x++ {
			n++
		}
		return n
	}
	if tl, th := thickness(5, 20), thickness(60, 70); tl != 1 || th != 4 {
		t.Errorf("frame thickness %d and %d, want 1 (lightest) and 4 (heaviest)", tl, th)
	}
	// The label writes white pixels into the heavy box's top-left corner only.
	white := 0
	for y := 40; y < 86; y++ {
		for x := 60; x < 111; x++ {
			if out.At(x, y) == (color.RGBA{255, 255, 255, 255}) {
				white++
				if x >= 60+2*(glyphW+1)+1 || y >= 40+glyphH+2 {
					t.Errorf("label pixel (%d,%d) outside the label area", x, y)
				}
			}
		}
	}
	if white == 0 {
		t.Error("label not drawn")
	}
}

func TestDrawBoxesOddInput(t *testing.T) {
	src := greyImage(image.Rect(0, 0, 40, 30))
	nan := float32(math.NaN())
	// Swapped corners draw the same as ordered ones.
	a := DrawBoxes(src, [][4]float32{{30, 25, 5, 5}}, nil, nil).(*image.RGBA)
	b := DrawBoxes(src, [][4]float32{{5, 5, 30, 25}}, nil, nil).(*image.RGBA)
	if string(a.Pix) != string(b.Pix) {
		t.Error("swapped corners draw differently")
	}
	// NaN, infinite, empty and outside boxes draw nothing; missing weights count as 0, extra labels are ignored.
	inf := float32(math.Inf(1))
	out := DrawBoxes(src, [][4]float32{{nan, 0, 10, 10}, {0, 0, inf, 10}, {50, 50, 60, 60}, {3, 3, 3, 9}},
		[]float32{1}, []string{"a", "b", "c", "d", "e"}).(*image.RGBA)
	if string(out.Pix) != string(src.Pix) {
		t.Error("boxes that cannot be drawn changed pixels")
	}
	// A box larger than the image is clipped to it.
	out = DrawBoxes(src, [][4]float32{{-1e30, -5, 1e30, 1e9}}, nil, []string{"\u00e9\u4e2d"}).(*image.RGBA)
	if redness(out.At(0, 15)) <= 0 || redness(out.At(39, 15)) <= 0 {
		t.Error("clipped box has no frame at the image edges")
	}
}

func TestGlyphs(t *testing.T) {
	if glyph('é') != glyph('?') || glyph('\n') != glyph('?') {
		t.Error("characters outside ASCII do not print as '?'")
	}
	seen := map[[glyphW]byte]rune{}
	for r := rune('!'); r <= '~'; r++ {
		g := glyph(r)
		if prev, dup := seen[g]; dup {
			t.Errorf("%q and %q share a glyph", prev, r)
		}
		seen[g] = r
		for _, col := range g {
			if col>>glyphH != 0 {
				t.Errorf("%q has pixels below row %d", r, glyphH)
			}
		}
	}
}
