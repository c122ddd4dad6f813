package vqa

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The expected outputs below were produced by running the official vqaEval.py processPunctuation /
// processDigitArticle (GT-Vision-Lab/VQA, current version) on the same inputs.
func TestNormalizeAnswerMatchesOfficial(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Two", "2"}, {"a dog", "dog"}, {"dont", "don't"}, {"1,000", "1000"}, {"yes.", "yes"}, // invariant 18
		{"Yes!", "yes"}, {"hello-world", "hello world"}, {"a - b", "b"}, {"3.5", "3.5"},
		{"the cat's toy", "cat's toy"}, {"isnt", "isn't"}, {"somebody'd", "somebodyd"}, {"None", "0"},
		{"It's ten.", "it's 10"}, {"  Red\tand\nblue  ", "red and blue"}, {"red, white", "red white"},
		{"red,white", "red white"}, {"10,000 dollars, or so", "10000 dollars or so"}, {"(a) [b] {c}", "b c"},
		{"U.S.A.", "usa"}, {"one.two", "onetwo"}, {"e.g. 2", "eg 2"}, {"Im", "im"}, {"whats up?", "what's up"},
		{"An Apple", "apple"}, {"the the the", ""}, {"x@y.com", "x ycom"}, {"1/2", "1 2"}, {"1 / 2", "1 2"},
		{"yes/no", "yes no"}, {"2:30", "2:30"}, {"it's", "it's"}, {"wont!", "won't"},
		// vqaEval passes re.UNICODE as the count of periodStrip.sub: only 32 of these 42 periods go.
		{strings.Repeat(".", 42), strings.Repeat(".", 10)},
		{"c++", "c"}, {`"quoted"`, "quoted"}, {"a_b", "b"}, {"left <-> right", "left right"}, {"`tick`", "tick"},
		{"ÉCOLE", "école"}, {"no\u00a0break", "no break"}, {"", ""}, {"   ", ""}, {"ten.5", "ten.5"}, {"50%", "50%"},
		{"$5", "$5"}, {"#1", "#1"}, {"rock 'n' roll", "rock 'n' roll"}, {"don't", "don't"}, {"twas", "'twas"},
	}
	for _, c := range cases {
		if got := NormalizeAnswer(c.in); got != c.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestContractionsTable(t *testing.T) {
	if len(contractions) != 120 {
		t.Errorf("%d contractions, vqaEval.py has 120", len(contractions))
	}
	for k, v := range map[string]string{"yall'd've": "y'all'd've", "Id've": "I'd've", "oclock": "o'clock",
		"'ows'at": "'ow's'at", "youve": "you've"} {
		if contractions[k] != v {
			t.Errorf("contractions[%q] = %q, want %q", k, contractions[k], v)
		}
	}
}

func TestSoftScore(t *testing.T) {
	want := []float32{0, 0.3, 0.6, 0.9, 1, 1, 1, 1, 1, 1, 1}
	for k, w := range want {
		if got := SoftScore(k); got != w {
			t.Errorf("SoftScore(%d) = %v, want %v", k, got, w)
		}
	}
}

// The expected accuracies were produced by the official evaluate() loop on the same answers.
func TestAccuracyMatchesOfficial(t *testing.T) {
	yn := []string{"yes", "yes", "yes", "no", "no", "no", "no", "no", "no", "no"}
	rep := func(a string, n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = a
		}
		return s
	}
	cases := []struct {
		pred string
		gt   []string
		want float64
	}{
		{"yes", yn, 0.9}, {"no", yn, 1}, {"maybe", yn, 0}, // invariant 18
		// Identical human answers: neither they nor the prediction are normalised (only stripped).
		{"Two", rep("2", 10), 0}, {"2", rep("two", 10), 0}, {" 2\n", rep("2 ", 10), 1},
		// Differing answers: all of them and the prediction are normalised.
		{"dog", append(rep("a dog", 5), rep("dog", 5)...), 1},
		{"Two", append(rep("2", 9), "two."), 1},
		{"yes", append(rep("yes!", 2), rep("no", 8)...), 0.6},
		{"red white", append([]string{"red, white", "red,white"}, rep("red", 8)...), 0.6},
		{"1000", append([]string{"1,000", "1,000", "1000"}, rep("10", 7)...), 0.9},
		{"blue", []string{"blue", "blue", "red"}, 4.0 / 9},
	}
	for _, c := range cases {
		if got := Accuracy(c.pred, c.gt); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Accuracy(%q, %v) = %v, want %v", c.pred, c.gt, got, c.want)
		}
	}
	// With 10 human answers the accuracy of an answer given k times is its soft score.
	for k := 0; k <= 10; k++ {
		gt := append(rep("cat", k), rep("dog", 10-k)...)
		if got := float32(Accuracy("cat", gt)); got != SoftScore(k) {
			t.Errorf("k=%d: accuracy %v, soft score %v", k, got, SoftScore(k))
		}
	}
}

