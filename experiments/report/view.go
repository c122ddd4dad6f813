package report

import (
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"slices"
	"strings"

	// Decoders for the scene images: the synthetic renderer writes PNG, real datasets mostly JPEG.
	_ "image/jpeg"
	_ "image/png"

	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// View is the attention of one example at one layer and head, drawn three ways.
type View struct {
	Layer, Head int // the layer and head drawn (Layer resolved from LastLayer; Head may be AllHeads)
	// Matrix is the word × region attention the heat map was drawn from (WordRegionAttention).
	Matrix        [][]float32
	RegionWeights []float32   // RegionWeights(Matrix): the boxes' labels, opacities and widths
	TokenWeights  []float32   // TokenWeights(Matrix): the tokens' colours
	Heatmap       string      // SVG: tokens × regions
	Scene         image.Image // the regions as boxes over the image
	Tokens        string      // HTML: the tokens coloured by TokenWeights
}

// regionLabels names the regions r0, r1, … .
func regionLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d", i)
	}
	return out
}

// HeadName describes a layer and head for titles, e.g. "layer 1, head 3" or "layer 1, mean of 4 heads".
func HeadName(layer, head, heads int) string {
	if head == AllHeads {
		return fmt.Sprintf("layer %d, mean of %d heads", layer, heads)
	}
	return fmt.Sprintf("layer %d, head %d", layer, head)
}

// DrawAttention draws the text → region attention of am at a layer (or LastLayer) and head (or AllHeads): the
// heat map of the word × region matrix, the regions as boxes over the image at am.ImagePath (enlarged when its
// shorter side is under 480 pixels) with opacity and width from the least (faint, thin) to the most attended region
// (opaque, thick) by RegionWeights, labelled "r<i> <weight>", and the tokens coloured by TokenWeights. Any image works: set
// am.ImagePath to a real photo whose pixel coordinates the boxes use. Without an image path the boxes are drawn
// on a blank canvas that holds them.
func DrawAttention(am *runner.AttentionMap, layer, head int) (*View, error) {
	nt, nr := len(am.Tokens), len(am.Boxes)
	m, err := WordRegionAttention(am.Probs, layer, head, nt, nr, nt, nr)
	if err != nil {
		return nil, err
	}
	if layer == LastLayer {
		layer = len(am.Probs) - 1
	}
	v := &View{Layer: layer, Head: head, Matrix: m, RegionWeights: RegionWeights(m), TokenWeights: TokenWeights(m)}
	title := "text → region attention, " + HeadName(layer, head, len(am.Probs[layer]))
	if v.Heatmap, err = viz.Heatmap(m, am.Tokens, regionLabels(nr), title); err != nil {
		return nil, err
	}
	img, err := sceneImage(am)
	if err != nil {
		return nil, err
	}
	labels := make([]string, nr)
	for i, w := range v.RegionWeights {
		labels[i] = fmt.Sprintf("r%d %.2f", i, w)
	}
	img, boxes := Enlarge(img, am.Boxes, sceneMinSide)
	v.Scene = viz.DrawBoxes(img, boxes, stretch(v.RegionWeights), labels)
	v.Tokens = viz.TokensHTML(am.Tokens, v.TokenWeights)
	return v, nil
}

// stretch maps weights linearly onto [0, 1], the smallest to 0 and the largest to 1, so that the boxes show the
// differences between regions even when the attention is spread almost evenly; equal weights all become 1.
func stretch(w []float32) []float32 {
	if len(w) == 0 {
		return nil
	}
	lo, hi := slices.Min(w), slices.Max(w)
	out := make([]float32, len(w))
	for i, x := range w {
		out[i] = 1
		if hi > lo {
			out[i] = (x - lo) / (hi - lo)
		}
	}
	return out
}

