package synthetic

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// refExpressions lists the referring expressions that pick out objs[i] and no other object of the scene: by
// colour and shape, by size and shape, by colour, by size, colour and shape, as the leftmost or rightmost of its
// shape or of its colour and shape, and by its place left or right of another object named by colour and shape.
func refExpressions(objs []Object, i int) []string {
	o := objs[i]
	var out []string
	only := func(text string, match func(Object) bool) {
		if match(o) && countMatching(objs, match) == 1 {
			out = append(out, text)
		}
	}
	only(fmt.Sprintf("the %s %s", o.Color, o.Shape), func(p Object) bool { return p.Color == o.Color && p.Shape == o.Shape })
	only(fmt.Sprintf("the %s %s", o.Size, o.Shape), func(p Object) bool { return p.Size == o.Size && p.Shape == o.Shape })
	only(fmt.Sprintf("the %s object", o.Color), func(p Object) bool { return p.Color == o.Color })
	only(fmt.Sprintf("the %s %s %s", o.Size, o.Color, o.Shape), func(p Object) bool {
		return p.Size == o.Size && p.Color == o.Color && p.Shape == o.Shape
	})
	extreme := func(name string, match func(Object) bool) {
		var group []Object
		for _, p := range objs {
			if match(p) {
				group = append(group, p)
			}
		}
		if len(group) < 2 {
			return
		}
		byX := func(p, q Object) int { return cmp.Compare(p.centerX(), q.centerX()) }
		if slices.MinFunc(group, byX) == o {
			out = append(out, fmt.Sprintf("the leftmost %s", name))
		}
		if slices.MaxFunc(group, byX) == o {
			out = append(out, fmt.Sprintf("the rightmost %s", name))
		}
	}
	extreme(o.Shape, func(p Object) bool { return p.Shape == o.Shape })
	extreme(o.Color+" "+o.Shape, func(p Object) bool { return p.Color == o.Color && p.Shape == o.Shape })
	for j, r := range objs {
		if j == i || countMatching(objs, func(p Object) bool { return p.Color == r.Color && p.Shape == r.Shape }) != 1 {
			continue
		}
		for _, side := range sides {
			onSide := func(p Object) bool {
				if side == "left" {
					return p.centerX() < r.centerX()
				}
				return p.centerX() > r.centerX()
			}
			only(fmt.Sprintf("the %s %s of the %s %s", o.Shape, side, r.Color, r.Shape), func(p Object) bool {
				return p != r && p.Shape == o.Shape && onSide(p)
			})
		}
	}
	return out
}

// jitterBox moves each side of box by Gaussian noise of σ = 10% of the box's width or height, like a detector's
// localisation error, keeping it inside the image and at least 2 pixels wide.
func jitterBox(rng *rand.Rand, box [4]float32, width, height int) [4]float32 {
	w, h := float64(box[2]-box[0]), float64(box[3]-box[1])
	j := func(v float32, scale float64, hi int) float32 {
		return float32(min(max(float64(v)+0.1*scale*rng.NormFloat64(), 0), float64(hi)))
	}
	out := [4]float32{j(box[0], w, width), j(box[1], h, height), j(box[2], w, width), j(box[3], h, height)}
	out[2], out[3] = max(out[2], out[0]+2), max(out[3], out[1]+2)
	return out
}

// refCategories are the COCO-style categories of the objects: one per shape.
func refCategories() []txtdb.RefCategory {
	cats := make([]txtdb.RefCategory, len(Shapes))
	for i, s := range Shapes {
		cats[i] = txtdb.RefCategory{ID: int64(i + 1), Name: s, Supercategory: "object"}
	}
	return cats
}

