package vqa

import (
	"fmt"
	"os"
	"strings"

	"github.com/uniter-go/uniter/internal/pystr"
)

// mmfNumAnswers is MMF's VQAAnswerProcessor.DEFAULT_NUM_ANSWERS: answer lists are repeated up to this length.
const mmfNumAnswers = 10

// ReadMMFAnswerVocab reads an answer vocabulary as MMF's VocabDict does (MMF mmf/utils/text.py): one answer per
// line, each stripped of surrounding whitespace, "<unk>" put first when the file lacks it. A repeated answer is an
// error naming its lines (MMF would silently keep only the later index).
func ReadMMFAnswerVocab(path string) (*AnswerVocab, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	words := make([]string, 0, len(lines)+1)
	unk := false
	for _, l := range lines {
		w := pystr.Strip(l)
		unk = unk || w == UnknownAnswer
		words = append(words, w)
	}
	if !unk {
		words = append([]string{UnknownAnswer}, words...)
	}
	v, err := NewAnswerVocab(words)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return v, nil
}

// MMFAnswerKey is MMF's answer preprocessing (the simple_word processor, mmf/utils/text.py word_tokenize):
// lower-case, delete "," and "?", put a space before "'s", strip.
func MMFAnswerKey(answer string) string {
	a := pystr.Lower(answer)
	a = strings.ReplaceAll(strings.ReplaceAll(a, ",", ""), "?", "")
	return pystr.Strip(strings.ReplaceAll(a, "'s", " 's"))
}

// MMFTargets returns the soft-score targets [vocab.Len()] of one question as MMF's VQAAnswerProcessor computes
// them: each answer goes through MMFAnswerKey and is looked up (absent ones become "<unk>"), the list is repeated
// up to 10 answers, and every answer index other than "<unk>" scores the mean over the 10 positions of
// min(1, matches among the other 9 / 3). inVocab counts the answers found in the vocabulary; when it is 0 the
// targets are all zero, which MMF trains on as they are. More than 10 answers is an error (MMF fails on it too).
func MMFTargets(vocab *AnswerVocab, answers []string) (targets []float32, inVocab int, err error) {
	if len(answers) > mmfNumAnswers {
		return nil, 0, fmt.Errorf("%d answers, MMF's answer processor takes at most %d", len(answers), mmfNumAnswers)
	}
	unk, hasUnk := vocab.Index(UnknownAnswer)
	idx := make([]int, 0, mmfNumAnswers)
	for _, a := range answers {
		i, ok := vocab.Index(MMFAnswerKey(a))
		if ok && (!hasUnk || i != unk) {
			inVocab++
		} else {
			i = -1
		}
		idx = append(idx, i)
	}
	for len(idx) > 0 && len(idx) < mmfNumAnswers { // _increase_to_ten
		idx = append(idx, idx[:min(len(idx), mmfNumAnswers-len(idx))]...)
	}
	for len(idx) < mmfNumAnswers { // no answers: every slot is <unk>
		idx = append(idx, -1)
	}
	targets = make([]float32, vocab.Len())
	for _, a := range idx {
		if a < 0 || targets[a] != 0 {
			continue
		}
		sum := 0.0
		for i := range idx {
			matches := 0
			for j := range idx {
				if j != i && idx[j] == a {
					matches++
				}
			}
			sum += min(1, float64(matches)/3)
		}
		targets[a] = float32(sum / float64(len(idx)))
	}
	return targets, inVocab, nil
}