// sceneImage reads the image at am.ImagePath, or makes a light grey canvas that holds every box when there is none.
func sceneImage(am *runner.AttentionMap) (image.Image, error) {
	if am.ImagePath != "" {
		return LoadImage(am.ImagePath)
	}
	w, h := 64.0, 64.0
	for _, b := range am.Boxes {
		w, h = math.Max(w, float64(b[2])), math.Max(h, float64(b[3]))
	}
	canvas := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(w)), int(math.Ceil(h))))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.Gray{Y: 235}), image.Point{}, draw.Src)
	return canvas, nil
}

// sceneMinSide is the shorter side DrawAttention enlarges small scenes to, so that box labels stay readable.
const sceneMinSide = 480

// Enlarge scales img up by the smallest integer factor that makes its shorter side at least minSide (nearest
// neighbour, so pixels stay sharp), together with boxes in its pixel coordinates. Images already that large are
// returned as they are.
func Enlarge(img image.Image, boxes [][4]float32, minSide int) (image.Image, [][4]float32) {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	if side <= 0 || side >= minSide {
		return img, boxes
	}
	k := (minSide + side - 1) / side
	out := image.NewRGBA(image.Rect(0, 0, k*b.Dx(), k*b.Dy()))
	for y := range out.Bounds().Dy() {
		for x := range out.Bounds().Dx() {
			out.Set(x, y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	scaled := make([][4]float32, len(boxes))
	for i, box := range boxes {
		for j, v := range box {
			scaled[i][j] = v * float32(k)
		}
	}
	return out, scaled
}

// LoadImage decodes a PNG or JPEG file.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading image: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decoding image %s: %w", path, err)
	}
	return img, nil
}

// AttentionGrid returns an HTML block with the word × region heat map of every layer and head of am, one row of
// heat maps per layer, ending with the layer's mean over the heads.
func AttentionGrid(am *runner.AttentionMap) (string, error) {
	nt, nr := len(am.Tokens), len(am.Boxes)
	var b strings.Builder
	b.WriteString(`<div class="attention-grid">`)
	for l := range am.Probs {
		heads := len(am.Probs[l])
		fmt.Fprintf(&b, `<div style="display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start">`)
		for h := 0; h <= heads; h++ {
			head := h
			if h == heads {
				head = AllHeads
			}
			m, err := WordRegionAttention(am.Probs, l, head, nt, nr, nt, nr)
			if err != nil {
				return "", err
			}
			svg, err := viz.Heatmap(m, am.Tokens, regionLabels(nr), HeadName(l, head, heads))
			if err != nil {
				return "", err
			}
			b.WriteString(`<div>` + svg + `</div>`)
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	return b.String(), nil
}

// HeadScenes returns an HTML block with the regions as boxes over the scene, weighted by the attention of each head
// of a layer (or LastLayer) in turn, the mean of the heads first, each captioned with its head, width px wide.
func HeadScenes(am *runner.AttentionMap, layer, width int) (string, error) {
	if layer == LastLayer {
		layer = len(am.Probs) - 1
	}
	if layer < 0 || layer >= len(am.Probs) {
		return "", fmt.Errorf("head scenes: layer %d outside the %d layers", layer, len(am.Probs))
	}
	heads := len(am.Probs[layer])
	var b strings.Builder
	b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:8px">`)
	for h := AllHeads; h < heads; h++ {
		v, err := DrawAttention(am, layer, h)
		if err != nil {
			return "", err
		}
		src, err := viz.PNGDataURI(v.Scene)
		if err != nil {
			return "", err
		}
		name := html.EscapeString(HeadName(layer, h, heads))
		fmt.Fprintf(&b, `<figure style="margin:0"><img alt="%s" src="%s" style="width:%dpx"><figcaption>%s</figcaption></figure>`,
			name, src, width, name)
	}
	b.WriteString(`</div>`)
	return b.String(), nil
}

// ExampleHTML describes an example in one HTML line: its text, and for VQA the predicted answer.
func ExampleHTML(am *runner.AttentionMap) string {
	s := "<p><b>Text:</b> " + html.EscapeString(am.Text)
	if am.Predicted != "" {
		s += " &nbsp; <b>Predicted:</b> " + html.EscapeString(am.Predicted)
	}
	return s + "</p>"
}
