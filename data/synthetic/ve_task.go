package synthetic

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/txtdb"
)

// The SNLI-VE labels, indices of dataset.VELabels.
const (
	VEContradiction = iota
	VEEntailment
	VENeutral
)

// uniqueObjects returns the indices of the objects of the given size that no other object shares colour and shape
// with, so that "the <color> <shape>" names them.
func uniqueObjects(objs []Object, size string) []int {
	var out []int
	for i, o := range objs {
		if o.Size == size && countMatching(objs, func(p Object) bool { return p.Color == o.Color && p.Shape == o.Shape }) == 1 {
			out = append(out, i)
		}
	}
	return out
}

// veHypothesis writes the hypothesis about objs[i] of the given label: "the <color> <shape> is made of
// <material>.", true of a large object of that material (entailment), false of a large object of the other
// (contradiction), and undecidable for a small object, whose material the image does not show (neutral).
func veHypothesis(rng *rand.Rand, objs []Object, label int) string {
	size := Sizes[len(Sizes)-1]
	if label == VENeutral {
		size = Sizes[0]
	}
	cands := uniqueObjects(objs, size)
	o := objs[cands[rng.IntN(len(cands))]]
	material := o.Material
	switch label {
	case VENeutral:
		material = Materials[rng.IntN(len(Materials))]
	case VEContradiction:
		material = Materials[1-indexOf(Materials, o.Material)]
	}
	return fmt.Sprintf("the %s %s is made of %s.", o.Color, o.Shape, material)
}

// writeVE writes the SNLI-VE dataset: per split a txt_db with PerImage hypotheses per scene, labelled
// contradiction, entailment, neutral in turn (ORIG's VQA-style records: input_ids, img_fname, target {labels:
// [label], scores: [1.0]}, plus the hypothesis and its gold_label; id "<key>#<k>"), and one img_db of all images.
// Every object gets a material, which the detector shows on large objects only; a hypothesis says what one object,
// named by its colour and shape, is made of (veHypothesis). Its text is equally likely under every label, so only
// the image tells (chance: 1/3): neutral if the object is small, else entailment or contradiction by its material.
func (w *taskWriter) writeVE() error {
	return w.writeSingleImageTask(
		func(id int64, key, split string) (Scene, error) {
			s, _, err := w.sceneFor(id, []string{key}, split, func(*rand.Rand) ([]string, func([]Scene) bool) {
				return nil, func(s []Scene) bool {
					return len(uniqueObjects(s[0].Objects, Sizes[0])) > 0 && len(uniqueObjects(s[0].Objects, Sizes[1])) > 0
				}
			})
			if err != nil {
				return Scene{}, err
			}
			rng := w.stream(id, taskStreamMaterial)
			for i := range s[0].Objects {
				s[0].Objects[i].Material = Materials[rng.IntN(len(Materials))]
			}
			return s[0], nil
		},
		func(id int64, s *Scene) []txtdb.Example {
			rng := w.stream(id, taskStreamText)
			exs := make([]txtdb.Example, w.cfg.PerImage)
			for k := range exs {
				l := k % 3
				text := veHypothesis(rng, s.Objects, l)
				exs[k] = txtdb.Example{ID: fmt.Sprintf("%s#%d", s.Key, k), InputIDs: w.tok.Encode(text),
					ImageFile: s.Key + ".npz", Target: &txtdb.VQATarget{Labels: []int32{int32(l)}, Scores: []float32{1}},
					Raw: map[string]any{"hypothesis": text, "gold_label": dataset.VELabels[l]}}
			}
			return exs
		})
}

// Bounds of the rejection sampling of a VE or NLVR2 example: scenes drawn for one draw of texts, then draws of
// texts.
const (
	sceneTries = 5000
	textDraws  = 100
)

// sceneFor draws the texts of example id with draw, then one scene per key until fits accepts them; after
// sceneTries attempts it draws new texts. It returns the scenes and the texts.
func (w *taskWriter) sceneFor(id int64, keys []string, split string,
	draw func(rng *rand.Rand) (texts []string, fits func([]Scene) bool)) ([]Scene, []string, error) {
	textRng, sceneRng := w.stream(id, taskStreamText), w.stream(id, taskStreamScene)
	scenes := make([]Scene, len(keys))
	for range textDraws {
		texts, fits := draw(textRng)
		for range sceneTries {
			for k, key := range keys {
				s, err := newScene(w.cfg.Scenes, sceneRng, id, split)
				if err != nil {
					return nil, nil, err
				}
				s.Key = key
				scenes[k] = s
			}
			if fits(scenes) {
				return scenes, texts, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("images %v: no scenes fit %d draws of texts in %d attempts each", keys, textDraws, sceneTries)
}
