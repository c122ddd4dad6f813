package txtdb

import "fmt"

// ImageFiles returns the record's img_fname as a list: one file name, or the two of an NLVR2 pair. Examples built
// in Go without Raw fields give their ImageFile.
func (ex *Example) ImageFiles() []string {
	if ex.Raw == nil {
		if ex.ImageFile == "" {
			return nil
		}
		return []string{ex.ImageFile}
	}
	return imageFiles(ex.Raw["img_fname"])
}

// NLVR2Fields are the task fields of an NLVR2 record as ORIG's prepro.py (process_nlvr2) writes them.
type NLVR2Fields struct {
	ImageFiles [2]string // img_fname: the left and the right image, "nlvr2_<split>-<n>-<k>-img0.npz" and "…-img1.npz"
	Target     int       // 1 = the statement is true, 0 = false, -1 = no label (target None: unlabelled test data)
}

// NLVR2 decodes the NLVR2 fields of the record; the error names the bad field.
func (ex *Example) NLVR2() (NLVR2Fields, error) {
	var f NLVR2Fields
	imgs := ex.ImageFiles()
	if len(imgs) != 2 {
		return f, fmt.Errorf("example %q: img_fname %v is not a pair of image files", ex.ID, ex.Raw["img_fname"])
	}
	f.ImageFiles = [2]string{imgs[0], imgs[1]}
	switch t := ex.Raw["target"]; {
	case t == nil:
		f.Target = -1
	default:
		v, ok := toFloat(t)
		if !ok || (v != 0 && v != 1) {
			return f, fmt.Errorf("example %q: target %v is neither 0, 1 nor None", ex.ID, t)
		}
		f.Target = int(v)
	}
	return f, nil
}

// RefFields are the fields of a referring-expression record (one sentence) as ORIG's prepro.py
// (process_referring_expressions) writes them; img_fname is the example's ImageFile.
type RefFields struct {
	SentID, RefID, AnnID, ImageID int64
	Sent                          string     // the referring expression
	BBox                          [4]float64 // box of the referred annotation, COCO [x, y, w, h] in pixels
}

// Ref decodes the referring-expression fields of the record; the error names the missing or bad field.
func (ex *Example) Ref() (RefFields, error) {
	var f RefFields
	for key, dst := range map[string]*int64{"sent_id": &f.SentID, "ref_id": &f.RefID, "ann_id": &f.AnnID,
		"image_id": &f.ImageID} {
		v, ok := toFloat(ex.Raw[key])
		if !ok || v != float64(int64(v)) {
			return f, fmt.Errorf("example %q: %s %v is not an integer", ex.ID, key, ex.Raw[key])
		}
		*dst = int64(v)
	}
	var ok bool
	if f.Sent, ok = ex.Raw["sent"].(string); !ok {
		return f, fmt.Errorf("example %q: sent %v is not a string", ex.ID, ex.Raw["sent"])
	}
	box, ok := ex.Raw["bbox"].([]any)
	if !ok || len(box) != 4 {
		return f, fmt.Errorf("example %q: bbox %v is not a list of 4 numbers", ex.ID, ex.Raw["bbox"])
	}
	for i, v := range box {
		if f.BBox[i], ok = toFloat(v); !ok {
			return f, fmt.Errorf("example %q: bbox %v is not a list of 4 numbers", ex.ID, box)
		}
	}
	return f, nil
}
