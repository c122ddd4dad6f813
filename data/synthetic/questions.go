package synthetic

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/uniter-go/uniter/data/vqa"
)

// VQA answer types.
const (
	AnswerTypeYesNo  = "yes/no"
	AnswerTypeNumber = "number"
	AnswerTypeOther  = "other"
)

// questionIDStride separates the question ids of consecutive images: question k of image i has id i·stride + k,
// as in VQA v2.
const questionIDStride = 1000

// qa is one generated question with its true answer.
type qa struct {
	question, questionType, answerType, answer string
}

// questionKind generates one question of a template for a scene, or reports that the scene does not admit it.
type questionKind func(cfg Config, rng *rand.Rand, objs []Object) (qa, bool)

// questionKinds are the templates, visited round-robin so every kind gets its share of the questions.
var questionKinds = []questionKind{countColor, countShape, queryColor, queryShape, exists, queryRelation}

// countColor asks "how many <color> objects are there?"; the colour is usually one present in the scene.
func countColor(cfg Config, rng *rand.Rand, objs []Object) (qa, bool) {
	return countBy(rng, objs, Colors[:cfg.NumColors], func(o Object) string { return o.Color }, "how many %s objects are there?")
}

// countShape asks "how many <shape>s are there?"; the shape is usually one present in the scene.
func countShape(cfg Config, rng *rand.Rand, objs []Object) (qa, bool) {
	return countBy(rng, objs, Shapes[:cfg.NumShapes], func(o Object) string { return o.Shape }, "how many %ss are there?")
}

// countBy asks how many objects have an attribute value: with probability 3/4 the value of a random object of the
// scene, else any value of the vocabulary (so that 0 is a possible answer).
func countBy(rng *rand.Rand, objs []Object, values []string, attr func(Object) string, format string) (qa, bool) {
	v := values[rng.IntN(len(values))]
	if rng.IntN(4) > 0 {
		v = attr(objs[rng.IntN(len(objs))])
	}
	n := countMatching(objs, func(o Object) bool { return attr(o) == v })
	return qa{fmt.Sprintf(format, v), "how many", AnswerTypeNumber, strconv.Itoa(n)}, true
}

// queryColor asks "what color is the <size> <shape>?" about an object unique by size and shape.
func queryColor(_ Config, rng *rand.Rand, objs []Object) (qa, bool) {
	o, ok := pickObject(rng, objs, func(o Object) bool {
		return countMatching(objs, func(p Object) bool { return p.Size == o.Size && p.Shape == o.Shape }) == 1
	})
	return qa{fmt.Sprintf("what color is the %s %s?", o.Size, o.Shape), "what color is the", AnswerTypeOther, o.Color}, ok
}

// queryShape asks "what shape is the <color> object?" about an object unique by colour.
func queryShape(_ Config, rng *rand.Rand, objs []Object) (qa, bool) {
	o, ok := pickObject(rng, objs, func(o Object) bool {
		return countMatching(objs, func(p Object) bool { return p.Color == o.Color }) == 1
	})
	return qa{fmt.Sprintf("what shape is the %s object?", o.Color), "what shape is the", AnswerTypeOther, o.Shape}, ok
}

// exists asks "is there a <color> <shape>?", with "yes" and "no" equally likely.
func exists(cfg Config, rng *rand.Rand, objs []Object) (qa, bool) {
	c, s, answer := "", "", "yes"
	if rng.IntN(2) == 0 {
		o := objs[rng.IntN(len(objs))]
		c, s = o.Color, o.Shape
	} else {
		answer = "no"
		var absent [][2]string
		for _, s := range Shapes[:cfg.NumShapes] {
			for _, c := range Colors[:cfg.NumColors] {
				if countMatching(objs, func(o Object) bool { return o.Color == c && o.Shape == s }) == 0 {
					absent = append(absent, [2]string{c, s})
				}
			}
		}
		if len(absent) == 0 {
			return qa{}, false
		}
		pick := absent[rng.IntN(len(absent))]
		c, s = pick[0], pick[1]
	}
	return qa{fmt.Sprintf("is there a %s %s?", c, s), "is there a", AnswerTypeYesNo, answer}, true
}

