package features

import (
	"fmt"
	"strings"
)

// fromArrays builds the features of one image from the arrays of an .npz file or img_db record.
// Features come from "features" [N,D]. Pixel boxes come from "boxes" or "bbox" [N,4] with the scalars "image_w" and
// "image_h"; without them the ORIG normalised boxes "norm_bb" [N,≥4] are used and Width = Height = 1. Class
// probabilities come from "cls_prob" or ORIG's "soft_labels" [N,C]. The optional scalar "num_bbox" and maxBoxes
// (when > 0) keep only the first boxes.
func fromArrays(id string, arrs map[string]*array, maxBoxes int) (*ImageFeatures, error) {
	feat, ok := arrs["features"]
	if !ok {
		return nil, fmt.Errorf("no %q array", "features")
	}
	if len(feat.shape) != 2 {
		return nil, fmt.Errorf("features: want 2 dimensions, got shape %v", feat.shape)
	}
	n, dim := feat.shape[0], feat.shape[1]
	keep := n
	if a, ok := arrs["num_bbox"]; ok {
		nb, err := a.scalarInt()
		if err != nil {
			return nil, fmt.Errorf("num_bbox: %w", err)
		}
		if nb < 0 || nb > n {
			return nil, fmt.Errorf("num_bbox %d outside [0,%d]", nb, n)
		}
		keep = nb
	}
	if maxBoxes > 0 {
		keep = min(keep, maxBoxes)
	}
	f := &ImageFeatures{ImageID: id, NumBoxes: keep, Dim: dim, Width: 1, Height: 1}
	f.Features = feat.float32s()[:keep*dim]

	boxes, norm := firstOf(arrs, "boxes", "bbox"), false
	if boxes == nil {
		boxes, norm = arrs["norm_bb"], true
	}
	if boxes == nil {
		return nil, fmt.Errorf("no boxes: want %q, %q or %q", "boxes", "bbox", "norm_bb")
	}
	if len(boxes.shape) != 2 || boxes.shape[0] != n || boxes.shape[1] < 4 || (!norm && boxes.shape[1] != 4) {
		return nil, fmt.Errorf("boxes: shape %v does not fit %d regions", boxes.shape, n)
	}
	cols, all := boxes.shape[1], boxes.float32s()
	f.Boxes = make([]float32, 4*keep)
	for i := 0; i < keep; i++ {
		copy(f.Boxes[4*i:4*i+4], all[cols*i:cols*i+4])
	}
	if !norm {
		w, h := arrs["image_w"], arrs["image_h"]
		if w == nil || h == nil {
			return nil, fmt.Errorf("pixel boxes without %q and %q", "image_w", "image_h")
		}
		var err error
		if f.Width, err = w.scalarInt(); err != nil {
			return nil, fmt.Errorf("image_w: %w", err)
		}
		if f.Height, err = h.scalarInt(); err != nil {
			return nil, fmt.Errorf("image_h: %w", err)
		}
		if f.Width <= 0 || f.Height <= 0 {
			return nil, fmt.Errorf("image size %dx%d is not positive", f.Width, f.Height)
		}
	}

	if cp := firstOf(arrs, "cls_prob", "soft_labels"); cp != nil {
		if len(cp.shape) != 2 || cp.shape[0] != n {
			return nil, fmt.Errorf("class probabilities: shape %v does not fit %d regions", cp.shape, n)
		}
		f.NumClasses = cp.shape[1]
		f.ClassProbs = cp.float32s()[:keep*f.NumClasses]
	}
	return f, nil
}

func firstOf(arrs map[string]*array, keys ...string) *array {
	for _, k := range keys {
		if a, ok := arrs[k]; ok {
			return a
		}
	}
	return nil
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