func TestTargetsAndVocab(t *testing.T) {
	v, err := NewAnswerVocab([]string{UnknownAnswer, "yes", "no", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewAnswerVocab([]string{"a", "b", "a"}); err == nil {
		t.Errorf("duplicate answers accepted")
	}
	var answers []Answer
	for i, a := range []string{"Yes", "yes", "yes.", "no", "Two", "two", "<unk>", "purple", "purple", "purple"} {
		answers = append(answers, Answer{Answer: a, AnswerID: i + 1})
	}
	got := Targets(v, answers)
	if want := []float32{0, 0.9, 0.3, 0.6}; !reflect.DeepEqual(got, want) {
		t.Errorf("Targets = %v, want %v", got, want)
	}
	if i, ok := v.Index("no"); !ok || i != 2 || v.Answer(3) != "2" || v.Answer(9) != "" || v.Len() != 4 {
		t.Errorf("vocab lookups wrong")
	}

	path := filepath.Join(t.TempDir(), "answers.txt")
	if err := v.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadAnswerVocab(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.answers, v.answers) {
		t.Errorf("vocab round trip: %v", back.answers)
	}
	os.WriteFile(path, []byte("yes\r\nno\r\n"), 0o644)
	if crlf, err := ReadAnswerVocab(path); err != nil || crlf.Len() != 2 || crlf.Answer(1) != "no" {
		t.Errorf("CRLF vocab: %v %v", crlf, err)
	}
}

func TestBuildAnswerVocab(t *testing.T) {
	ann := func(mc string, others ...string) Annotation {
		a := Annotation{MultipleChoiceAnswer: mc}
		for _, o := range append([]string{mc}, others...) {
			a.Answers = append(a.Answers, Answer{Answer: o})
		}
		return a
	}
	anns := []Annotation{ann("Yes", "yes", "no"), ann("yes."), ann("two", "2", "3"), ann("2"), ann("2"),
		ann("no", "nope"), ann("")}
	v := BuildAnswerVocab(anns, 0, 1)
	if want := []string{"2", "yes", "no"}; !reflect.DeepEqual(v.answers, want) { // counts 3, 2, 1
		t.Errorf("multiple-choice vocab = %v, want %v", v.answers, want)
	}
	if v := BuildAnswerVocab(anns, 1, 1); !reflect.DeepEqual(v.answers, []string{"2"}) {
		t.Errorf("top-1 = %v", v.answers)
	}
	if v := BuildAnswerVocab(anns, 0, 2); !reflect.DeepEqual(v.answers, []string{"2", "yes"}) {
		t.Errorf("min count 2 = %v", v.answers)
	}
	// All answers, counted once per question: 2 → 3, no → 2, yes → 2, 3 → 1, nope → 1.
	v = BuildAnswerVocabFrom(anns, AllAnswers, 0, 1)
	if want := []string{"2", "no", "yes", "3", "nope"}; !reflect.DeepEqual(v.answers, want) {
		t.Errorf("all-answers vocab = %v, want %v", v.answers, want)
	}
}

func TestFilesRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	qf := &QuestionFile{TaskType: "Open-Ended", DataType: "mscoco", DataSubtype: "val2014",
		Info:      map[string]any{"year": float64(2017)},
		Questions: []Question{{ImageID: 42, Question: "What is this?", QuestionID: 42000}}}
	af := &AnnotationFile{DataType: "mscoco", DataSubtype: "val2014", Annotations: []Annotation{{QuestionID: 42000,
		ImageID: 42, QuestionType: "what is this", AnswerType: "other", MultipleChoiceAnswer: "cat",
		Answers: []Answer{{Answer: "cat", AnswerConfidence: "yes", AnswerID: 1}}}}}
	for i := 2; i <= 10; i++ { // one "cat" among 10 answers: accuracy 0.3
		af.Annotations[0].Answers = append(af.Annotations[0].Answers, Answer{Answer: "dog", AnswerConfidence: "maybe",
			AnswerID: i})
	}
	qp, ap, rp := filepath.Join(dir, "q.json"), filepath.Join(dir, "a.json"), filepath.Join(dir, "r.json")
	if err := WriteQuestions(qp, qf); err != nil {
		t.Fatal(err)
	}
	if err := WriteAnnotations(ap, af); err != nil {
		t.Fatal(err)
	}
	q2, err := ReadQuestions(qp)
	if err != nil || !reflect.DeepEqual(q2, qf) {
		t.Errorf("questions round trip: %+v %v", q2, err)
	}
	a2, err := ReadAnnotations(ap)
	if err != nil || !reflect.DeepEqual(a2, af) {
		t.Errorf("annotations round trip: %+v %v", a2, err)
	}
	rs := []Result{{QuestionID: 42000, Answer: "a cat"}}
	if err := WriteResults(rp, rs); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(rp); strings.TrimSpace(string(b)) != `[{"question_id":42000,"answer":"a cat"}]` {
		t.Errorf("results file = %s", b)
	}
	r2, err := ReadResults(rp)
	if err != nil || !reflect.DeepEqual(r2, rs) {
		t.Errorf("results round trip: %v %v", r2, err)
	}
	ev, err := Evaluate(af.Annotations, r2)
	if err != nil || ev.Overall != 30 || len(ev.PerAnswerType) != 1 || ev.PerAnswerType[0] != (TypeAccuracy{"other", 30}) ||
		float32(ev.PerQuestion[42000]) != 0.3 {
		t.Errorf("Evaluate = %+v, %v", ev, err)
	}
	if _, err := Evaluate(af.Annotations, nil); err == nil {
		t.Errorf("Evaluate accepted missing results")
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"questions": [{"image_id": 1,`), 0o644)
	if _, err := ReadQuestions(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed JSON: %v", err)
	}
	if _, err := ReadAnnotations(filepath.Join(dir, "missing.json")); err == nil ||
		!strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestMMFAnswers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "answers_vqa.txt")
	os.WriteFile(path, []byte("yes\n  no \t\n2\nman's hat\n"), 0o644)
	v, err := ReadMMFAnswerVocab(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"<unk>", "yes", "no", "2", "man's hat"}; !reflect.DeepEqual(v.answers, want) {
		t.Errorf("vocab = %q, want %q (stripped, <unk> first)", v.answers, want)
	}
	os.WriteFile(path, []byte("<unk>\nyes\n"), 0o644)
	if v2, err := ReadMMFAnswerVocab(path); err != nil || v2.Len() != 2 || v2.Answer(0) != "<unk>" {
		t.Errorf("vocab with <unk>: %v %v", v2, err)
	}
	for in, want := range map[string]string{"Yes?": "yes", "1,000": "1000", "Man's HAT ": "man 's hat", "ΟΔΟΣ": "οδος"} {
		if got := MMFAnswerKey(in); got != want {
			t.Errorf("MMFAnswerKey(%q) = %q, want %q", in, got, want)
		}
	}
	// 10 answers: yes ×7, no ×2, purple ×1 (not in the vocabulary).
	ans := []string{"yes", "Yes", "yes?", "yes", "yes", "yes", "yes", "no", "No", "purple"}
	tg, in, err := MMFTargets(v, ans)
	if want := []float32{0, 1, 0.6, 0, 0}; err != nil || in != 9 || !reflect.DeepEqual(tg, want) {
		t.Errorf("MMFTargets = %v, %d, %v; want %v, 9", tg, in, err, want)
	}
	// 3 answers are repeated to 10: yes, no, yes → yes ×7 (positions 0,2,3,5,6,8,9), no ×3.
	tg, _, _ = MMFTargets(v, []string{"yes", "no", "yes"})
	if tg[1] != 1 || tg[2] != 0.9 {
		t.Errorf("repeated to ten: %v", tg)
	}
	if tg, in, err := MMFTargets(v, []string{"maybe", "purple"}); err != nil || in != 0 || tg[0] != 0 || tg[1] != 0 {
		t.Errorf("all out of vocabulary: %v %d %v", tg, in, err)
	}
	if _, _, err := MMFTargets(v, make([]string, 11)); err == nil {
		t.Error("11 answers accepted")
	}
}
