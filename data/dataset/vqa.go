package dataset

import (
	"fmt"
	"strconv"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// VQAConfig names the inputs of one VQA v2 split.
type VQAConfig struct {
	Questions    string               // official questions JSON
	Annotations  string               // official annotations JSON; "" for a split without answers (test-dev, test)
	AnswerVocab  *vqa.AnswerVocab     // the classifier's answer space
	Features     features.Reader      // region features of the split's images (not closed by the dataset)
	FeaturesPath string               // names the feature store in error messages
	Tokenizer    *tokenizer.Tokenizer // question tokenizer
	// ImageKeyFormat maps a COCO image id to its feature key (KeyPlain, KeyCOCO, or any fmt format of the id with
	// an optional "{subset}", which becomes the questions file's data_subtype). "" picks the first of KeyPlain,
	// KeyCOCO under which the first question's image is in the store.
	ImageKeyFormat string
}

// LoadVQA reads a VQA split: one example per question with its tokenized text, its image key and, when annotations
// are given, its soft-score targets over the answer vocabulary and its raw human answers. Every question must have
// an annotation for the same image, and every image must be in the feature store.
func LoadVQA(cfg VQAConfig) (*Set, error) {
	if cfg.AnswerVocab == nil || cfg.Features == nil || cfg.Tokenizer == nil {
		return nil, fmt.Errorf("loading VQA %s: answer vocabulary, features and tokenizer are all required", cfg.Questions)
	}
	qf, err := vqa.ReadQuestions(cfg.Questions)
	if err != nil {
		return nil, fmt.Errorf("loading VQA: %w", err)
	}
	if len(qf.Questions) == 0 {
		return nil, fmt.Errorf("loading VQA: %s has no questions", cfg.Questions)
	}
	var anns map[int64]*vqa.Annotation
	if cfg.Annotations != "" {
		af, err := vqa.ReadAnnotations(cfg.Annotations)
		if err != nil {
			return nil, fmt.Errorf("loading VQA: %w", err)
		}
		anns = make(map[int64]*vqa.Annotation, len(af.Annotations))
		for i := range af.Annotations {
			a := &af.Annotations[i]
			if _, dup := anns[a.QuestionID]; dup {
				return nil, fmt.Errorf("loading VQA: %s: question %d annotated twice", cfg.Annotations, a.QuestionID)
			}
			anns[a.QuestionID] = a
		}
	}
	first := qf.Questions[0]
	format, err := resolveKeyFormat(cfg.ImageKeyFormat, cfg.Features, cfg.FeaturesPath, qf.DataSubtype, first.ImageID)
	if err != nil {
		return nil, fmt.Errorf("loading VQA %s: question %d: %w", cfg.Questions, first.QuestionID, err)
	}
	exs := make([]Example, len(qf.Questions))
	seen := make(map[int64]bool, len(qf.Questions))
	for i, q := range qf.Questions {
		if seen[q.QuestionID] {
			return nil, fmt.Errorf("loading VQA: %s: question %d listed twice", cfg.Questions, q.QuestionID)
		}
		seen[q.QuestionID] = true
		ex := Example{
			ID:         strconv.FormatInt(q.QuestionID, 10),
			ImageID:    q.ImageID,
			ImageKey:   imageKey(format, qf.DataSubtype, q.ImageID),
			Text:       q.Question,
			InputIDs:   cfg.Tokenizer.Encode(q.Question),
			QuestionID: q.QuestionID,
		}
		if anns != nil {
			a, ok := anns[q.QuestionID]
			if !ok {
				return nil, fmt.Errorf("loading VQA: question %d (image %d) of %s has no annotation in %s",
					q.QuestionID, q.ImageID, cfg.Questions, cfg.Annotations)
			}
			if a.ImageID != q.ImageID {
				return nil, fmt.Errorf("loading VQA: question %d is about image %d in %s but image %d in %s",
					q.QuestionID, q.ImageID, cfg.Questions, a.ImageID, cfg.Annotations)
			}
			ex.Targets = vqa.Targets(cfg.AnswerVocab, a.Answers)
			ex.Answers = make([]string, len(a.Answers))
			for j, ans := range a.Answers {
				ex.Answers[j] = ans.Answer
			}
		}
		exs[i] = ex
	}
	set, err := newSet(exs, cfg.Features, cfg.FeaturesPath, cfg.AnswerVocab.Len(), func(ex *Example) string {
		return fmt.Sprintf("question %d (image %d)", ex.QuestionID, ex.ImageID)
	})
	if err != nil {
		return nil, fmt.Errorf("loading VQA %s: %w", cfg.Questions, err)
	}
	return set, nil
}
