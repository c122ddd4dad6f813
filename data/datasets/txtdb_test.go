package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
)

// syntheticTaskSection is a small synthetic downstream task cached under dir.
func syntheticTaskSection(dir, task string) map[string]any {
	scenes := synthetic.DefaultTaskConfig(task).Scenes
	scenes.FeatureDim = 16
	return map[string]any{"data_dir": dir, "task": task, "train": 12, "val": 6, "test": 3,
		"per_image": synthetic.DefaultTaskConfig(task).PerImage, "sentences_per_ref": synthetic.DefaultTaskConfig(task).SentencesPerRef,
		"images": task == synthetic.TaskRefCOCO, "scenes": scenes, "max_txt_len": 30, "max_seq_length": 32, "max_regions": 10}
}

// TestTxtDBDatasetsReadTheSyntheticTasks opens each synthetic downstream task, then the real dataset of its kind on
// the txt_dbs and img_dbs the generator wrote: both must hold the same examples, the training split only those of
// at most max_txt_len pieces.
func TestTxtDBDatasetsReadTheSyntheticTasks(t *testing.T) {
	tmp := t.TempDir()
	for _, tc := range []struct{ task, kind, real string }{
		{synthetic.TaskVE, KindVE, "ve"}, {synthetic.TaskNLVR2, KindNLVR2, "nlvr2"}, {synthetic.TaskRefCOCO, KindRefExp, "refcoco"},
		{synthetic.TaskRetrieval, KindRetrieval, "itm"},
	} {
		t.Run(tc.task, func(t *testing.T) {
			syn, err := Open("synthetic_"+tc.task, request(t, syntheticTaskSection(tmp, tc.task), SplitTrain, SplitVal, SplitTest))
			if err != nil {
				t.Fatal(err)
			}
			defer syn.Close()
			if syn.Kind != tc.kind || syn.NumExamples(SplitTrain) == 0 || syn.NumExamples(SplitVal) == 0 {
				t.Fatalf("kind %s, %d train and %d val examples", syn.Kind, syn.NumExamples(SplitTrain), syn.NumExamples(SplitVal))
			}
			dirs, _ := filepath.Glob(filepath.Join(tmp, "synthetic-"+tc.task+"-*"))
			if len(dirs) != 1 {
				t.Fatalf("generated directories %v", dirs)
			}
			l := synthetic.TaskLayout{Dir: dirs[0], Task: tc.task}
			rel := func(p string) string { r, _ := filepath.Rel(tmp, p); return r }
			section := map[string]any{"data_dir": tmp, "max_txt_len": 30, "max_seq_length": 32, "max_regions": 10,
				"txt_db": map[string]string{SplitTrain: rel(l.TxtDB(SplitTrain)), SplitVal: rel(l.TxtDB(SplitVal))},
				"img_db": map[string]string{SplitTrain: rel(l.ImgDB(SplitTrain)), SplitVal: rel(l.ImgDB(SplitVal))}}
			if tc.task == synthetic.TaskRefCOCO {
				section["img_db"].(map[string]string)[SplitVal] = rel(l.RefDetImgDB())
			}
			real, err := Open(tc.real, request(t, section, SplitTrain, SplitVal))
			if err != nil {
				t.Fatal(err)
			}
			defer real.Close()
			for _, split := range []string{SplitTrain, SplitVal} {
				if got, want := exampleIDs(real, split), exampleIDs(syn, split); len(got) == 0 || !slices.Equal(got, want) {
					t.Errorf("%s %s: ids %v, synthetic_%s %v", tc.real, split, got, tc.task, want)
				}
			}
			switch tc.kind {
			case KindVE:
				ex := real.Splits[SplitVal].Examples[0]
				if real.Answers.Len() != 3 || real.Answers.Answer(1) != "entailment" || len(ex.Targets) != 3 {
					t.Errorf("VE labels %d (1 = %q), targets %v", real.Answers.Len(), real.Answers.Answer(1), ex.Targets)
				}
			case KindRefExp:
				if !real.Refs[SplitTrain].GroundTruth || real.Refs[SplitVal].GroundTruth || !syn.Refs[SplitTrain].GroundTruth || syn.Refs[SplitVal].GroundTruth {
					t.Error("re_coco_gt must be read as ground-truth regions and re_coco_det as detector regions")
				}
				key := syn.Refs[SplitVal].Examples[0].ImageKey
				if !strings.HasPrefix(key, "visual_grounding_det_coco_") || syn.ImagePath(key) == "" {
					t.Errorf("detector image %s: no rendered scene (%q)", key, syn.ImagePath(key))
				}
			case KindNLVR2:
				ex := real.Pairs[SplitVal].Examples[0]
				if _, err := real.ImageFeatures(SplitVal, ex.ImageKeys[1]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// A training text longer than max_txt_len is dropped; evaluation keeps it.
	full, err := Open("synthetic_ve", request(t, syntheticTaskSection(tmp, synthetic.TaskVE), SplitTrain, SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	longest := func(s *dataset.Set) int {
		n := 0
		for _, ex := range s.Examples {
			n = max(n, len(ex.InputIDs))
		}
		return n
	}
	limit := longest(full.Splits[SplitTrain]) - 1
	short := syntheticTaskSection(tmp, synthetic.TaskVE)
	short["max_txt_len"] = limit
	d, err := Open("synthetic_ve", request(t, short, SplitTrain, SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := longest(d.Splits[SplitTrain]); n > limit || d.NumExamples(SplitTrain) >= full.NumExamples(SplitTrain) {
		t.Errorf("max_txt_len %d: longest training text %d pieces, %d of %d examples kept", limit, n, d.NumExamples(SplitTrain), full.NumExamples(SplitTrain))
	}
	if longest(d.Splits[SplitVal]) <= limit || d.NumExamples(SplitVal) != full.NumExamples(SplitVal) {
		t.Error("max_txt_len dropped evaluation examples")
	}
}

// exampleIDs lists the example ids of a split, whatever the dataset's kind.
func exampleIDs(d *Data, split string) []string {
	var ids []string
	switch d.Kind {
	case KindNLVR2:
		for _, ex := range d.Pairs[split].Examples {
			ids = append(ids, ex.ID)
		}
	case KindRefExp:
		for _, ex := range d.Refs[split].Examples {
			ids = append(ids, ex.ID)
		}
	default:
		for _, ex := range d.Splits[split].Examples {
			ids = append(ids, ex.ID)
		}
	}
	return ids
}

func TestTxtDBDatasetErrorsNameTheKey(t *testing.T) {
	tmp := t.TempDir()
	syn, err := Open("synthetic_ve", request(t, syntheticTaskSection(tmp, synthetic.TaskVE), SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	syn.Close()
	dirs, _ := filepath.Glob(filepath.Join(tmp, "synthetic-ve-*"))
	l := synthetic.TaskLayout{Dir: dirs[0], Task: synthetic.TaskVE}
	ve := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"data_dir": tmp, "max_txt_len": 30, "max_seq_length": 32, "max_regions": 10,
			"txt_db": map[string]string{SplitVal: l.TxtDB(SplitVal)}, "img_db": map[string]string{SplitVal: l.ImgDB(SplitVal)}}
		edit(m)
		return m
	}
	// A txt_db tokenized with another vocabulary: its meta.json names other special ids.
	other := filepath.Join(tmp, "other.db")
	if err := os.CopyFS(other, os.DirFS(l.TxtDB(SplitVal))); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(other, "meta.json")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, []byte(strings.Replace(string(b), `"CLS":101`, `"CLS":3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dataset string
		section       map[string]any
		want          []string
	}{
		{"no txt_db", "ve", ve(func(m map[string]any) { m["txt_db"] = map[string]string{} }),
			[]string{"dataset_config.test.txt_db.val", "dataset_config.test.img_db.val"}},
		{"missing img_db", "ve", ve(func(m map[string]any) { m["img_db"] = map[string]string{SplitVal: "nowhere"} }),
			[]string{"nowhere"}},
		{"max_txt_len beyond max_seq_length", "ve", ve(func(m map[string]any) { m["max_txt_len"] = 31 }),
			[]string{"dataset_config.test.max_txt_len", "31", "32"}},
		{"other tokenizer", "ve", ve(func(m map[string]any) { m["txt_db"] = map[string]string{SplitVal: other} }),
			[]string{"other.db", "[CLS] 3", "[CLS] 101", "tokenizer"}},
		{"unknown key", "nlvr2", ve(func(m map[string]any) { m["img_dbs"] = 1 }), []string{"img_dbs"}},
		{"wrong synthetic task", "synthetic_nlvr2", syntheticTaskSection(tmp, synthetic.TaskVE),
			[]string{"dataset_config.test.task", `"ve"`, "nlvr2"}},
		{"synthetic feature width", "synthetic_refcoco", func() map[string]any {
			m := syntheticTaskSection(tmp, synthetic.TaskRefCOCO)
			m["scenes"] = synthetic.DefaultTaskConfig(synthetic.TaskRefCOCO).Scenes
			return m
		}(), []string{"dataset_config.test.scenes.feature_dim", "64", "16"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantOpenError(t, tc.dataset, request(t, tc.section, SplitVal), tc.want...) })
	}
}
