// Package features reads and writes per-image region features (Faster R-CNN "bottom-up" detections) in the
// on-disk layouts UNITER users meet: MMF's feature LMDB and per-image .npy files, a directory of per-image .npz
// files, ORIG UNITER's img_db LMDB, and the bottom-up-attention TSV. All readers are lazy, random-access and safe
// for concurrent Get calls.
package features

import (
	"fmt"
	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ImageFeatures holds the detections of one image.
type ImageFeatures struct {
	ImageID                   string    // key, e.g. "coco_train2014_000000000009" or "synthetic_000012"
	Width, Height             int       // image size in pixels (1×1 when only normalised boxes are known)
	NumBoxes, Dim, NumClasses int       // number of regions, feature size, number of detector classes (0 if none)
	Features                  []float32 // [NumBoxes, Dim]
	Boxes                     []float32 // [NumBoxes, 4] pixel x1,y1,x2,y2
	ClassProbs                []float32 // [NumBoxes, NumClasses] (1601 incl. background 0); may be nil
}

// Reader gives random access to the images of one feature store. Get may be called from several goroutines.
type Reader interface {
	// Get returns the features of one image; the error names the store and the id when it is missing.
	Get(imageID string) (*ImageFeatures, error)
	// IDs lists the image ids of the store, sorted.
	IDs() []string
	// Close releases the files of the store.
	Close() error
}

// PositionFeatures returns UNITER's 7-d location vectors, [NumBoxes,7] row-major:
// [x1/W, y1/H, x2/W, y2/H, w/W, h/H, (w/W)*(h/H)] with w = x2-x1, h = y2-y1.
func (f *ImageFeatures) PositionFeatures() []float32 {
	pos := make([]float32, 7*f.NumBoxes)
	w, h := float32(f.Width), float32(f.Height)
	for i := 0; i < f.NumBoxes; i++ {
		b := f.Boxes[4*i : 4*i+4]
		p := pos[7*i : 7*i+7]
		p[0], p[1], p[2], p[3] = b[0]/w, b[1]/h, b[2]/w, b[3]/h
		p[4], p[5] = p[2]-p[0], p[3]-p[1]
		p[6] = p[4] * p[5]
	}
	return pos
}

// Open opens a feature store, choosing the format from what is at path:
//   - a directory holding data.mdb, or an LMDB data file: MMF's feature LMDB when it has MMF's "keys" record,
//     else ORIG's img_db;
//   - a directory holding an ORIG feat_th*/feat_numbb*/all LMDB subdirectory: ORIG's img_db;
//   - a directory of .npz files: per-image npz features; a directory (tree) of .npy files: MMF's per-image features;
//   - any other file: a bottom-up-attention TSV.
//
// When path is none of these the error says in one line what was found there.
func Open(path string) (Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening features %s: %w", path, err)
	}
	if !st.IsDir() {
		switch {
		case strings.HasSuffix(path, ".npz"):
			return nil, fmt.Errorf("opening features %s: a single .npz file is not a feature store, give its directory", path)
		case lmdbkv.IsLMDBFile(path):
			return openLMDB(path)
		}
		if err := checkTSVStart(path); err != nil {
			return nil, fmt.Errorf("opening features %s: not a feature store: neither an LMDB file nor a bottom-up-attention TSV (%w)", path, err)
		}
		return OpenTSV(path)
	}
	if _, err := os.Stat(filepath.Join(path, "data.mdb")); err == nil {
		return openLMDB(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("opening features %s: %w", path, err)
	}
	var npz, npy, other []string
	for _, e := range entries {
		switch {
		case e.IsDir() && isImgDBName(e.Name()):
			return OpenImgDB(path)
		case strings.HasSuffix(e.Name(), ".npz"):
			npz = append(npz, e.Name())
		case strings.HasSuffix(e.Name(), ".npy") || e.IsDir():
			npy = append(npy, e.Name())
		default:
			other = append(other, e.Name())
		}
	}
	switch {
	case len(npz) > 0:
		return OpenNPZDir(path)
	case len(npy) > 0:
		return OpenNPYDir(path)
	}
	return nil, fmt.Errorf("opening features %s: not a feature store: no data.mdb, ORIG img_db LMDB, .npz or .npy files "+
		"(found %d entries%s)", path, len(entries), sample(other))
}

// checkTSVStart checks that a file starts like a bottom-up-attention TSV: a first line whose fields 2 to 4
// (image_w, image_h, num_boxes) are integers, or the header naming image_id.
func checkTSVStart(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	fields := strings.SplitN(string(head[:n]), "\t", 5)
	if len(fields) >= 4 && fields[0] == "image_id" {
		return nil
	}
	if len(fields) < 5 {
		return fmt.Errorf("its first line has %d tab-separated fields: %.40q", len(fields), head[:n])
	}
	for _, x := range fields[1:4] {
		if _, err := strconv.Atoi(x); err != nil {
			return fmt.Errorf("its first line's image_w, image_h, num_boxes are not integers: %.40q", head[:n])
		}
	}
	return nil
}

// openLMDB opens an LMDB as MMF's feature LMDB when it has MMF's keys record, else as ORIG's img_db.
func openLMDB(path string) (Reader, error) {
	s, err := lmdbkv.Open(path)
	if err != nil {
		return nil, err
	}
	isMMF, err := s.Get(mmfKeysKey, func([]byte) error { return nil })
	s.Close()
	if err != nil {
		return nil, fmt.Errorf("opening features %s: %w", path, err)
	}
	if isMMF {
		return OpenMMFLMDB(path)
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("opening features %s: an LMDB file without MMF's %q record (ORIG img_dbs are directories)",
			path, mmfKeysKey)
	}
	return OpenImgDB(path)
}

// sample lists up to three names, for messages.
func sample(names []string) string {
	if len(names) == 0 {
		return ""
	}
	if len(names) > 3 {
		return fmt.Sprintf(": %s, …", strings.Join(names[:3], ", "))
	}
	return ": " + strings.Join(names, ", ")
}
