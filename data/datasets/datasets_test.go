package datasets

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
)

// request returns a request whose Decode reads section as encoding/json does with unknown fields forbidden (the
// runner's config.Decode has the same semantics on the tree of a YAML configuration).
func request(t *testing.T, section map[string]any, splits ...string) Request {
	t.Helper()
	raw, err := json.Marshal(section)
	if err != nil {
		t.Fatal(err)
	}
	return Request{
		Section: "dataset_config.test", Splits: splits, FeatDim: 16, MaxTextLen: 64,
		Decode: func(dst any) error {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			return dec.Decode(dst)
		},
	}
}

// syntheticSection is a small synthetic dataset configuration cached under dir.
func syntheticSection(dir string) map[string]any {
	return map[string]any{"data_dir": dir, "num_images": 12, "feature_dim": 16, "num_classes": 37, "max_regions": 8,
		"max_seq_length": 20, "questions_per_image": 3, "captions_per_image": 2}
}

// texts returns the texts of a set's examples.
func texts(s *dataset.Set) []string {
	out := make([]string, len(s.Examples))
	for i, ex := range s.Examples {
		out[i] = ex.Text
	}
	return out
}

// TestVQA2AndMaskedCOCOReadTheSyntheticFiles opens the synthetic datasets, then vqa2 and masked_coco on the files
// the generator wrote (the real VQA v2 and COCO formats, features renamed to MMF's plain image ids): they must
// hold the same examples, and a split listing a file twice twice as many.
func TestVQA2AndMaskedCOCOReadTheSyntheticFiles(t *testing.T) {
	tmp := t.TempDir()
	vqaData, err := Open("synthetic_vqa", request(t, syntheticSection(tmp), SplitTrain, SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer vqaData.Close()
	capData, err := Open("synthetic_captions", request(t, syntheticSection(tmp), SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer capData.Close()
	if vqaData.Kind != KindVQA || vqaData.Answers == nil || capData.Kind != KindCaptions || capData.Answers != nil {
		t.Fatalf("kinds %s (answers %v) and %s (answers %v)", vqaData.Kind, vqaData.Answers != nil, capData.Kind, capData.Answers != nil)
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "synthetic-*"))
	if len(dirs) != 1 {
		t.Fatalf("want one generated directory (both datasets share the generator config), got %v", dirs)
	}
	l := synthetic.Layout{Dir: dirs[0]}
	if vqaData.ImagePath(vqaData.Splits[SplitVal].Examples[0].ImageKey) == "" {
		t.Error("no image file for a synthetic scene")
	}

	// MMF's feature stores name images by their plain id: copy the npz files under those names.
	feats := filepath.Join(tmp, "plain-features")
	if err := os.Mkdir(feats, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, set := range []*dataset.Set{vqaData.Splits[SplitTrain], vqaData.Splits[SplitVal]} {
		for _, ex := range set.Examples {
			b, err := os.ReadFile(filepath.Join(l.Features(synthetic.FormatNPZ), ex.ImageKey+".npz"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(feats, strings.TrimLeft(ex.ImageKey[len("synthetic_"):], "0")+".npz"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	rel := func(p string) string { r, _ := filepath.Rel(tmp, p); return r }
	vqa2, err := Open("vqa2", request(t, map[string]any{
		"data_dir": tmp, "max_seq_length": 20, "max_regions": 8, "answer_vocab": rel(l.Answers()),
		"questions": map[string]any{
			SplitTrain: []string{rel(l.Questions(SplitTrain)), rel(l.Questions(SplitTrain))},
			SplitVal:   []string{rel(l.Questions(SplitVal))}},
		"annotations": map[string]any{
			SplitTrain: []string{rel(l.Annotations(SplitTrain)), rel(l.Annotations(SplitTrain))},
			SplitVal:   []string{rel(l.Annotations(SplitVal))}},
		"features":   map[string]any{SplitTrain: []string{"plain-features"}, SplitVal: []string{"plain-features"}},
		"processors": map[string]any{"text_processor": map[string]any{"type": "uniter_text_tokenizer"}},
	}, SplitTrain, SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer vqa2.Close()
	if got, want := texts(vqa2.Splits[SplitVal]), texts(vqaData.Splits[SplitVal]); !slices.Equal(got, want) {
		t.Errorf("vqa2 val questions %q, synthetic_vqa %q", got, want)
	}
	if got, want := texts(vqa2.Splits[SplitTrain]), texts(vqaData.Splits[SplitTrain]); !slices.Equal(got, append(want, want...)) {
		t.Errorf("vqa2 train with its files listed twice has %d questions, want 2 × %d", len(got), len(want))
	}
	if !slices.Equal(vqa2.Splits[SplitVal].Examples[0].Targets, vqaData.Splits[SplitVal].Examples[0].Targets) {
		t.Error("vqa2 and synthetic_vqa give the same question different targets")
	}

	coco, err := Open("masked_coco", request(t, map[string]any{
		"data_dir": tmp, "max_seq_length": 20, "max_regions": 8,
		"annotations": map[string]any{SplitVal: []string{rel(l.Captions(SplitVal))}},
		"features":    map[string]any{SplitVal: []string{"plain-features"}},
	}, SplitVal))
	if err != nil {
		t.Fatal(err)
	}
	defer coco.Close()
	if got, want := texts(coco.Splits[SplitVal]), texts(capData.Splits[SplitVal]); !slices.Equal(got, want) {
		t.Errorf("masked_coco val captions %q, synthetic_captions %q", got, want)
	}
}

func TestOpenErrorsNameTheKey(t *testing.T) {
	tmp := t.TempDir()
	vqa2 := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"data_dir": tmp, "max_seq_length": 20, "max_regions": 8, "answer_vocab": "answers.txt",
			"questions": map[string]any{SplitTrain: []string{"q.json"}}, "features": map[string]any{SplitTrain: []string{"f"}}}
		edit(m)
		return m
	}
	if err := os.WriteFile(filepath.Join(tmp, "answers.txt"), []byte("<unk>\nyes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dataset string
		section       map[string]any
		want          []string
	}{
		{"unknown dataset", "nlvr9", nil, []string{`"nlvr9"`, "vqa2", "synthetic_vqa"}},
		{"unknown key", "vqa2", vqa2(func(m map[string]any) { m["question"] = 1 }), []string{"question"}},
		{"text length", "vqa2", vqa2(func(m map[string]any) { m["max_seq_length"] = 65 }),
			[]string{"dataset_config.test.max_seq_length", "65", "64"}},
		{"no data directory", "vqa2", vqa2(func(m map[string]any) { m["data_dir"] = filepath.Join(tmp, "none") }),
			[]string{"data directory", "none", "dataset_config.test.data_dir"}},
		{"missing file", "vqa2", vqa2(func(map[string]any) {}), []string{"dataset_config.test.questions.train[0]", "q.json"}},
		{"no question files", "vqa2", vqa2(func(m map[string]any) { m["questions"] = map[string]any{} }),
			[]string{"dataset_config.test.questions.train lists no files"}},
		{"feature width", "synthetic_vqa", map[string]any{"data_dir": tmp, "max_seq_length": 20, "feature_dim": 32},
			[]string{"dataset_config.test.feature_dim", "32", "16"}},
		{"low data in captions", "synthetic_captions", map[string]any{"data_dir": tmp, "max_seq_length": 20, "low_data_fraction": 0.5},
			[]string{"low_data_fraction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(tc.dataset, request(t, tc.section, SplitTrain))
			if err == nil {
				d.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
