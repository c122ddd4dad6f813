package synthetic

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// render draws a scene: a light floor and each object as its shape, filled with its colour, inside its box —
// cube: square, sphere: disc, cylinder: rectangle with elliptic ends (the top lighter), cone: triangle.
// Background regions are detector proposals and are not drawn.
func render(s *Scene) *image.Paletted {
	pal := color.Palette{backgroundColor}
	for _, c := range palette {
		pal = append(pal, c)
	}
	for _, c := range palette {
		pal = append(pal, lighter(c))
	}
	img := image.NewPaletted(image.Rect(0, 0, s.Width, s.Height), pal)
	draw.Draw(img, img.Bounds(), image.NewUniform(backgroundColor), image.Point{}, draw.Src)
	for _, o := range s.Objects {
		fill := uint8(1 + indexOf(Colors, o.Color))
		top := fill + uint8(len(palette))
		x1, y1, x2, y2 := int(o.Box[0]), int(o.Box[1]), int(o.Box[2]), int(o.Box[3])
		w, h := float64(x2-x1), float64(y2-y1)
		cx, cy := float64(x1+x2)/2, float64(y1+y2)/2
		capH := h / 4 // height of a cylinder's elliptic ends
		for y := y1; y < y2; y++ {
			py := float64(y) + 0.5
			for x := x1; x < x2; x++ {
				px := float64(x) + 0.5
				idx := uint8(0)
				switch o.Shape {
				case "cube":
					idx = fill
				case "sphere":
					if inEllipse(px, py, cx, cy, w/2, h/2) {
						idx = fill
					}
				case "cylinder":
					switch {
					case inEllipse(px, py, cx, float64(y1)+capH/2, w/2, capH/2):
						idx = top
					case py >= float64(y1)+capH/2 && py <= float64(y2)-capH/2,
						inEllipse(px, py, cx, float64(y2)-capH/2, w/2, capH/2):
						idx = fill
					}
				case "cone":
					if 2*math.Abs(px-cx)*h <= w*(py-float64(y1)) {
						idx = fill
					}
				}
				if idx != 0 {
					img.SetColorIndex(x, y, idx)
				}
			}
		}
	}
	return img
}

// inEllipse reports whether (x, y) lies in the axis-aligned ellipse centred at (cx, cy) with radii rx, ry.
func inEllipse(x, y, cx, cy, rx, ry float64) bool {
	dx, dy := (x-cx)/rx, (y-cy)/ry
	return dx*dx+dy*dy <= 1
}

// lighter mixes a colour halfway with white.
func lighter(c color.RGBA) color.RGBA {
	return color.RGBA{R: c.R/2 + 128, G: c.G/2 + 128, B: c.B/2 + 128, A: 255}
}