// writeRefCOCO writes the RefCOCO dataset: per split a txt_db with up to PerImage referred objects per scene and
// SentencesPerRef expressions each, as ORIG's prepro.py process_referring_expressions writes it (records sent_id,
// sent, ref_id, ann_id, image_id, bbox, input_ids, img_fname; refs.json, images.json, annotations.json,
// categories.json), an img_db re_coco_gt of one region per object in the image's ann_ids order (a random
// permutation), and an img_db re_coco_det of detector regions: every object's box jittered, in random order, and
// the scene's background proposals. Both use ORIG's conf_th -1 layout feat_numbb100. Image i's object k has
// annotation id i·100+k; refs and sentences are numbered from 1 across splits.
func (w *taskWriter) writeRefCOCO() error {
	var (
		scenes          []Scene
		gtFeats, dtFeat []*features.ImageFeatures
		id              int64
		refID, sentID   int64
	)
	cfg := w.cfg.Scenes
	for _, sp := range w.cfg.splitSizes() {
		var (
			exs    []txtdb.Example
			refs   []map[string]any
			images []txtdb.RefImage
			anns   []txtdb.RefAnnotation
		)
		for range sp.n {
			id++
			s, err := w.scene(id, fmt.Sprintf(dataset.RefGTKeyFormat, id), sp.name)
			if err != nil {
				return err
			}
			scenes = append(scenes, s)
			rng := w.stream(id, taskStreamFeatures)
			// Ground-truth regions: the objects in a random order (ORIG's iid_to_ann_ids order of the features).
			order := rng.Perm(len(s.Objects))
			gt := Scene{Key: s.Key, Width: s.Width, Height: s.Height}
			img := txtdb.RefImage{ID: id, FileName: s.Key + ".png", Height: s.Height, Width: s.Width}
			for _, k := range order {
				gt.Objects = append(gt.Objects, s.Objects[k])
				img.AnnIDs = append(img.AnnIDs, id*100+int64(k))
			}
			images = append(images, img)
			gtFeats = append(gtFeats, w.det.regionFeatures(cfg, rng, &gt))
			det := Scene{Key: fmt.Sprintf(dataset.RefDetKeyFormat, id), Width: s.Width, Height: s.Height, Background: s.Background}
			for _, k := range rng.Perm(len(s.Objects)) {
				o := s.Objects[k]
				o.Box = jitterBox(rng, o.Box, s.Width, s.Height)
				det.Objects = append(det.Objects, o)
			}
			dtFeat = append(dtFeat, w.det.regionFeatures(cfg, rng, &det))
			for k, o := range s.Objects {
				b := o.Box
				anns = append(anns, txtdb.RefAnnotation{ID: id*100 + int64(k), ImageID: id, CategoryID: int64(indexOf(Shapes, o.Shape) + 1),
					Area: float64((b[2] - b[0]) * (b[3] - b[1])), BBox: [4]float64{float64(b[0]), float64(b[1]),
						float64(b[2] - b[0]), float64(b[3] - b[1])}})
			}
			text := w.stream(id, taskStreamText)
			referred := 0
			for _, k := range text.Perm(len(s.Objects)) {
				exprs := refExpressions(s.Objects, k)
				if referred == w.cfg.PerImage || len(exprs) < w.cfg.SentencesPerRef {
					continue
				}
				referred++
				refID++
				ann := anns[len(anns)-len(s.Objects)+k]
				ref := map[string]any{"ref_id": refID, "ann_id": ann.ID, "image_id": id, "split": sp.name,
					"category_id": ann.CategoryID, "file_name": fmt.Sprintf("%s_%d.png", s.Key, ann.ID)}
				var sentIDs []int64
				var sents []map[string]any
				for _, e := range text.Perm(len(exprs))[:w.cfg.SentencesPerRef] {
					sentID++
					sent := exprs[e]
					sentIDs = append(sentIDs, sentID)
					sents = append(sents, map[string]any{"sent_id": sentID, "sent": sent, "raw": sent, "tokens": wordTokens(sent)})
					exs = append(exs, txtdb.Example{ID: fmt.Sprint(sentID), InputIDs: w.tok.Encode(sent), ImageFile: s.Key + ".npz",
						Raw: map[string]any{"sent_id": sentID, "sent": sent, "ref_id": refID, "ann_id": ann.ID, "image_id": id,
							"bbox": ann.BBox[:]}})
				}
				ref["sent_ids"], ref["sentences"] = sentIDs, sents
				refs = append(refs, ref)
			}
		}
		if err := w.writeTxtDB(sp.name, exs, map[string]any{"refs": refs, "images": images, "annotations": anns,
			"categories": refCategories()}); err != nil {
			return err
		}
	}
	for dir, fs := range map[string][]*features.ImageFeatures{w.layout.ImgDB(SplitTrain): gtFeats, w.layout.RefDetImgDB(): dtFeat} {
		if err := features.WriteImgDBNumBB(dir, 100, fs, false); err != nil {
			return err
		}
	}
	return w.writeScenes(scenes)
}
