package vqa

import "fmt"

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

// Accuracy is the official accuracy of one prediction given the human answers of its question, as vqaEval.py
// computes it: the prediction is normalised with NormalizeAnswer; the human answers, only when they are not all
// identical, go through processPunctuation; the score is the average over the leave-one-out subsets of
// min(1, #matches/3).
func Accuracy(pred string, gtAnswers []string) float64 {
	p := NormalizeAnswer(pred)
	allSame := true
	for _, a := range gtAnswers {
		allSame = allSame && a == gtAnswers[0]
	}
	k := 0
	for _, a := range gtAnswers {
		if !allSame {
			a = processPunctuation(a)
		}
		if a == p {
			k++
		}
	}
	return leaveOneOut(k, len(gtAnswers))
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

// Evaluation holds accuracies in [0,1] (multiply by 100 for the server's percentages).
type Evaluation struct {
	Overall         float64
	PerAnswerType   map[string]float64
	PerQuestionType map[string]float64
	PerQuestion     map[int64]float64
}

// Evaluate scores results against annotations like vqaEval.py: every annotated question must have exactly one
// result and every result must belong to an annotated question.
func Evaluate(anns []Annotation, rs []Result) (*Evaluation, error) {
	pred := make(map[int64]string, len(rs))
	for _, r := range rs {
		if _, dup := pred[r.QuestionID]; dup {
			return nil, fmt.Errorf("evaluating VQA results: question_id %d has more than one result", r.QuestionID)
		}
		pred[r.QuestionID] = r.Answer
	}
	if len(pred) != len(anns) {
		return nil, fmt.Errorf("evaluating VQA results: %d results for %d annotated questions", len(pred), len(anns))
	}
	ev := &Evaluation{PerAnswerType: map[string]float64{}, PerQuestionType: map[string]float64{},
		PerQuestion: make(map[int64]float64, len(anns))}
	nAns, nQues := map[string]int{}, map[string]int{}
	sum := 0.0
	for _, a := range anns {
		p, ok := pred[a.QuestionID]
		if !ok {
			return nil, fmt.Errorf("evaluating VQA results: no result for question_id %d", a.QuestionID)
		}
		gt := make([]string, len(a.Answers))
		for i, x := range a.Answers {
			gt[i] = x.Answer
		}
		acc := Accuracy(p, gt)
		ev.PerQuestion[a.QuestionID] = acc
		sum += acc
		ev.PerAnswerType[a.AnswerType] += acc
		nAns[a.AnswerType]++
		ev.PerQuestionType[a.QuestionType] += acc
		nQues[a.QuestionType]++
	}
	if len(anns) > 0 {
		ev.Overall = sum / float64(len(anns))
	}
	for t, n := range nAns {
		ev.PerAnswerType[t] /= float64(n)
	}
	for t, n := range nQues {
		ev.PerQuestionType[t] /= float64(n)
	}
	return ev, nil
}
