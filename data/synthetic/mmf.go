package synthetic

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/uniter-go/uniter/data/pydata"
	"github.com/uniter-go/uniter/data/vqa"
)

// MMFLayout names the files of MMF's data directory ($MMF_DATA, MMF's env.data_dir) that MMF's
// configs/datasets/vqa2/defaults.yaml and configs/datasets/coco/masked.yaml list, all under Root/datasets.
type MMFLayout struct{ Root string }

// mmfSubsets are the COCO subsets MMF's files name for the splits train, val and test.
var mmfSubsets = map[string]string{SplitTrain: "train2014", SplitVal: "val2014", SplitTest: "test2015"}

// mmfKarpathySplits are the Karpathy split names of MMF's masked_coco files for train, val and test.
var mmfKarpathySplits = map[string]string{SplitTrain: "train", SplitVal: "val", SplitTest: "test"}

func (l MMFLayout) path(parts ...string) string {
	return filepath.Join(append([]string{l.Root, "datasets"}, parts...)...)
}

// VQAAnnotations is vqa2/defaults/annotations/imdb_<subset>.npy.
func (l MMFLayout) VQAAnnotations(split string) string {
	return l.path("vqa2", "defaults", "annotations", "imdb_"+mmfSubsets[split]+".npy")
}

// AnswerVocab is vqa2/defaults/extras/vocabs/answers_vqa.txt.
func (l MMFLayout) AnswerVocab() string {
	return l.path("vqa2", "defaults", "extras", "vocabs", "answers_vqa.txt")
}

// CaptionAnnotations is coco/defaults/annotations/imdb_karpathy_<split>_by_image.npy.
func (l MMFLayout) CaptionAnnotations(split string) string {
	return l.path("coco", "defaults", "annotations", "imdb_karpathy_"+mmfKarpathySplits[split]+"_by_image.npy")
}

// Features is coco/defaults/features/trainval2014.lmdb (every image: masked_coco reads all its splits there) or
// test2015.lmdb (the test images, as vqa2's test split reads them).
func (l MMFLayout) Features(split string) string {
	name := "trainval2014.lmdb"
	if split == SplitTest {
		name = "test2015.lmdb"
	}
	return l.path("coco", "defaults", "features", name)
}

// mmfImageName is the COCO file stem of an image, e.g. COCO_train2014_000000000012.
func mmfImageName(split string, imageID int64) string {
	return fmt.Sprintf("COCO_%s_%012d", mmfSubsets[split], imageID)
}

// WriteMMF writes the dataset in MMF's layout under root (see MMFLayout) with Go writers that produce what
// MMF's own scripts do: imdb .npy object arrays (a metadata dict, then one dict per question with image_name,
// image_id, question_id, question_str, question_tokens, answers, all_answers and feature_path; the test split
// without answers, as MMF's imdb_test2015.npy), the answer vocabulary with "<unk>" first, the Karpathy caption
// imdbs by image, and feature LMDB directories as lmdb_conversion.py writes them (one pickled dict per image under
// its id, the pickled key list under "keys").
func (ds *Dataset) WriteMMF(root string) error {
	l := MMFLayout{Root: root}
	answers := []string{vqa.UnknownAnswer}
	for i := 0; i < ds.Answers.Len(); i++ {
		if a := ds.Answers.Answer(i); a != vqa.UnknownAnswer {
			answers = append(answers, a)
		}
	}
	if err := writeLines(l.AnswerVocab(), answers); err != nil {
		return err
	}
	splitOf := map[int64]string{}
	for _, s := range ds.Scenes {
		splitOf[s.ImageID] = s.Split
	}
	for _, split := range Splits {
		if err := ds.writeMMFQuestions(l, split); err != nil {
			return err
		}
		if err := ds.writeMMFCaptions(l, split); err != nil {
			return err
		}
	}
	var trainval, test []*features.ImageFeatures
	for i, f := range ds.Features {
		trainval = append(trainval, f)
		if splitOf[ds.Scenes[i].ImageID] == SplitTest {
			test = append(test, f)
		}
	}
	if err := writeMMFLMDB(l.Features(SplitTrain), ds.Scenes, trainval); err != nil {
		return err
	}
	return writeMMFLMDB(l.Features(SplitTest), ds.Scenes, test)
}