// queryRelation asks "what is the color of the object to the left|right of the <color> <shape>?" about a
// reference object unique by colour and shape with exactly one object's centre on that side of its centre.
func queryRelation(_ Config, rng *rand.Rand, objs []Object) (qa, bool) {
	side := [2]string{"left", "right"}[rng.IntN(2)]
	onSide := func(ref, p Object) bool {
		if side == "left" {
			return p.centerX() < ref.centerX()
		}
		return p.centerX() > ref.centerX()
	}
	ref, ok := pickObject(rng, objs, func(ref Object) bool {
		return countMatching(objs, func(p Object) bool { return p.Color == ref.Color && p.Shape == ref.Shape }) == 1 &&
			countMatching(objs, func(p Object) bool { return onSide(ref, p) }) == 1
	})
	if !ok {
		return qa{}, false
	}
	target, _ := pickObject(rng, objs, func(p Object) bool { return onSide(ref, p) })
	return qa{fmt.Sprintf("what is the color of the object to the %s of the %s %s?", side, ref.Color, ref.Shape),
		"what is the color of the", AnswerTypeOther, target.Color}, true
}

// pickObject returns a random object for which ok holds, trying the objects in random order.
func pickObject(rng *rand.Rand, objs []Object, ok func(Object) bool) (Object, bool) {
	for _, i := range rng.Perm(len(objs)) {
		if ok(objs[i]) {
			return objs[i], true
		}
	}
	return Object{}, false
}

// countMatching counts the objects for which match holds.
func countMatching(objs []Object, match func(Object) bool) int {
	n := 0
	for _, o := range objs {
		if match(o) {
			n++
		}
	}
	return n
}

// newQuestions generates up to QuestionsPerImage distinct questions for a scene, visiting the templates
// round-robin from a random start, with their VQA annotations.
func newQuestions(cfg Config, rng *rand.Rand, s *Scene) ([]vqa.Question, []vqa.Annotation) {
	var qs []vqa.Question
	var anns []vqa.Annotation
	seen := map[string]bool{}
	start := rng.IntN(len(questionKinds))
	for try := 0; try < 20*cfg.QuestionsPerImage && len(qs) < cfg.QuestionsPerImage; try++ {
		q, ok := questionKinds[(start+try)%len(questionKinds)](cfg, rng, s.Objects)
		if !ok || seen[q.question] {
			continue
		}
		seen[q.question] = true
		id := s.ImageID*questionIDStride + int64(len(qs))
		qs = append(qs, vqa.Question{ImageID: s.ImageID, Question: q.question, QuestionID: id})
		anns = append(anns, vqa.Annotation{
			QuestionID: id, ImageID: s.ImageID, QuestionType: q.questionType, AnswerType: q.answerType,
			MultipleChoiceAnswer: q.answer, Answers: humanAnswers(cfg, rng, q),
		})
	}
	return qs, anns
}

// humanAnswers returns 10 answers of which MinAgree..10 are the true answer (confidence "yes") and the others a
// plausible mistake of the same type (confidence "maybe"), in random order.
func humanAnswers(cfg Config, rng *rand.Rand, q qa) []vqa.Answer {
	agree := cfg.MinAgree + rng.IntN(maxAnswers-cfg.MinAgree+1)
	out := make([]vqa.Answer, maxAnswers)
	for i := range out {
		out[i] = vqa.Answer{Answer: q.answer, AnswerConfidence: "yes"}
		if i >= agree {
			out[i] = vqa.Answer{Answer: wrongAnswer(cfg, rng, q), AnswerConfidence: "maybe"}
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i := range out {
		out[i].AnswerID = i + 1
	}
	return out
}

// wrongAnswer returns a mistake a careless annotator could make: a neighbouring count, another colour or shape,
// the opposite yes/no.
func wrongAnswer(cfg Config, rng *rand.Rand, q qa) string {
	switch {
	case q.answerType == AnswerTypeYesNo:
		return map[string]string{"yes": "no", "no": "yes"}[q.answer]
	case q.answerType == AnswerTypeNumber:
		n, _ := strconv.Atoi(q.answer)
		if n == 0 || (rng.IntN(2) == 0 && n < cfg.MaxObjects) {
			return strconv.Itoa(n + 1)
		}
		return strconv.Itoa(n - 1)
	case indexOf(Colors, q.answer) >= 0:
		return otherThan(rng, Colors[:cfg.NumColors], q.answer)
	default:
		return otherThan(rng, Shapes[:cfg.NumShapes], q.answer)
	}
}

// otherThan picks an entry of list different from s (list has at least two entries).
func otherThan(rng *rand.Rand, list []string, s string) string {
	for {
		if v := list[rng.IntN(len(list))]; v != s {
			return v
		}
	}
}

// answerList is the fixed answer vocabulary of a config: "yes", "no", the counts 0..MaxObjects, the colours and
// the shapes in use.
func answerList(cfg Config) []string {
	list := []string{"yes", "no"}
	for n := 0; n <= cfg.MaxObjects; n++ {
		list = append(list, strconv.Itoa(n))
	}
	list = append(list, Colors[:cfg.NumColors]...)
	return append(list, Shapes[:cfg.NumShapes]...)
}
