package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalVQA scores a hand-made results file; the expected text is what vqaEvalDemo.py prints for it
// (checked with the real vqaEval.py through data/vqa/testdata/run_vqaeval.py; identical human answers are compared
// unnormalised).
func TestEvalVQA(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ans := func(as ...string) string {
		var parts []string
		for i, a := range as {
			parts = append(parts, `{"answer": "`+a+`", "answer_confidence": "yes", "answer_id": `+string(rune('1'+i))+`}`)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	q := write("q.json", `{"task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": "val2014", "questions": [
		{"image_id": 1, "question": "Is it red?", "question_id": 10},
		{"image_id": 1, "question": "How many?", "question_id": 11},
		{"image_id": 2, "question": "What color?", "question_id": 12}]}`)
	a := write("a.json", `{"annotations": [
		{"question_id": 10, "image_id": 1, "question_type": "is the", "answer_type": "yes/no", "answers": `+ans("yes", "yes", "no")+`},
		{"question_id": 11, "image_id": 1, "question_type": "how many", "answer_type": "number", "answers": `+ans("2", "2", "2")+`},
		{"question_id": 12, "image_id": 2, "question_type": "what color", "answer_type": "other", "answers": `+ans("red", "Red!", "blue")+`}]}`)
	r := write("r.json", `[{"question_id": 10, "answer": "Yes."}, {"question_id": 11, "answer": "two"},
		{"question_id": 12, "answer": "red"}, {"question_id": 12, "answer": "the red"}]`)
	var out, errOut bytes.Buffer
	if err := evalVQA([]string{"--questions", q, "--annotations", a, "--results", r}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// q10: "yes" matches 2 answers: (2/3 + 2/3 + 1/3... per leave-one-out) = (1/3+1/3+2/3)/3 = 4/9 → 44.44.
	// q11: identical answers, "two" is not normalised to "2": 0. q12: "the red" → "red" matches red and Red!: 44.44.
	want := "\n\nOverall Accuracy is: 29.63\n\nPer Question Type Accuracy is the following:\nis the : 44.44\n" +
		"how many : 0.00\nwhat color : 44.44\n\n\nPer Answer Type Accuracy is the following:\nyes/no : 44.44\n" +
		"number : 0.00\nother : 44.44\n\n\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if !strings.Contains(errOut.String(), "1 results for questions already answered") {
		t.Errorf("no note about the duplicate result: %q", errOut.String())
	}
	short := write("short.json", `[{"question_id": 10, "answer": "yes"}]`)
	err := evalVQA([]string{"--questions", q, "--annotations", a, "--results", short}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "question_id 11") {
		t.Errorf("missing results: %v", err)
	}
}
