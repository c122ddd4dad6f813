package dataset_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/coco"
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// store returns an in-memory feature store holding the given keys (2 regions of 4 features each).
func store(t *testing.T, keys ...string) *dataset.MemFeatures {
	t.Helper()
	var fs []*features.ImageFeatures
	for i, k := range keys {
		fs = append(fs, &features.ImageFeatures{
			ImageID: k, Width: 100, Height: 50, NumBoxes: 2, Dim: 4,
			Features: []float32{float32(i + 1), 1, 1, 1, 2, 2, 2, 2}, Boxes: []float32{0, 0, 50, 25, 10, 10, 100, 50},
		})
	}
	m, err := dataset.NewMemFeatures(fs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func answers(as ...string) []vqa.Answer {
	var out []vqa.Answer
	for i, a := range as {
		out = append(out, vqa.Answer{Answer: a, AnswerConfidence: "yes", AnswerID: i + 1})
	}
	return out
}

// repeat returns s n times.
func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// vqaFiles writes a questions file (subtype val2014) and its annotations and returns their paths.
func vqaFiles(t *testing.T, qs []vqa.Question, anns []vqa.Annotation) (string, string) {
	t.Helper()
	dir := t.TempDir()
	qp, ap := filepath.Join(dir, "questions.json"), filepath.Join(dir, "annotations.json")
	if err := vqa.WriteQuestions(qp, &vqa.QuestionFile{DataSubtype: "val2014", Questions: qs}); err != nil {
		t.Fatal(err)
	}
	if err := vqa.WriteAnnotations(ap, &vqa.AnnotationFile{DataSubtype: "val2014", Annotations: anns}); err != nil {
		t.Fatal(err)
	}
	return qp, ap
}

var (
	testQuestions = []vqa.Question{
		{ImageID: 42, Question: "Is this a test of tokens?", QuestionID: 420},
		{ImageID: 9, Question: "How many dogs?", QuestionID: 90},
		{ImageID: 42, Question: "What color is the sky?", QuestionID: 421},
	}
	testAnnotations = []vqa.Annotation{
		{QuestionID: 90, ImageID: 9, Answers: answers("2", "2", "two", "Two", "3", "2", "2", "2", "2", "2")},
		{QuestionID: 420, ImageID: 42, Answers: answers(append(repeat("yes", 3), repeat("no", 7)...)...)},
		{QuestionID: 421, ImageID: 42, Answers: answers(repeat("blue", 10)...)},
	}
)

func answerVocab(t *testing.T) *vqa.AnswerVocab {
	v, err := vqa.NewAnswerVocab([]string{"yes", "no", "2", "blue"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadVQA(t *testing.T) {
	tk := tokenizer.BertBaseUncased()
	qp, ap := vqaFiles(t, testQuestions, testAnnotations)
	set, err := dataset.LoadVQA(dataset.VQAConfig{
		Questions: qp, Annotations: ap, AnswerVocab: answerVocab(t), Features: store(t, "9", "42", "7"),
		FeaturesPath: "mem", Tokenizer: tk,
	})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || set.NumAnswers != 4 {
		t.Fatalf("Len %d NumAnswers %d, want 3, 4", set.Len(), set.NumAnswers)
	}
	if keys := set.ImageKeys(); !slices.Equal(keys, []string{"42", "9"}) {
		t.Errorf("ImageKeys = %q, want the sorted distinct keys [42 9]", keys)
	}
	want := []struct {
		id, key string
		qid     int64
		targets []float32
	}{
		{"420", "42", 420, []float32{0.9, 1, 0, 0}},
		{"90", "9", 90, []float32{0, 0, 1, 0}}, // "two"/"Two" normalise to "2": 9 of 10 answers
		{"421", "42", 421, []float32{0, 0, 0, 1}},
	}
	for i, w := range want {
		ex, err := set.Example(i)
		if err != nil {
			t.Fatal(err)
		}
		if ex.ID != w.id || ex.ImageKey != w.key || ex.QuestionID != w.qid || ex.Text != testQuestions[i].Question ||
			!slices.Equal(ex.Targets, w.targets) || len(ex.Answers) != 10 {
			t.Errorf("example %d = %+v, want id %s key %s targets %v", i, ex, w.id, w.key, w.targets)
		}
		if !slices.Equal(ex.InputIDs, tk.Encode(ex.Text)) {
			t.Errorf("example %d: InputIDs %v, want the tokenizer's %v", i, ex.InputIDs, tk.Encode(ex.Text))
		}
	}
	ex, _ := set.Example(0)
	if want := []int32{2003, 2023, 1037, 3231, 1997, 19204, 2015, 1029}; !slices.Equal(ex.InputIDs, want) {
		t.Errorf("question 420 ids %v, want %v", ex.InputIDs, want)
	}
	if vqa.Accuracy("yes", ex.Answers) != 0.9 {
		t.Errorf("answers of question 420 lost: %q", ex.Answers)
	}
	if f, err := set.Features("9"); err != nil || f.ImageID != "9" {
		t.Errorf("Features(9) = %v, %v", f, err)
	}
	if _, err := set.Example(3); err == nil {
		t.Error("Example(3) of 3: want an error")
	}
}

func TestLoadVQAKeyFormats(t *testing.T) {
	qp, ap := vqaFiles(t, testQuestions, testAnnotations)
	for _, tc := range []struct {
		format string
		keys   []string
	}{
		{"", []string{"coco_val2014_000000000009", "coco_val2014_000000000042"}},
		{dataset.KeyCOCO, []string{"coco_val2014_000000000009", "coco_val2014_000000000042"}},
		{"synthetic_%06d", []string{"synthetic_000009", "synthetic_000042"}},
	} {
		set, err := dataset.LoadVQA(dataset.VQAConfig{
			Questions: qp, Annotations: ap, AnswerVocab: answerVocab(t), Features: store(t, tc.keys...),
			Tokenizer: tokenizer.BertBaseUncased(), ImageKeyFormat: tc.format,
		})
		if err != nil {
			t.Fatalf("format %q: %v", tc.format, err)
		}
		if !slices.Equal(set.ImageKeys(), tc.keys) {
			t.Errorf("format %q: keys %q, want %q", tc.format, set.ImageKeys(), tc.keys)
		}
	}
}

func TestLoadVQATestSplit(t *testing.T) {
	qp, _ := vqaFiles(t, testQuestions, nil)
	set, err := dataset.LoadVQA(dataset.VQAConfig{
		Questions: qp, AnswerVocab: answerVocab(t), Features: store(t, "9", "42"), Tokenizer: tokenizer.BertBaseUncased(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range set.Examples {
		if ex.Targets != nil || ex.Answers != nil {
			t.Errorf("question %d of a split without annotations has targets %v answers %v", ex.QuestionID, ex.Targets, ex.Answers)
		}
	}
}

func TestLoadVQABadInput(t *testing.T) {
	tk := tokenizer.BertBaseUncased()
	qp, ap := vqaFiles(t, testQuestions, testAnnotations)
	cfg := func(edit func(*dataset.VQAConfig)) dataset.VQAConfig {
		c := dataset.VQAConfig{Questions: qp, Annotations: ap, AnswerVocab: answerVocab(t),
			Features: store(t, "9", "42"), FeaturesPath: "/feat/val2014.lmdb", Tokenizer: tk}
		edit(&c)
		return c
	}
	files := func(qs []vqa.Question, anns []vqa.Annotation) func(*dataset.VQAConfig) {
		q, a := vqaFiles(t, qs, anns)
		return func(c *dataset.VQAConfig) { c.Questions, c.Annotations = q, a }
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"questions": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  dataset.VQAConfig
		want []string
	}{
		{"missing features", cfg(func(c *dataset.VQAConfig) { c.Features = store(t, "42", "9000") }),
			[]string{"question 90", "image 9", "/feat/val2014.lmdb"}},
		{"no key format fits", cfg(func(c *dataset.VQAConfig) { c.Features = store(t, "x") }),
			[]string{"question 420", "image 42", `"coco_val2014_000000000042"`, "/feat/val2014.lmdb"}},
		{"explicit key format", cfg(func(c *dataset.VQAConfig) { c.ImageKeyFormat = dataset.KeyCOCO }),
			[]string{"question 420", "image 42", "coco_val2014_000000000042", "/feat/val2014.lmdb"}},
		{"no annotation", cfg(files(testQuestions, testAnnotations[:2])), []string{"question 421", "no annotation"}},
		{"image mismatch", cfg(files(testQuestions, []vqa.Annotation{testAnnotations[0], testAnnotations[1],
			{QuestionID: 421, ImageID: 9}})), []string{"question 421", "image 42", "image 9"}},
		{"duplicate question", cfg(files(append(testQuestions, testQuestions[0]), testAnnotations)),
			[]string{"question 420 listed twice"}},
		{"duplicate annotation", cfg(files(testQuestions, append(testAnnotations, testAnnotations[0]))),
			[]string{"question 90 annotated twice"}},
		{"no questions", cfg(files(nil, nil)), []string{"no questions"}},
		{"missing file", cfg(func(c *dataset.VQAConfig) { c.Questions = filepath.Join(dir, "nope.json") }), []string{"nope.json"}},
		{"malformed file", cfg(func(c *dataset.VQAConfig) { c.Annotations = broken }), []string{"broken.json"}},
		{"no tokenizer", cfg(func(c *dataset.VQAConfig) { c.Tokenizer = nil }), []string{"required"}},
	} {
		_, err := dataset.LoadVQA(tc.cfg)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, w)
			}
		}
	}
}

// captionFiles writes a COCO captions file and a Karpathy file and returns their paths.
func captionFiles(t *testing.T, cf *coco.CaptionFile, kf *coco.KarpathyFile) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "captions.json"), filepath.Join(dir, "dataset_coco.json")
	if err := coco.WriteCaptions(cp, cf); err != nil {
		t.Fatal(err)
	}
	if err := coco.WriteKarpathy(kp, kf); err != nil {
		t.Fatal(err)
	}
	return cp, kp
}

var (
	testCaptions = &coco.CaptionFile{
		Images: []coco.Image{{ID: 9, FileName: "COCO_train2014_000000000009.jpg"}, {ID: 25, FileName: "COCO_train2014_000000000025.jpg"}},
		Annotations: []coco.Caption{
			{ID: 1, ImageID: 9, Caption: "brown fox jumps over the lazy dog"},
			{ID: 2, ImageID: 25, Caption: "A giraffe eating leaves."},
			{ID: 3, ImageID: 9, Caption: "A plate of food."},
		},
	}
	testKarpathy = &coco.KarpathyFile{Dataset: "coco", Images: []coco.KarpathyImage{
		{FilePath: "val2014", FileName: "COCO_val2014_000000000042.jpg", Split: "restval", CocoID: 42,
			Sentences: []coco.KarpathySentence{{Raw: "A dog on a couch.", SentID: 10}, {Raw: "i like strawberries", SentID: 11}}},
		{FilePath: "val2014", FileName: "COCO_val2014_000000000073.jpg", Split: "test", CocoID: 73,
			Sentences: []coco.KarpathySentence{{Raw: "A motorcycle.", SentID: 12}}},
		{FilePath: "train2014", FileName: "COCO_train2014_000000000009.jpg", Split: "train", CocoID: 9,
			Sentences: []coco.KarpathySentence{{Raw: "Food on a plate.", SentID: 13}}},
	}}
)

func TestLoadCaptions(t *testing.T) {
	tk := tokenizer.BertBaseUncased()
	cp, kp := captionFiles(t, testCaptions, testKarpathy)
	set, err := dataset.LoadCaptions(dataset.CaptionsConfig{Captions: cp, Features: store(t, "9", "25"), Tokenizer: tk})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || !slices.Equal(set.ImageKeys(), []string{"25", "9"}) {
		t.Fatalf("COCO captions: %d examples keys %q, want 3 and [25 9]", set.Len(), set.ImageKeys())
	}
	ex, _ := set.Example(0)
	if ex.ID != "1" || ex.ImageID != 9 || ex.ImageKey != "9" ||
		!slices.Equal(ex.InputIDs, []int32{2829, 4419, 14523, 2058, 1996, 13971, 3899}) || ex.Targets != nil {
		t.Errorf("caption 1 = %+v", ex)
	}

	coco9 := "coco_train2014_000000000009"
	set, err = dataset.LoadCaptions(dataset.CaptionsConfig{Karpathy: kp, Splits: []string{"train", "restval"},
		Features: store(t, "coco_val2014_000000000042", coco9), Tokenizer: tk})
	if err != nil {
		t.Fatal(err)
	}
	var ids, keys []string
	for _, ex := range set.Examples {
		ids, keys = append(ids, ex.ID), append(keys, ex.ImageKey)
	}
	if !slices.Equal(ids, []string{"10", "11", "13"}) ||
		!slices.Equal(keys, []string{"coco_val2014_000000000042", "coco_val2014_000000000042", coco9}) {
		t.Errorf("Karpathy train+restval: ids %q keys %q", ids, keys)
	}
	if ex, _ := set.Example(1); !slices.Equal(ex.InputIDs, []int32{1045, 2066, 13137, 20968}) {
		t.Errorf("sentence 11 ids %v", ex.InputIDs)
	}
}

func TestLoadCaptionsBadInput(t *testing.T) {
	tk := tokenizer.BertBaseUncased()
	cp, kp := captionFiles(t, testCaptions, testKarpathy)
	orphan, _ := captionFiles(t, &coco.CaptionFile{Images: testCaptions.Images[:1], Annotations: testCaptions.Annotations},
		testKarpathy)
	dup, _ := captionFiles(t, &coco.CaptionFile{Images: testCaptions.Images,
		Annotations: append(slices.Clone(testCaptions.Annotations), testCaptions.Annotations[0])}, testKarpathy)
	for _, tc := range []struct {
		name string
		cfg  dataset.CaptionsConfig
		want []string
	}{
		{"missing features", dataset.CaptionsConfig{Captions: cp, Features: store(t, "9"), FeaturesPath: "/f/coco", Tokenizer: tk},
			[]string{"caption 2", "image 25", "/f/coco"}},
		{"both files", dataset.CaptionsConfig{Captions: cp, Karpathy: kp, Features: store(t, "9"), Tokenizer: tk},
			[]string{"exactly one"}},
		{"no file", dataset.CaptionsConfig{Features: store(t, "9"), Tokenizer: tk}, []string{"exactly one"}},
		{"no splits", dataset.CaptionsConfig{Karpathy: kp, Features: store(t, "9"), Tokenizer: tk}, []string{"no Karpathy splits"}},
		{"empty split", dataset.CaptionsConfig{Karpathy: kp, Splits: []string{"val"}, Features: store(t, "9"), Tokenizer: tk},
			[]string{"has no captions"}},
		{"unlisted image", dataset.CaptionsConfig{Captions: orphan, Features: store(t, "9", "25"), Tokenizer: tk},
			[]string{"caption 2", "image 25", "not in its images list"}},
		{"duplicate caption", dataset.CaptionsConfig{Captions: dup, Features: store(t, "9", "25"), Tokenizer: tk},
			[]string{"caption id 1 used twice"}},
		{"no features", dataset.CaptionsConfig{Captions: cp, Tokenizer: tk}, []string{"required"}},
	} {
		_, err := dataset.LoadCaptions(tc.cfg)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, w)
			}
		}
	}
}

