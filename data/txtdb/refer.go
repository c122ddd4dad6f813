package txtdb

import (
	"fmt"
	"path/filepath"
)

// Ref is one referred object of refs.json (ORIG ReTxtTokLmdb; the REFER toolkit's refs, one split).
type Ref struct {
	RefID      int64   `json:"ref_id"`
	AnnID      int64   `json:"ann_id"`
	ImageID    int64   `json:"image_id"`
	CategoryID int64   `json:"category_id"`
	Split      string  `json:"split"`
	SentIDs    []int64 `json:"sent_ids"` // the sentences referring to it: their ids are the txt_db keys
}

// RefImage is one entry of images.json.
type RefImage struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	// AnnIDs lists the image's annotations in the order of its ground-truth region features: region r of the
	// image's visual_grounding_coco_gt features is annotation AnnIDs[r].
	AnnIDs []int64 `json:"ann_ids"`
	Height int     `json:"height"`
	Width  int     `json:"width"`
}

// RefAnnotation is one entry of annotations.json (a COCO instance annotation).
type RefAnnotation struct {
	ID         int64      `json:"id"`
	ImageID    int64      `json:"image_id"`
	CategoryID int64      `json:"category_id"`
	Area       float64    `json:"area"`
	BBox       [4]float64 `json:"bbox"` // COCO [x, y, w, h] in pixels
	IsCrowd    int        `json:"iscrowd"`
}

// RefCategory is one entry of categories.json.
type RefCategory struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
}

// RefInfo holds the side files of a referring-expression txt_db (ORIG prepro.py process_referring_expressions):
// refs.json, images.json, annotations.json and categories.json.
type RefInfo struct {
	Refs        []Ref // in file order
	Images      map[int64]*RefImage
	Annotations map[int64]*RefAnnotation
	Categories  map[int64]*RefCategory
}

// ReadRefInfo reads the side files of the referring-expression txt_db in dir and checks that every ref's image
// and annotation are listed.
func ReadRefInfo(dir string) (*RefInfo, error) {
	var (
		ri   = &RefInfo{}
		imgs []*RefImage
		anns []*RefAnnotation
		cats []*RefCategory
	)
	for name, v := range map[string]any{"refs.json": &ri.Refs, "images.json": &imgs, "annotations.json": &anns,
		"categories.json": &cats} {
		if err := readJSON(filepath.Join(dir, name), v, true); err != nil {
			return nil, err
		}
	}
	ri.Images = make(map[int64]*RefImage, len(imgs))
	for _, im := range imgs {
		ri.Images[im.ID] = im
	}
	ri.Annotations = make(map[int64]*RefAnnotation, len(anns))
	for _, a := range anns {
		ri.Annotations[a.ID] = a
	}
	ri.Categories = make(map[int64]*RefCategory, len(cats))
	for _, c := range cats {
		ri.Categories[c.ID] = c
	}
	for _, r := range ri.Refs {
		if _, ok := ri.Images[r.ImageID]; !ok {
			return nil, fmt.Errorf("txt_db %s: ref %d is about image %d, which is not in images.json", dir, r.RefID, r.ImageID)
		}
		if _, ok := ri.Annotations[r.AnnID]; !ok {
			return nil, fmt.Errorf("txt_db %s: ref %d refers to annotation %d, which is not in annotations.json",
				dir, r.RefID, r.AnnID)
		}
	}
	return ri, nil
}

// SentIDs lists the sentence ids (txt_db keys) of the refs in the given order (indices into Refs), each ref's
// sentences in sent_ids order, as ORIG's ReTxtTokLmdb._get_sent_ids does: with maxTxtLen > 0 only sentences of
// fewer than maxTxtLen word pieces (id2len) are kept. A sentence missing from id2len is an error.
func (ri *RefInfo) SentIDs(db *DB, order []int, maxTxtLen int) ([]string, error) {
	var out []string
	for _, i := range order {
		r := ri.Refs[i]
		for _, sid := range r.SentIDs {
			id := fmt.Sprint(sid)
			n, ok := db.Len(id)
			if !ok {
				return nil, fmt.Errorf("txt_db %s: sentence %s of ref %d is not in id2len.json", db.dir, id, r.RefID)
			}
			if maxTxtLen <= 0 || n < maxTxtLen {
				out = append(out, id)
			}
		}
	}
	return out, nil
}
