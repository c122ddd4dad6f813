package synthetic

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// retrievalTemplates are the caption templates (indices into captionTemplates) that name at least one object by
// size, colour and shape or two by colour and shape, so that a caption singles out few images of a split.
var retrievalTemplates = []int{0, 1, 2, 5, 6}

// retrievalCaptions writes n captions of a scene, cycling through retrievalTemplates in a random order.
func retrievalCaptions(n int, rng *rand.Rand, s *Scene) []string {
	byX := slices.Clone(s.Objects)
	slices.SortStableFunc(byX, func(p, q Object) int { return cmp.Compare(p.centerX(), q.centerX()) })
	order := rng.Perm(len(retrievalTemplates))
	out := make([]string, n)
	for k := range out {
		out[k] = captionTemplates[retrievalTemplates[order[k%len(order)]]](rng, byX)
	}
	return out
}

// writeRetrieval writes the image-text retrieval dataset: per split a txt_db of PerImage captions per image
// (ORIG itm_*.db: input_ids, img_fname, the raw caption; txt2img.json and img2txts.json) and one img_db of all
// images. Caption k of image i has id i·100+k.
func (w *taskWriter) writeRetrieval() error {
	return w.writeSingleImageTask(
		func(id int64, key, split string) (Scene, error) { return w.scene(id, key, split) },
		func(id int64, s *Scene) []txtdb.Example {
			var exs []txtdb.Example
			for k, c := range retrievalCaptions(w.cfg.PerImage, w.stream(id, taskStreamText), s) {
				exs = append(exs, txtdb.Example{ID: fmt.Sprint(id*captionIDStride + int64(k)), InputIDs: w.tok.Encode(c),
					ImageFile: s.Key + ".npz", Raw: map[string]any{"raw": c}})
			}
			return exs
		})
}

// writeSingleImageTask writes a task of one scene per example image (itr, ve): per split a txt_db of the records
// of its scenes, and one img_db of every image, keyed FeatureKey(id) with ids counted across the splits.
func (w *taskWriter) writeSingleImageTask(scene func(id int64, key, split string) (Scene, error),
	records func(id int64, s *Scene) []txtdb.Example) error {
	var (
		scenes []Scene
		feats  []*features.ImageFeatures
		id     int64
	)
	for _, sp := range w.cfg.splitSizes() {
		var exs []txtdb.Example
		for range sp.n {
			id++
			s, err := scene(id, FeatureKey(id), sp.name)
			if err != nil {
				return err
			}
			scenes = append(scenes, s)
			feats = append(feats, w.det.regionFeatures(w.cfg.Scenes, w.stream(id, taskStreamFeatures), &s))
			exs = append(exs, records(id, &s)...)
		}
		if err := w.writeTxtDB(sp.name, exs, nil); err != nil {
			return err
		}
	}
	if err := writeImgDB(w.layout.ImgDB(SplitTrain), feats); err != nil {
		return err
	}
	return w.writeScenes(scenes)
}
