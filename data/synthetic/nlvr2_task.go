package synthetic

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// sides names the two images of an NLVR2 pair.
var sides = [2]string{"left", "right"}

// nlvr2Claim is a statement about a pair of scenes and its truth function over the objects of the left and the
// right scene.
type nlvr2Claim struct {
	text  string
	truth func(objs [2][]Object) bool
}

// newNLVR2Claim draws a statement about whether each image holds an object of a colour and shape (uniform over the
// vocabulary): that the left or the right image does, both, exactly one, or neither.
func newNLVR2Claim(cfg Config, rng *rand.Rand) nlvr2Claim {
	shape, color := Shapes[rng.IntN(cfg.NumShapes)], Colors[rng.IntN(cfg.NumColors)]
	in := func(objs []Object) bool {
		return countMatching(objs, func(p Object) bool { return p.Color == color && p.Shape == shape }) > 0
	}
	what := color + " " + shape
	switch rng.IntN(5) {
	case 0, 1:
		k := rng.IntN(2)
		return nlvr2Claim{fmt.Sprintf("the %s image contains a %s.", sides[k], what),
			func(objs [2][]Object) bool { return in(objs[k]) }}
	case 2:
		return nlvr2Claim{fmt.Sprintf("both images contain a %s.", what),
			func(objs [2][]Object) bool { return in(objs[0]) && in(objs[1]) }}
	case 3:
		return nlvr2Claim{fmt.Sprintf("exactly one image contains a %s.", what),
			func(objs [2][]Object) bool { return in(objs[0]) != in(objs[1]) }}
	default:
		return nlvr2Claim{fmt.Sprintf("neither image contains a %s.", what),
			func(objs [2][]Object) bool { return !in(objs[0]) && !in(objs[1]) }}
	}
}

// writeNLVR2 writes the NLVR2 dataset: per split a txt_db with PerImage statements per pair of scenes, true and
// false in turn (ORIG prepro.py process_nlvr2 records: identifier "<split>-<pair>-0-<k>", sentence, label
// "True"/"False", input_ids, img_fname the pair, target 1/0), and an img_db nlvr2_<split> of its images
// "nlvr2_<split>-<pair>-0-img0" (left) and "…-img1" (right). The statements come first, then pairs of scenes are
// drawn until every statement has its truth value: each text is as likely true as false, and only the images
// tell (chance: 1/2).
func (w *taskWriter) writeNLVR2() error {
	var (
		scenes []Scene
		id     int64 // numbers the pairs of every split
	)
	for _, sp := range w.cfg.splitSizes() {
		var (
			exs   []txtdb.Example
			feats []*features.ImageFeatures
		)
		for p := range sp.n {
			id++
			prefix := fmt.Sprintf("%s-%d-0", sp.name, p)
			keys := []string{fmt.Sprintf("nlvr2_%s-img0", prefix), fmt.Sprintf("nlvr2_%s-img1", prefix)}
			pair, texts, err := w.sceneFor(id, keys, sp.name, func(rng *rand.Rand) ([]string, func([]Scene) bool) {
				claims := make([]nlvr2Claim, w.cfg.PerImage)
				texts := make([]string, len(claims))
				for k := range claims {
					claims[k] = newNLVR2Claim(w.cfg.Scenes, rng)
					texts[k] = claims[k].text
				}
				return texts, func(s []Scene) bool {
					for k, c := range claims {
						if c.truth([2][]Object{s[0].Objects, s[1].Objects}) != (k%2 == 0) {
							return false
						}
					}
					return true
				}
			})
			if err != nil {
				return err
			}
			for k := range pair {
				scenes = append(scenes, pair[k])
				feats = append(feats, w.det.regionFeatures(w.cfg.Scenes, w.stream(2*id+int64(k), taskStreamFeatures), &pair[k]))
			}
			imgs := []string{keys[0] + ".npz", keys[1] + ".npz"}
			for k, text := range texts {
				label, target := "False", 0
				if k%2 == 0 {
					label, target = "True", 1
				}
				ident := fmt.Sprintf("%s-%d", prefix, k)
				exs = append(exs, txtdb.Example{ID: ident, InputIDs: w.tok.Encode(text), Raw: map[string]any{
					"identifier": ident, "sentence": text, "label": label, "img_fname": imgs, "target": target}})
			}
		}
		if err := w.writeTxtDB(sp.name, exs, nil); err != nil {
			return err
		}
		if err := writeImgDB(w.layout.ImgDB(sp.name), feats); err != nil {
			return err
		}
	}
	return w.writeScenes(scenes)
}
