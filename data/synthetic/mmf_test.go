package synthetic

import (
	"encoding/json"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

// TestWriteMMFReadByPython writes a small dataset in MMF's layout with the Go writers and reads it back with
// Python's numpy, lmdb and pickle the way MMF's readers do.
func TestWriteMMFReadByPython(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy, lmdb").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy and lmdb: %v", err)
	}
	cfg := DefaultConfig()
	cfg.NumImages, cfg.FeatureDim, cfg.NumClasses = 30, 16, 40
	ds, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := ds.WriteMMF(root); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", "testdata/read_mmf_layout.py", root).Output()
	if err != nil {
		t.Fatalf("read_mmf_layout.py: %v", err)
	}
	var got struct {
		Answers []string
		Splits  map[string]struct {
			Questions [][]any
			Captions  [][]any
			Images    map[string][]any
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Answers[0] != vqa.UnknownAnswer || len(got.Answers) != ds.Answers.Len()+1 {
		t.Errorf("answers_vqa.txt as MMF reads it: %d answers starting %q", len(got.Answers), got.Answers[0])
	}
	byID := map[string]*features.ImageFeatures{}
	for i, f := range ds.Features {
		byID[strconv.FormatInt(ds.Scenes[i].ImageID, 10)] = f
	}
	for split, subset := range mmfSubsets {
		g := got.Splits[subset]
		qs := ds.Questions[split].Questions
		if len(g.Questions) != len(qs) || len(g.Captions) != len(ds.Captions[split].Images) {
			t.Fatalf("%s: %d questions and %d caption images, want %d and %d", subset, len(g.Questions), len(g.Captions),
				len(qs), len(ds.Captions[split].Images))
		}
		for i, q := range qs {
			if g.Questions[i][0].(float64) != float64(q.QuestionID) || g.Questions[i][1] != q.Question {
				t.Fatalf("%s question %d: %v, want %d %q", subset, i, g.Questions[i], q.QuestionID, q.Question)
			}
			if (g.Questions[i][2] == nil) != (split == SplitTest) {
				t.Errorf("%s question %d: answers %v", subset, i, g.Questions[i][2])
			}
		}
		for id, img := range g.Images {
			f := byID[id]
			sum := 0.0
			for _, v := range f.Features {
				sum += float64(v)
			}
			box := img[1].([]any)
			if math.Abs(img[0].(float64)-sum) > 1e-6*math.Max(1, math.Abs(sum)) || box[2].(float64) != float64(f.Boxes[2]) ||
				img[2].(float64) != float64(f.Width) || img[3].(float64) != float64(f.Height) {
				t.Errorf("%s image %s as Python reads it: %v (sum %v, box %v)", subset, id, img, sum, f.Boxes[:4])
			}
		}
	}
	// And the Go readers read it too.
	r, err := features.Open(MMFLayout{root}.Features(SplitTrain))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ids := r.IDs(); len(ids) != cfg.NumImages || !slices.Contains(ids, "1") {
		t.Errorf("trainval2014.lmdb ids %v", ids)
	}
}
