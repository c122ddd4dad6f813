package features

import (
	"bytes"
	"fmt"
	"github.com/uniter-go/uniter/data/pydata"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// npzDir reads a directory of <ImageID>.npz files.
type npzDir struct {
	dir string
	ids []string
	has map[string]bool
}

// OpenNPZDir opens a directory of per-image <ImageID>.npz files (see fromArrays for the keys understood, which
// include ORIG's features/norm_bb/soft_labels dumps). Get accepts the id with or without ".npz".
func OpenNPZDir(dir string) (Reader, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("opening npz directory %s: %w", dir, err)
	}
	r := &npzDir{dir: dir, has: map[string]bool{}}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".npz") {
			id := trimNPZ(e.Name())
			r.ids = append(r.ids, id)
			r.has[id] = true
		}
	}
	sort.Strings(r.ids)
	return r, nil
}

// Get implements Reader.
func (r *npzDir) Get(imageID string) (*ImageFeatures, error) {
	id := trimNPZ(imageID)
	if !r.has[id] {
		return nil, fmt.Errorf("npz directory %s: no image %q", r.dir, imageID)
	}
	path := filepath.Join(r.dir, id+".npz")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s (image %q): %w", path, id, err)
	}
	arrs, err := pydata.ReadNPZ(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("reading %s (image %q): %w", path, id, err)
	}
	f, err := fromArrays(id, anyValues(arrs), 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s (image %q): %w", path, id, err)
	}
	return f, nil
}

// IDs implements Reader.
func (r *npzDir) IDs() []string { return append([]string(nil), r.ids...) }

// Close implements Reader.
func (r *npzDir) Close() error { return nil }

// WriteNPZ writes one image as an uncompressed .npz file (like np.savez) with float32 "features" [N,D] and
// "boxes" [N,4] (pixels), ORIG's "norm_bb" [N,6], int64 scalars "image_w", "image_h", "num_bbox", and
// "cls_prob" [N,C] when ClassProbs is set. Name the file <ImageID>.npz for OpenNPZDir.
func WriteNPZ(path string, f *ImageFeatures) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	arrs := map[string]*pydata.Array{
		"features": pydata.Float32Array("<f4", []int{f.NumBoxes, f.Dim}, f.Features),
		"boxes":    pydata.Float32Array("<f4", []int{f.NumBoxes, 4}, f.Boxes),
		"norm_bb":  pydata.Float32Array("<f4", []int{f.NumBoxes, 6}, f.normBB()),
		"image_w":  pydata.Int64Scalar(int64(f.Width)),
		"image_h":  pydata.Int64Scalar(int64(f.Height)),
		"num_bbox": pydata.Int64Scalar(int64(f.NumBoxes)),
	}
	keys := []string{"features", "boxes", "norm_bb", "image_w", "image_h", "num_bbox"}
	if f.ClassProbs != nil {
		arrs["cls_prob"] = pydata.Float32Array("<f4", []int{f.NumBoxes, f.NumClasses}, f.ClassProbs)
		keys = append(keys, "cls_prob")
	}
	var buf bytes.Buffer
	if err := pydata.EncodeNPZ(&buf, keys, arrs, false); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
