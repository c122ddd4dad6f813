package vqa

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// leaveOneOut is the official per-question accuracy for an answer that k of n human answers gave: the average over
// the n leave-one-out subsets of min(1, matches/3).
func leaveOneOut(k, n int) float64 {
	if n <= 0 || k <= 0 {
		return 0
	}
	k = min(k, n)
	kf := float64(k)
	withMatchLeftOut := min(1, (kf-1)/3) // the k subsets that drop one of the matching answers
	withOtherLeftOut := min(1, kf/3)     // the n-k subsets that drop a different answer
	return (kf*withMatchLeftOut + float64(n-k)*withOtherLeftOut) / float64(n)
}

// SoftScore is the VQA soft score of an answer given by count of the 10 human answers:
// 0 → 0, 1 → 0.3, 2 → 0.6, 3 → 0.9, ≥4 → 1 (the official accuracy of that answer).
func SoftScore(count int) float32 {
	return float32(leaveOneOut(count, 10))
}

// Accuracy is the official accuracy of a prediction given the human answers of its question (each a distinct
// answer, as in the official files); see AnswerAccuracy.
func Accuracy(pred string, gtAnswers []string) float64 {
	answers := make([]Answer, len(gtAnswers))
	for i, a := range gtAnswers {
		answers[i] = Answer{Answer: a, AnswerID: i + 1}
	}
	return AnswerAccuracy(pred, answers)
}

// AnswerAccuracy is the accuracy of one prediction as the official evaluator (GT-Vision-Lab/VQA vqaEval.py, since
// its March 2021 fix) computes it: the human answers and the prediction have '\n' and '\t' replaced by spaces and
// are stripped; when the human answers are then not all identical, every one of them and the prediction go
// through processPunctuation and processDigitArticle, otherwise none is normalised. The accuracy is the mean,
// over the human answers, of min(1, matches/3), where matches counts the other answers equal to the prediction;
// "other" compares the whole answer record (answer, answer_confidence, answer_id), as the evaluator's dict
// comparison does. It is 0 for a question without answers.
func AnswerAccuracy(pred string, answers []Answer) float64 {
	if len(answers) == 0 {
		return 0
	}
	gt := make([]string, len(answers))
	allSame := true
	for i, a := range answers {
		gt[i] = cleanWhitespace(a.Answer)
		allSame = allSame && gt[i] == gt[0]
	}
	res := cleanWhitespace(pred)
	if !allSame {
		for i := range gt {
			gt[i] = processDigitArticle(processPunctuation(gt[i]))
		}
		res = processDigitArticle(processPunctuation(res))
	}
	sum := 0.0
	for i, a := range answers {
		matches := 0
		for j, b := range answers {
			same := gt[j] == gt[i] && b.AnswerConfidence == a.AnswerConfidence && b.AnswerID == a.AnswerID
			if !same && gt[j] == res {
				matches++
			}
		}
		sum += min(1, float64(matches)/3)
	}
	return sum / float64(len(answers))
}

// Targets returns the soft-score target vector [vocab.Len()] of a question: every human answer is normalised with
// NormalizeAnswer, counted, and looked up in the vocabulary; answers outside it are dropped and the "<unk>" entry,
// if the vocabulary has one, always scores 0.
func Targets(vocab *AnswerVocab, answers []Answer) []float32 {
	t := make([]float32, vocab.Len())
	counts := map[string]int{}
	for _, a := range answers {
		counts[NormalizeAnswer(a.Answer)]++
	}
	for a, c := range counts {
		if i, ok := vocab.Index(a); ok && a != UnknownAnswer {
			t[i] = SoftScore(c)
		}
	}
	return t
}

// Evaluation is the result of the official evaluator on a results file.
type Evaluation struct {
	// Overall, PerAnswerType and PerQuestionType are percentages computed as vqaEval.py computes them
	// (100*sum/count, before its rounding to two decimals); the types are in order of first appearance.
	Overall         float64
	PerAnswerType   []TypeAccuracy
	PerQuestionType []TypeAccuracy
	// PerQuestion is each question's accuracy in [0,1].
	PerQuestion map[int64]float64
	// DuplicateResults counts results whose question already had one; as in the official loader the last wins.
	DuplicateResults int
}

