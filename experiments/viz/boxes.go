package viz

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"
)

// boxColor is the colour of the frames DrawBoxes draws; their opacity comes from the weights.
var boxColor = color.RGBA{0xff, 0x30, 0x10, 0xff}

// DrawBoxes returns a copy of img (with its top-left corner at (0, 0)) with a frame drawn inside each box.
// A box is (x1, y1, x2, y2) in pixels from img's top-left corner. Weights (e.g. attention on each region) are scaled
// by the largest one: the heaviest box gets an opaque 4-pixel frame, a zero-weight box a faint 1-pixel one (both
// thicker on images over 640 pixels), and heavier boxes are drawn on top. nil weights draw every box at full weight, and missing weights count as 0. A non-empty
// label is written in the box's top-left corner (ASCII; other characters print as '?'). Boxes with NaN or infinite
// coordinates are skipped, and drawing never leaves a box's rectangle.
func DrawBoxes(img image.Image, boxes [][4]float32, weights []float32, labels []string) image.Image {
	src := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, src.Dx(), src.Dy()))
	draw.Draw(out, out.Bounds(), img, src.Min, draw.Src)

	weight := func(i int) float64 {
		switch {
		case weights == nil:
			return 1
		case i < len(weights) && float64(weights[i]) > 0:
			return float64(weights[i])
		}
		return 0 // missing, negative or NaN
	}
	heaviest := 0.0
	for i := range boxes {
		heaviest = math.Max(heaviest, weight(i))
	}
	order := make([]int, len(boxes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return weight(order[a]) < weight(order[b]) })

	scale := max(1, min(src.Dx(), src.Dy())/320) // thicker lines and larger text on large images
	for _, i := range order {
		r, ok := pixelRect(boxes[i], out.Bounds())
		if !ok {
			continue
		}
		w := 0.0
		if heaviest > 0 {
			w = weight(i) / heaviest
		}
		alpha := uint8(math.Round(255 * (0.3 + 0.7*w)))
		thick := scale * (1 + int(math.Round(3*w)))
		drawFrame(out, r, thick, alpha)
		if i < len(labels) && labels[i] != "" {
			drawLabel(out, r, labels[i], scale, alpha)
		}
	}
	return out
}

// pixelRect converts box to the pixels it covers inside bounds; ok is false for a box that is empty there or has
// non-finite coordinates. Swapped corners are put in order.
func pixelRect(box [4]float32, bounds image.Rectangle) (r image.Rectangle, ok bool) {
	var c [4]int
	for k, v := range box {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return r, false
		}
		// Clamp before converting so that huge coordinates cannot overflow int.
		f = math.Max(-1, math.Min(f, float64(max(bounds.Dx(), bounds.Dy())+1)))
		if k < 2 {
			c[k] = int(math.Floor(f))
		} else {
			c[k] = int(math.Ceil(f))
		}
	}
	r = image.Rect(c[0], c[1], c[2], c[3]).Intersect(bounds) // image.Rect orders the corners
	return r, !r.Empty()
}

// drawFrame blends a frame of the given thickness in boxColor along the inside of r, as four non-overlapping strips.
func drawFrame(dst *image.RGBA, r image.Rectangle, thick int, alpha uint8) {
	top := image.Rect(r.Min.X, r.Min.Y, r.Max.X, min(r.Min.Y+thick, r.Max.Y))
	bottom := image.Rect(r.Min.X, max(r.Max.Y-thick, top.Max.Y), r.Max.X, r.Max.Y)
	left := image.Rect(r.Min.X, top.Max.Y, min(r.Min.X+thick, r.Max.X), bottom.Min.Y)
	right := image.Rect(max(r.Max.X-thick, left.Max.X), top.Max.Y, r.Max.X, bottom.Min.Y)
	for _, s := range []image.Rectangle{top, bottom, left, right} {
		blend(dst, s, boxColor, alpha)
	}
}

// blend paints c over dst inside r with the given opacity.
func blend(dst *image.RGBA, r image.Rectangle, c color.Color, alpha uint8) {
	draw.DrawMask(dst, r, image.NewUniform(c), image.Point{}, image.NewUniform(color.Alpha{A: alpha}), image.Point{}, draw.Over)
}

// drawLabel writes text in white on a boxColor background in the top-left corner of r, clipped to r.
func drawLabel(dst *image.RGBA, r image.Rectangle, text string, scale int, alpha uint8) {
	runes := []rune(text)
	bg := image.Rect(r.Min.X, r.Min.Y, r.Min.X+(len(runes)*(glyphW+1)+1)*scale, r.Min.Y+(glyphH+2)*scale).Intersect(r)
	blend(dst, bg, boxColor, alpha)
	for k, ch := range runes {
		g := glyph(ch)
		x0 := r.Min.X + (1+k*(glyphW+1))*scale
		for col := 0; col < glyphW; col++ {
			for row := 0; row < glyphH; row++ {
				if g[col]>>row&1 == 0 {
					continue
				}
				px := image.Rect(x0+col*scale, r.Min.Y+(1+row)*scale, x0+(col+1)*scale, r.Min.Y+(2+row)*scale)
				draw.Draw(dst, px.Intersect(bg), image.White, image.Point{}, draw.Src)
			}
		}
	}
}
