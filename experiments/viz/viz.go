// Package viz draws the pictures the experiments and notebooks show: line charts of training curves and
// heat maps of word×region attention as SVG, attention-weighted boxes on an image, weight-coloured tokens and
// tables as HTML, and a Page that gathers such sections into one standalone HTML file.
//
// Everything is pure Go and works offline: no JavaScript, no CDN, no fonts to load. The SVG and HTML strings can
// be shown in a GoNB notebook with gonbui.DisplaySVG / gonbui.DisplayHTML, images with gonbui.DisplayImage, or
// written to disk with WriteFile and WritePNG.
package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// blues holds ColorBrewer's 9-class "Blues" scale, from near-white (low) to dark blue (high). Every channel falls
// from one entry to the next, so after interpolation and rounding to 8 bits the luminance still never rises with
// the value: darker always means larger, also in grey-scale print.
var blues = [...]color.RGBA{
	{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff}, {0x9e, 0xca, 0xe1, 0xff},
	{0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff}, {0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff},
	{0x08, 0x30, 0x6b, 0xff},
}

// ColorMap returns the colour for t in [0, 1], light for 0 and dark blue for 1 (values outside are clamped; NaN
// gives the lightest colour).
func ColorMap(t float64) color.RGBA {
	if !(t > 0) {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	pos := t * float64(len(blues)-1)
	i := int(pos)
	if i >= len(blues)-1 {
		return blues[len(blues)-1]
	}
	f := pos - float64(i)
	a, b := blues[i], blues[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// hexColor formats c as #rrggbb, ignoring alpha.
func hexColor(c color.RGBA) string {
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

// formatNumber prints v compactly for axis ticks and tooltips (at most 4 significant digits).
func formatNumber(v float64) string {
	if v == 0 { // also turns -0 into 0
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// WriteFile writes content to path, creating the parent directories.
func WriteFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WritePNG encodes img as PNG into path, creating the parent directories.
func WritePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encoding PNG %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}