// TypeAccuracy is the accuracy of the questions of one type, in percent.
type TypeAccuracy struct {
	Type    string
	Percent float64
}

// Evaluate scores results against annotations like vqaEval.py: the results must cover exactly the annotated
// questions (the official loader's assertion), every annotated question must have at least one human answer, and
// a question annotated twice is an error.
func Evaluate(anns []Annotation, rs []Result) (*Evaluation, error) {
	ev := &Evaluation{PerQuestion: make(map[int64]float64, len(anns))}
	pred := make(map[int64]string, len(rs))
	for _, r := range rs {
		if _, dup := pred[r.QuestionID]; dup {
			ev.DuplicateResults++
		}
		pred[r.QuestionID] = r.Answer
	}
	annotated := make(map[int64]bool, len(anns))
	for _, a := range anns {
		if annotated[a.QuestionID] {
			return nil, fmt.Errorf("evaluating VQA results: question_id %d is annotated twice", a.QuestionID)
		}
		annotated[a.QuestionID] = true
		if _, ok := pred[a.QuestionID]; !ok {
			return nil, fmt.Errorf("evaluating VQA results: no result for question_id %d (the results must cover "+
				"every annotated question)", a.QuestionID)
		}
		if len(a.Answers) == 0 {
			return nil, fmt.Errorf("evaluating VQA results: question_id %d has no human answers", a.QuestionID)
		}
	}
	for _, r := range rs {
		if !annotated[r.QuestionID] {
			return nil, fmt.Errorf("evaluating VQA results: question_id %d has a result but no annotation", r.QuestionID)
		}
	}
	if len(anns) == 0 {
		return nil, fmt.Errorf("evaluating VQA results: no annotated questions")
	}
	sum, byAns, byQues := 0.0, newTypeSums(), newTypeSums()
	for _, a := range anns {
		acc := AnswerAccuracy(pred[a.QuestionID], a.Answers)
		ev.PerQuestion[a.QuestionID] = acc
		sum += acc
		byAns.add(a.AnswerType, acc)
		byQues.add(a.QuestionType, acc)
	}
	ev.Overall = 100 * sum / float64(len(anns))
	ev.PerAnswerType, ev.PerQuestionType = byAns.percents(), byQues.percents()
	return ev, nil
}

// typeSums accumulates accuracies per type in order of first appearance.
type typeSums struct {
	order []string
	sum   map[string]float64
	n     map[string]int
}

func newTypeSums() *typeSums { return &typeSums{sum: map[string]float64{}, n: map[string]int{}} }

func (s *typeSums) add(t string, acc float64) {
	if _, ok := s.n[t]; !ok {
		s.order = append(s.order, t)
	}
	s.sum[t] += acc
	s.n[t]++
}

func (s *typeSums) percents() []TypeAccuracy {
	out := make([]TypeAccuracy, len(s.order))
	for i, t := range s.order {
		out[i] = TypeAccuracy{t, 100 * s.sum[t] / float64(s.n[t])}
	}
	return out
}

// WriteReport prints the accuracies as the official vqaEvalDemo.py prints them (two decimals, rounded as
// Python's round does; question types and answer types in order of first appearance, as Python 3 dicts keep them).
func (ev *Evaluation) WriteReport(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nOverall Accuracy is: %s\n\n", percent(ev.Overall))
	b.WriteString("Per Question Type Accuracy is the following:\n")
	for _, t := range ev.PerQuestionType {
		fmt.Fprintf(&b, "%s : %s\n", t.Type, percent(t.Percent))
	}
	b.WriteString("\n\nPer Answer Type Accuracy is the following:\n")
	for _, t := range ev.PerAnswerType {
		fmt.Fprintf(&b, "%s : %s\n", t.Type, percent(t.Percent))
	}
	b.WriteString("\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// percent formats like Python's "%.02f" % round(x, 2): both round the exact binary value half to even.
func percent(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
