package synthetic

import (
	"math"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/features"
)

// detector is the fixed random projection that stands in for a Faster R-CNN: one D-dim row per attribute of the
// full tables (shapes, colours, sizes), one per coordinate of the 7-d box vector, and one for background regions.
// It depends only on the detector seed and D, so every split and every dataset generated with the same detector
// seed lives in the same feature space.
type detector struct {
	dim  int
	rows [][]float32
}

// Row offsets of the detector projection.
var (
	colorRow      = len(Shapes)
	sizeRow       = colorRow + len(Colors)
	boxRow        = sizeRow + len(Sizes)
	backgroundRow = boxRow + 7
	materialRow   = backgroundRow + 1 // appended last, so the rows before it do not depend on it
	detectorRows  = materialRow + len(Materials)
)

// backgroundNoise is the σ of the noise of background regions: they are mostly noise.
const backgroundNoise = 1.0

// newDetector draws the projection from N(0,1) with its own seed.
func newDetector(seed int64, dim int) *detector {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x64657465)) // "dete"
	d := &detector{dim: dim, rows: make([][]float32, detectorRows)}
	for i := range d.rows {
		d.rows[i] = make([]float32, dim)
		for j := range d.rows[i] {
			d.rows[i][j] = float32(rng.NormFloat64())
		}
	}
	return d
}

// regionFeatures builds the detections of a scene: the objects (in scene order) then the background regions.
// An object's feature is ReLU((P[shape]+P[color]+P[size])/√3 + Σ_k pos_k·P[box_k] + σ·noise), and a large object
// with a material has (P[shape]+P[color]+P[size]+P[material])/2 in place of the first term (the material of small
// objects cannot be told); a background
// region's is ReLU(P[background] + Σ_k pos_k·P[box_k] + backgroundNoise·noise). Class distributions peak on
// classID(shape, color) (objects) or backgroundClassID.
func (d *detector) regionFeatures(cfg Config, rng *rand.Rand, s *Scene) *features.ImageFeatures {
	n := len(s.Objects) + len(s.Background)
	f := &features.ImageFeatures{
		ImageID: s.Key, Width: s.Width, Height: s.Height,
		NumBoxes: n, Dim: d.dim, NumClasses: cfg.NumClasses,
		Features: make([]float32, n*d.dim),
		Boxes:    make([]float32, 0, 4*n),
	}
	for _, o := range s.Objects {
		f.Boxes = append(f.Boxes, o.Box[:]...)
	}
	for _, b := range s.Background {
		f.Boxes = append(f.Boxes, b[:]...)
	}
	pos := f.PositionFeatures()
	if cfg.NumClasses > 0 {
		f.ClassProbs = make([]float32, n*cfg.NumClasses)
	}
	pre := make([]float64, d.dim)
	for r := range n {
		var attrs []int
		scale, noise, class := 1.0, cfg.FeatureNoise, backgroundClassID
		if r < len(s.Objects) {
			o := s.Objects[r]
			shape, colorIdx := indexOf(Shapes, o.Shape), indexOf(Colors, o.Color)
			attrs = []int{shape, colorRow + colorIdx, sizeRow + indexOf(Sizes, o.Size)}
			if m := indexOf(Materials, o.Material); m >= 0 && o.Size == Sizes[len(Sizes)-1] {
				attrs = append(attrs, materialRow+m)
			}
			scale, class = 1/math.Sqrt(float64(len(attrs))), classID(shape, colorIdx)
		} else {
			attrs, noise = []int{backgroundRow}, backgroundNoise
		}
		for j := range pre {
			pre[j] = 0
		}
		for _, a := range attrs {
			for j, v := range d.rows[a] {
				pre[j] += scale * float64(v)
			}
		}
		for k, p := range pos[7*r : 7*r+7] {
			for j, v := range d.rows[boxRow+k] {
				pre[j] += float64(p) * float64(v)
			}
		}
		out := f.Features[r*d.dim : (r+1)*d.dim]
		for j, v := range pre {
			out[j] = float32(max(0, v+noise*rng.NormFloat64()))
		}
		if cfg.NumClasses > 0 {
			classDistribution(rng, class, f.ClassProbs[r*cfg.NumClasses:(r+1)*cfg.NumClasses])
		}
	}
	return f
}

// classDistribution fills row with a detector-like class distribution peaked on class: the peak holds 60–95% of
// the mass, 70% of the rest goes to the confusable classes (same shape other colour, same colour other shape; for
// the background class, the "no object" column 0) and 30% is spread uniformly. The row sums to 1.
func classDistribution(rng *rand.Rand, class int, row []float32) {
	peak := 0.6 + 0.35*rng.Float64()
	rest := 1 - peak
	var confusable []int
	if class == backgroundClassID {
		confusable = []int{0}
	} else {
		shape, colorIdx := (class-1)/len(Colors), (class-1)%len(Colors)
		for c := range Colors {
			if c != colorIdx {
				confusable = append(confusable, classID(shape, c))
			}
		}
		for s := range Shapes {
			if s != shape {
				confusable = append(confusable, classID(s, colorIdx))
			}
		}
	}
	p := make([]float64, len(row))
	for i := range p {
		p[i] = 0.3 * rest / float64(len(row))
	}
	p[class] += peak
	weights := make([]float64, len(confusable))
	var total float64
	for i := range weights {
		weights[i] = rng.Float64()
		total += weights[i]
	}
	for i, c := range confusable {
		p[c] += 0.7 * rest * weights[i] / total
	}
	for i, v := range p {
		row[i] = float32(v)
	}
}
