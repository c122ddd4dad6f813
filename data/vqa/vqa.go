// Package vqa reads and writes the official VQA v2 question, annotation and result JSON files, builds answer
// vocabularies and soft-score targets, and scores predictions exactly as the official evaluator (vqaEval.py).
package vqa

import (
	"github.com/uniter-go/uniter/internal/jsonfile"
)

// Question is one entry of a VQA v2 questions file.
type Question struct {
	ImageID    int64  `json:"image_id"`
	Question   string `json:"question"`
	QuestionID int64  `json:"question_id"`
}

// QuestionFile is a VQA v2 questions file (e.g. v2_OpenEnded_mscoco_train2014_questions.json).
type QuestionFile struct {
	Info        map[string]any `json:"info,omitempty"`
	TaskType    string         `json:"task_type"`
	DataType    string         `json:"data_type"`
	DataSubtype string         `json:"data_subtype"`
	Questions   []Question     `json:"questions"`
}

// Answer is one of the (normally 10) human answers of an annotation.
type Answer struct {
	Answer           string `json:"answer"`
	AnswerConfidence string `json:"answer_confidence"`
	AnswerID         int    `json:"answer_id"`
}

// Annotation holds the human answers to one question.
type Annotation struct {
	QuestionID           int64    `json:"question_id"`
	ImageID              int64    `json:"image_id"`
	QuestionType         string   `json:"question_type"`
	AnswerType           string   `json:"answer_type"`
	MultipleChoiceAnswer string   `json:"multiple_choice_answer"`
	Answers              []Answer `json:"answers"`
}

// AnnotationFile is a VQA v2 annotations file (e.g. v2_mscoco_train2014_annotations.json).
type AnnotationFile struct {
	Info        map[string]any `json:"info,omitempty"`
	DataType    string         `json:"data_type"`
	DataSubtype string         `json:"data_subtype"`
	Annotations []Annotation   `json:"annotations"`
}

// Result is one prediction in the official results format.
type Result struct {
	QuestionID int64  `json:"question_id"`
	Answer     string `json:"answer"`
}

// ReadQuestions reads a questions file.
func ReadQuestions(path string) (*QuestionFile, error) {
	f := new(QuestionFile)
	if err := jsonfile.Read(path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// WriteQuestions writes a questions file.
func WriteQuestions(path string, f *QuestionFile) error { return jsonfile.Write(path, f) }

// ReadAnnotations reads an annotations file.
func ReadAnnotations(path string) (*AnnotationFile, error) {
	f := new(AnnotationFile)
	if err := jsonfile.Read(path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// WriteAnnotations writes an annotations file.
func WriteAnnotations(path string, f *AnnotationFile) error { return jsonfile.Write(path, f) }

// ReadResults reads a results file (a JSON array of {question_id, answer}).
func ReadResults(path string) ([]Result, error) {
	var rs []Result
	if err := jsonfile.Read(path, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// WriteResults writes predictions in the official results format accepted by the evaluation server.
func WriteResults(path string, rs []Result) error {
	if rs == nil {
		rs = []Result{}
	}
	return jsonfile.Write(path, rs)
}
