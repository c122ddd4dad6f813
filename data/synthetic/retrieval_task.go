package synthetic

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// retrievalFrames are the sentence frames of the retrieval captions.
var retrievalFrames = []string{"%s.", "there is %s.", "a scene with %s.", "%s on the floor."}

// retrievalCaption describes every object of a scene, in a random order, as "a [size] <color> <shape>" (with the
// size half of the time), in a random frame: "a small red cube, a blue sphere and a large gray cone."
func retrievalCaption(rng *rand.Rand, objs []Object) string {
	parts := make([]string, len(objs))
	for i, k := range rng.Perm(len(objs)) {
		o := objs[k]
		d := o.Color + " " + o.Shape
		if rng.IntN(2) == 0 {
			d = o.Size + " " + d
		}
		parts[i] = "a " + d
	}
	list := strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	return fmt.Sprintf(retrievalFrames[rng.IntN(len(retrievalFrames))], list)
}

// writeRetrieval writes the image-text retrieval dataset: per split a txt_db of PerImage captions per image
// (retrievalCaption; ORIG itm_*.db: input_ids, img_fname, the raw caption; txt2img.json and img2txts.json) and one
// img_db of all images. Caption k of image i has id i·100+k.
func (w *taskWriter) writeRetrieval() error {
	return w.writeSingleImageTask(
		func(id int64, key, split string) (Scene, error) { return w.scene(id, key, split) },
		func(id int64, s *Scene) []txtdb.Example {
			var exs []txtdb.Example
			rng := w.stream(id, taskStreamText)
			for k := range w.cfg.PerImage {
				c := retrievalCaption(rng, s.Objects)
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
