package vqa

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// UnknownAnswer is the out-of-vocabulary entry MMF's answer vocabularies carry; its soft score is always 0.
const UnknownAnswer = "<unk>"

// AnswerVocab maps answers to class indices of the VQA classifier.
type AnswerVocab struct {
	answers []string
	index   map[string]int
}

// NewAnswerVocab builds a vocabulary whose i-th class is answers[i]; duplicates are an error.
func NewAnswerVocab(answers []string) (*AnswerVocab, error) {
	v := &AnswerVocab{answers: append([]string(nil), answers...), index: make(map[string]int, len(answers))}
	for i, a := range answers {
		if j, dup := v.index[a]; dup {
			return nil, fmt.Errorf("answer vocabulary: %q at both %d and %d", a, j, i)
		}
		v.index[a] = i
	}
	return v, nil
}

// ReadAnswerVocab reads a vocabulary file with one answer per line (e.g. MMF's answers_vqa.txt); a trailing "\r"
// is dropped from each line and a final empty line is ignored.
func ReadAnswerVocab(path string) (*AnswerVocab, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(data) == 0 {
		lines = nil
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	v, err := NewAnswerVocab(lines)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return v, nil
}

// Write writes the vocabulary one answer per line.
func (v *AnswerVocab) Write(path string) error {
	var b strings.Builder
	for _, a := range v.answers {
		if strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("writing %s: answer %q contains a line break", path, a)
		}
		b.WriteString(a)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Index returns the class index of an answer (compared as given, not normalised).
func (v *AnswerVocab) Index(ans string) (int, bool) {
	i, ok := v.index[ans]
	return i, ok
}

// Answer returns the answer of class i, or "" when i is out of range.
func (v *AnswerVocab) Answer(i int) string {
	if i < 0 || i >= len(v.answers) {
		return ""
	}
	return v.answers[i]
}

// Len is the number of classes.
func (v *AnswerVocab) Len() int { return len(v.answers) }

// AnswerSource says which answers of an annotation count when building a vocabulary.
type AnswerSource int

const (
	// MultipleChoice counts the multiple_choice_answer of each question (the usual 3,129-answer recipe).
	MultipleChoice AnswerSource = iota
	// AllAnswers counts every distinct human answer of each question.
	AllAnswers
)

// BuildAnswerVocab builds a vocabulary from the normalised multiple-choice answers; see BuildAnswerVocabFrom.
func BuildAnswerVocab(anns []Annotation, topK, minCount int) *AnswerVocab {
	return BuildAnswerVocabFrom(anns, MultipleChoice, topK, minCount)
}

// BuildAnswerVocabFrom builds a vocabulary from training annotations: answers are normalised with NormalizeAnswer,
// an answer's count is the number of questions it answers (per src), answers with count < minCount are dropped,
// the rest are sorted by decreasing count (ties by answer) and the first topK kept (all when topK <= 0).
// Empty answers are never included.
func BuildAnswerVocabFrom(anns []Annotation, src AnswerSource, topK, minCount int) *AnswerVocab {
	counts := map[string]int{}
	for _, a := range anns {
		if src == MultipleChoice {
			counts[NormalizeAnswer(a.MultipleChoiceAnswer)]++
			continue
		}
		seen := map[string]bool{}
		for _, x := range a.Answers {
			n := NormalizeAnswer(x.Answer)
			if !seen[n] {
				seen[n] = true
				counts[n]++
			}
		}
	}
	delete(counts, "")
	var answers []string
	for a, c := range counts {
		if c >= minCount {
			answers = append(answers, a)
		}
	}
	sort.Slice(answers, func(i, j int) bool {
		ci, cj := counts[answers[i]], counts[answers[j]]
		if ci != cj {
			return ci > cj
		}
		return answers[i] < answers[j]
	})
	if topK > 0 && len(answers) > topK {
		answers = answers[:topK]
	}
	v, _ := NewAnswerVocab(answers) // keys of a map: never duplicated
	return v
}
