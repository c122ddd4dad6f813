package dataset_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/pydata"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// writeIMDB writes an MMF imdb .npy (a metadata item, then the entries) with the Go writer.
func writeIMDB(t *testing.T, entries ...map[string]any) string {
	t.Helper()
	items := []any{map[string]any{"version": 1}}
	for _, e := range entries {
		items = append(items, e)
	}
	b, err := pydata.EncodeObjectNPY(pydata.ObjectArray(items...))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "imdb_train2014.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMMFVQA(t *testing.T) {
	vocab, _ := vqa.NewAnswerVocab([]string{"<unk>", "yes", "no", "2"})
	st := store(t, "COCO_train2014_000000000009", "COCO_train2014_000000000042")
	entry := func(qid int, feature string, answers ...string) map[string]any {
		return map[string]any{"image_id": 9, "question_id": qid, "question_str": "Is it ΟΔΟΣ?",
			"question_tokens": []string{"is", "it"}, "feature_path": feature, "answers": answers,
			"image_name": "COCO_train2014_000000000009"}
	}
	path := writeIMDB(t,
		entry(1, "COCO_train2014_000000000009.npy", "Yes", "yes", "yes", "no"),
		entry(2, "COCO_train2014_000000000042.npy", "maybe", "purple"),
		map[string]any{"image_id": 42, "question_id": 3, "question": "How many?", "image_name": "COCO_train2014_000000000042",
			"all_answers": []string{"2", "2", "2"}})
	cfg := dataset.MMFConfig{Annotations: path, AnswerVocab: vocab, Features: st, FeaturesPath: "mem",
		Tokenizer: tokenizer.BertBaseUncased()}
	set, stats, err := dataset.LoadMMFVQA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || stats.NoAnswerInVocab != 1 || stats.FirstNoAnswer != 2 {
		t.Fatalf("%d examples, %d without answers in the vocabulary; want 3, 1", set.Len(), stats.NoAnswerInVocab)
	}
	ex, _ := set.Example(0)
	// yes ×3 and no ×1, repeated to ten: yes ×8 (→ 1), no ×2 (→ 0.6).
	if ex.QuestionID != 1 || ex.ImageKey != "COCO_train2014_000000000009" || ex.Targets[1] != 1 || ex.Targets[2] != 0.6 ||
		!slices.Equal(ex.InputIDs, tokenizer.BertBaseUncased().Encode("Is it ΟΔΟΣ?")) {
		t.Errorf("example 0 = %+v", ex)
	}
	if ex, _ := set.Example(2); ex.Text != "How many?" || ex.Targets[3] != 1 || ex.ImageKey != "COCO_train2014_000000000042" {
		t.Errorf("example 2 (question, image_name, all_answers) = %+v", ex)
	}
	for name, bad := range map[string]map[string]any{
		"image missing from the feature store": entry(4, "COCO_train2014_000000000777.npy", "yes"),
		"no question":                          {"image_id": 9, "question_id": 5, "feature_path": "COCO_train2014_000000000009.npy"},
		"no feature path":                      {"question_id": 6, "question": "q"},
		"eleven answers":                       entry(7, "COCO_train2014_000000000009.npy", make([]string, 11)...),
	} {
		cfg.Annotations = writeIMDB(t, entry(1, "COCO_train2014_000000000009.npy", "yes"), bad)
		_, _, err := dataset.LoadMMFVQA(cfg)
		if err == nil || !strings.Contains(err.Error(), cfg.Annotations) || !strings.Contains(err.Error(), "entry 1") ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and the entry", name, err)
		}
	}
}

func TestLoadMMFCaptions(t *testing.T) {
	st := store(t, "COCO_val2014_000000000001", "COCO_val2014_000000000002")
	path := writeIMDB(t,
		map[string]any{"image_id": 1, "feature_path": "COCO_val2014_000000000001.npy", "captions": []string{"a cat", "the cat sits"}},
		map[string]any{"image_id": 2, "feature_path": "COCO_val2014_000000000002.npy", "captions": []string{"a dog"}})
	set, err := dataset.LoadMMFCaptions(dataset.MMFConfig{Annotations: path, Features: st, FeaturesPath: "mem",
		Tokenizer: tokenizer.BertBaseUncased()})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || len(set.ImageKeys()) != 2 {
		t.Fatalf("%d examples over %d images, want 3 over 2", set.Len(), len(set.ImageKeys()))
	}
	if ex, _ := set.Example(1); ex.Text != "the cat sits" || ex.ImageID != 1 || ex.ID != "0/1" {
		t.Errorf("example 1 = %+v", ex)
	}
	empty := writeIMDB(t, map[string]any{"image_id": 1, "feature_path": "COCO_val2014_000000000001.npy", "captions": []string{}})
	if _, err := dataset.LoadMMFCaptions(dataset.MMFConfig{Annotations: empty, Features: st, FeaturesPath: "mem",
		Tokenizer: tokenizer.BertBaseUncased()}); err == nil || !strings.Contains(err.Error(), "no captions") {
		t.Errorf("an image without captions: %v", err)
	}
}