// writeMMFQuestions writes the VQA imdb of a split.
func (ds *Dataset) writeMMFQuestions(l MMFLayout, split string) error {
	items := []any{map[string]any{"version": 1, "dataset_type": mmfSubsets[split], "has_answer": split != SplitTest,
		"create_time": "synthetic"}}
	anns := map[int64]vqa.Annotation{}
	for _, a := range ds.Annotations[split].Annotations {
		anns[a.QuestionID] = a
	}
	for _, q := range ds.Questions[split].Questions {
		name := mmfImageName(split, q.ImageID)
		e := map[string]any{"image_name": name, "image_id": q.ImageID, "question_id": q.QuestionID,
			"question_str": q.Question, "question_tokens": wordTokens(q.Question), "feature_path": name + ".npy"}
		if split != SplitTest {
			var all []string
			for _, a := range anns[q.QuestionID].Answers {
				all = append(all, a.Answer)
			}
			e["answers"], e["all_answers"] = all, all
		}
		items = append(items, e)
	}
	return writeObjectNPY(l.VQAAnnotations(split), items)
}

// writeMMFCaptions writes the Karpathy caption imdb (by image) of a split.
func (ds *Dataset) writeMMFCaptions(l MMFLayout, split string) error {
	items := []any{map[string]any{"version": 1, "dataset_type": mmfKarpathySplits[split]}}
	byImage := map[int64][]string{}
	for _, c := range ds.Captions[split].Annotations {
		byImage[c.ImageID] = append(byImage[c.ImageID], c.Caption)
	}
	for _, img := range ds.Captions[split].Images {
		name := mmfImageName(split, img.ID)
		var tokens []any
		for _, c := range byImage[img.ID] {
			tokens = append(tokens, wordTokens(c))
		}
		items = append(items, map[string]any{"image_id": img.ID, "image_name": name, "feature_path": name + ".npy",
			"captions": byImage[img.ID], "caption_tokens": tokens})
	}
	return writeObjectNPY(l.CaptionAnnotations(split), items)
}

// writeMMFLMDB writes images as an MMF feature LMDB directory keyed by image id.
func writeMMFLMDB(dir string, scenes []Scene, fs []*features.ImageFeatures) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	idOf := map[string]int64{}
	for _, s := range scenes {
		idOf[s.Key] = s.ImageID
	}
	keys := make([]any, len(fs))
	return lmdbkv.Write(dir, len(fs)+1, func(i int) (string, []byte, error) {
		if i == len(fs) {
			b, err := pydata.Pickle(keys)
			return "keys", b, err
		}
		f := fs[i]
		key := fmt.Sprint(idOf[f.ImageID])
		keys[i] = pydata.Bytes(key)
		rec := map[string]any{
			"feature_path": key,
			"features":     pydata.Float32Array("<f4", []int{f.NumBoxes, f.Dim}, f.Features),
			"bbox":         pydata.Float32Array("<f4", []int{f.NumBoxes, 4}, f.Boxes),
			"image_width":  f.Width, "image_height": f.Height, "num_boxes": f.NumBoxes,
			"objects": pydata.Int64Array([]int{f.NumBoxes}, argmaxRows(f.ClassProbs, f.NumBoxes, f.NumClasses)),
		}
		if f.ClassProbs != nil {
			rec["cls_prob"] = pydata.Float32Array("<f4", []int{f.NumBoxes, f.NumClasses}, f.ClassProbs)
		}
		b, err := pydata.Pickle(rec)
		return key, b, err
	})
}

// argmaxRows returns the most probable class of each region (0 without class probabilities).
func argmaxRows(p []float32, n, c int) []int64 {
	out := make([]int64, n)
	for i := 0; i < n && p != nil; i++ {
		row := p[i*c : (i+1)*c]
		for j, v := range row {
			if v > row[out[i]] {
				out[i] = int64(j)
			}
		}
	}
	return out
}

// writeObjectNPY writes items as a one-dimensional object array (np.save).
func writeObjectNPY(path string, items []any) error {
	b, err := pydata.EncodeObjectNPY(pydata.ObjectArray(items...))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeLines writes one line per item.
func writeLines(path string, lines []string) error {
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