func TestNewSetAndMemFeaturesBadInput(t *testing.T) {
	ex := dataset.Example{ID: "a", ImageID: 1, ImageKey: "1", Targets: []float32{1, 0}}
	if _, err := dataset.NewSet([]dataset.Example{ex}, store(t, "1"), "mem", 3); err == nil ||
		!strings.Contains(err.Error(), "example a (image 1): 2 targets, want 3") {
		t.Errorf("target length: error %v", err)
	}
	if _, err := dataset.NewSet([]dataset.Example{ex}, store(t, "2"), "mem", 2); err == nil ||
		!strings.Contains(err.Error(), `image key "1" not found in features mem`) {
		t.Errorf("missing image: error %v", err)
	}
	if _, err := dataset.NewSet(nil, store(t, "1"), "mem", 0); err == nil {
		t.Error("no examples: want an error")
	}
	if _, err := dataset.NewSet([]dataset.Example{ex}, nil, "mem", 2); err == nil {
		t.Error("no store: want an error")
	}
	f := &features.ImageFeatures{ImageID: "x"}
	if _, err := dataset.NewMemFeatures([]*features.ImageFeatures{f, f}); err == nil {
		t.Error("duplicate image: want an error")
	}
	if _, err := store(t, "1").Get("2"); err == nil || !strings.Contains(err.Error(), `"2"`) {
		t.Errorf("Get of a missing image: error %v", err)
	}
}

