package features

import (
	"fmt"
	"github.com/uniter-go/uniter/data/pydata"
	"slices"
	"strings"
)

// fromArrays builds the features of one image from the arrays of an .npz file, an img_db record or an MMF
// feature dict. Features come from "features" [N,D]. Pixel boxes come from "boxes" or "bbox" [N,4] with the image
// size in "image_w"/"image_h" (npz) or "image_width"/"image_height" (MMF); without them the ORIG normalised boxes
// "norm_bb" [N,≥4] are used and Width = Height = 1. Class probabilities come from "cls_prob" or ORIG's
// "soft_labels" [N,C] (None is absent). ORIG's optional scalar "num_bbox" and maxBoxes (when > 0) keep only the
// first boxes; MMF's "num_boxes" is informational, as in MMF's readers, which use every row of "features".
func fromArrays(id string, arrs map[string]any, maxBoxes int) (*ImageFeatures, error) {
	feat, err := arrayOf(arrs, "features")
	if err != nil {
		return nil, err
	}
	if feat == nil {
		return nil, fmt.Errorf("no %q array (keys: %s)", "features", keyList(arrs))
	}
	if len(feat.Shape) != 2 {
		return nil, fmt.Errorf("features: want 2 dimensions, got shape %v", feat.Shape)
	}
	n, dim := feat.Shape[0], feat.Shape[1]
	keep := n
	if v, ok := arrs["num_bbox"]; ok {
		nb, ok := pydata.AsInt(v)
		if !ok {
			return nil, fmt.Errorf("num_bbox: %s is not an integer", pydata.TypeName(v))
		}
		if nb < 0 || int(nb) > n {
			return nil, fmt.Errorf("num_bbox %d outside [0,%d]", nb, n)
		}
		keep = int(nb)
	}
	if maxBoxes > 0 {
		keep = min(keep, maxBoxes)
	}
	f := &ImageFeatures{ImageID: id, NumBoxes: keep, Dim: dim, Width: 1, Height: 1}
	all, err := feat.Float32s()
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	f.Features = all[:keep*dim]

	boxes, err := arrayOf(arrs, "boxes", "bbox")
	if err != nil {
		return nil, err
	}
	norm := false
	if boxes == nil {
		if boxes, err = arrayOf(arrs, "norm_bb"); err != nil {
			return nil, err
		}
		norm = true
	}
	if boxes == nil {
		return nil, fmt.Errorf("no boxes: want %q, %q or %q (keys: %s)", "boxes", "bbox", "norm_bb", keyList(arrs))
	}
	if len(boxes.Shape) != 2 || boxes.Shape[0] != n || boxes.Shape[1] < 4 || (!norm && boxes.Shape[1] != 4) {
		return nil, fmt.Errorf("boxes: shape %v does not fit %d regions", boxes.Shape, n)
	}
	cols := boxes.Shape[1]
	if all, err = boxes.Float32s(); err != nil {
		return nil, fmt.Errorf("boxes: %w", err)
	}
	f.Boxes = make([]float32, 4*keep)
	for i := 0; i < keep; i++ {
		copy(f.Boxes[4*i:4*i+4], all[cols*i:cols*i+4])
	}
	if !norm {
		if f.Width, err = sizeOf(arrs, "image_w", "image_width"); err != nil {
			return nil, err
		}
		if f.Height, err = sizeOf(arrs, "image_h", "image_height"); err != nil {
			return nil, err
		}
	}

	cp, err := arrayOf(arrs, "cls_prob", "soft_labels")
	if err != nil {
		return nil, err
	}
	if cp != nil {
		if len(cp.Shape) != 2 || cp.Shape[0] != n {
			return nil, fmt.Errorf("class probabilities: shape %v does not fit %d regions", cp.Shape, n)
		}
		f.NumClasses = cp.Shape[1]
		if all, err = cp.Float32s(); err != nil {
			return nil, fmt.Errorf("class probabilities: %w", err)
		}
		f.ClassProbs = all[:keep*f.NumClasses]
	}
	return f, nil
}

// arrayOf returns the first of keys present and not None; it must be a numeric array.
func arrayOf(arrs map[string]any, keys ...string) (*pydata.Array, error) {
	for _, k := range keys {
		v, ok := arrs[k]
		if !ok || v == nil {
			continue
		}
		a, ok := v.(*pydata.Array)
		if !ok || !a.IsNumeric() {
			return nil, fmt.Errorf("%s: %s is not a numeric array", k, pydata.TypeName(v))
		}
		return a, nil
	}
	return nil, nil
}

// sizeOf reads a positive image size from the first of keys present.
func sizeOf(arrs map[string]any, keys ...string) (int, error) {
	for _, k := range keys {
		v, ok := arrs[k]
		if !ok {
			continue
		}
		n, ok := pydata.AsInt(v)
		if !ok || n <= 0 || n > 1<<30 {
			return 0, fmt.Errorf("%s: %v is not a positive image size", k, v)
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("pixel boxes without the image size (%s)", strings.Join(keys, " or "))
}

// anyValues widens a map of arrays for fromArrays.
func anyValues(arrs map[string]*pydata.Array) map[string]any {
	out := make(map[string]any, len(arrs))
	for k, a := range arrs {
		out[k] = a
	}
	return out
}

// keyList lists the keys of a record, sorted, for messages.
func keyList(arrs map[string]any) string {
	ks := make([]string, 0, len(arrs))
	for k := range arrs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// validate checks that the slices of f agree with its sizes and that its id can be a file name and a TSV field.
func (f *ImageFeatures) validate() error {
	switch {
	case f.ImageID == "" || strings.ContainsAny(f.ImageID, "/\\\t\n\r\x00"):
		return fmt.Errorf("image id %q is empty or holds a path separator, tab or line break", f.ImageID)
	case f.Width <= 0 || f.Height <= 0:
		return fmt.Errorf("image %q: size %dx%d is not positive", f.ImageID, f.Width, f.Height)
	case f.NumBoxes < 0 || f.Dim < 0 || f.NumClasses < 0:
		return fmt.Errorf("image %q: negative size", f.ImageID)
	case len(f.Features) != f.NumBoxes*f.Dim:
		return fmt.Errorf("image %q: %d features for %d×%d", f.ImageID, len(f.Features), f.NumBoxes, f.Dim)
	case len(f.Boxes) != 4*f.NumBoxes:
		return fmt.Errorf("image %q: %d box values for %d boxes", f.ImageID, len(f.Boxes), f.NumBoxes)
	case f.ClassProbs != nil && len(f.ClassProbs) != f.NumBoxes*f.NumClasses:
		return fmt.Errorf("image %q: %d class probabilities for %d×%d", f.ImageID, len(f.ClassProbs), f.NumBoxes,
			f.NumClasses)
	}
	return nil
}

// normBB returns ORIG's 6-column normalised boxes [x1/W, y1/H, x2/W, y2/H, w/W, h/H] (the loader appends the area).
func (f *ImageFeatures) normBB() []float32 {
	pos := f.PositionFeatures()
	nb := make([]float32, 6*f.NumBoxes)
	for i := 0; i < f.NumBoxes; i++ {
		copy(nb[6*i:6*i+6], pos[7*i:7*i+6])
	}
	return nb
}

// trimNPZ maps a file or LMDB key name to an image id by dropping a ".npz" suffix.
func trimNPZ(name string) string { return strings.TrimSuffix(name, ".npz") }