// A loaded dataset feeds the batch builders like any Source.
func TestVQAIntoBatches(t *testing.T) {
	qp, ap := vqaFiles(t, testQuestions, testAnnotations)
	set, err := dataset.LoadVQA(dataset.VQAConfig{Questions: qp, Annotations: ap, AnswerVocab: answerVocab(t),
		Features: store(t, "9", "42"), Tokenizer: tokenizer.BertBaseUncased()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := batch.DefaultConfig()
	cfg.BatchSize, cfg.TextLen, cfg.NumRegions, cfg.FeatDim, cfg.NumAnswers = 4, 8, 3, 4, 4
	b, err := batch.NewBuilder(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := b.Build(batch.TaskVQA, []int{0, 1, 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// Question 420, "is this a test of tokens?" truncated to 6 pieces.
	if want := []int32{101, 2003, 2023, 1037, 3231, 1997, 19204, 102}; !slices.Equal(bt.InputIDs[:8], want) {
		t.Errorf("row 0 ids %v, want %v", bt.InputIDs[:8], want)
	}
	if !slices.Equal(bt.Targets[:4], []float32{0.9, 1, 0, 0}) || !slices.Equal(bt.QuestionIDs, []int64{420, 90, 421, -1}) {
		t.Errorf("targets %v question ids %v", bt.Targets[:4], bt.QuestionIDs)
	}
	if want := []float32{0, 0, 0.5, 0.5, 0.5, 0.5, 0.25}; !slices.Equal(bt.ImgPos[:7], want) {
		t.Errorf("row 0 region 0 position %v, want %v", bt.ImgPos[:7], want)
	}
	if !slices.Equal(bt.ImgMask[:3], []float32{1, 1, 0}) {
		t.Errorf("row 0 image mask %v, want [1 1 0]", bt.ImgMask[:3])
	}
}
