package dataset

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/imdb"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// MMFConfig names the inputs of one split file of an MMF dataset (MMF's vqa2 and masked_coco layouts).
type MMFConfig struct {
	Annotations  string               // MMF annotation database: imdb .npy, .json or .jsonl
	AnswerVocab  *vqa.AnswerVocab     // VQA only: MMF's answer vocabulary (see vqa.ReadMMFAnswerVocab)
	Features     features.Reader      // region features of the images (not closed by the dataset)
	FeaturesPath string               // names the feature store in error messages
	Tokenizer    *tokenizer.Tokenizer // question or caption tokenizer
}

// MMFStats counts what a split holds besides its examples.
type MMFStats struct {
	// NoAnswerInVocab counts the questions none of whose human answers is in the answer vocabulary: they keep
	// all-zero targets, as MMF trains them. FirstNoAnswer is the question_id of the first of them.
	NoAnswerInVocab int
	FirstNoAnswer   int64
}

// LoadMMFVQA reads one split file of MMF's vqa2 dataset (MMF mmf/datasets/builders/vqa2/dataset.py): one example
// per entry, with the question (question_str, else question), its image's features (found from feature_path, else
// image_name, through the store's MMF key rule) and, when the entry has answers, MMF's soft-score targets and the
// raw answers. A missing field, a repeated question id or an image missing from the feature store is an error
// naming the file and the entry.
func LoadMMFVQA(cfg MMFConfig) (*Set, MMFStats, error) {
	var stats MMFStats
	if cfg.AnswerVocab == nil || cfg.Features == nil || cfg.Tokenizer == nil {
		return nil, stats, fmt.Errorf("loading MMF VQA %s: answer vocabulary, features and tokenizer are all required", cfg.Annotations)
	}
	db, err := imdb.Read(cfg.Annotations)
	if err != nil {
		return nil, stats, err
	}
	resolve := keyResolver(cfg)
	exs := make([]Example, 0, len(db.Entries))
	seen := make(map[int64]bool, len(db.Entries))
	for _, e := range db.Entries {
		fail := func(err error) (*Set, MMFStats, error) {
			return nil, stats, fmt.Errorf("loading MMF VQA %s: %w", cfg.Annotations, err)
		}
		qid, err := e.Int("question_id")
		if err != nil {
			return fail(err)
		}
		if seen[qid] {
			return fail(fmt.Errorf("entry %d: question_id %d listed twice", e.Index, qid))
		}
		seen[qid] = true
		textKey := "question"
		if e.Has("question_str") {
			textKey = "question_str"
		}
		text, err := e.String(textKey)
		if err != nil {
			return fail(err)
		}
		imageID, key, err := mmfImage(e, resolve)
		if err != nil {
			return fail(fmt.Errorf("entry %d (question_id %d): %w", e.Index, qid, err))
		}
		ex := Example{ID: strconv.FormatInt(qid, 10), ImageID: imageID, ImageKey: key, Text: text,
			InputIDs: cfg.Tokenizer.Encode(text), QuestionID: qid}
		answers, found, err := e.Answers()
		if err != nil {
			return fail(err)
		}
		if found {
			targets, inVocab, err := vqa.MMFTargets(cfg.AnswerVocab, answers)
			if err != nil {
				return fail(fmt.Errorf("entry %d (question_id %d): %w", e.Index, qid, err))
			}
			if inVocab == 0 {
				if stats.NoAnswerInVocab == 0 {
					stats.FirstNoAnswer = qid
				}
				stats.NoAnswerInVocab++
			}
			ex.Targets, ex.Answers = targets, answers
		}
		exs = append(exs, ex)
	}
	set, err := newSet(exs, cfg.Features, cfg.FeaturesPath, cfg.AnswerVocab.Len(), func(ex *Example) string {
		return fmt.Sprintf("question %d (image %d)", ex.QuestionID, ex.ImageID)
	})
	if err != nil {
		return nil, stats, fmt.Errorf("loading MMF VQA %s: %w", cfg.Annotations, err)
	}
	return set, stats, nil
}

// LoadMMFCaptions reads one split file of MMF's masked_coco dataset (MMF mmf/datasets/builders/coco/
// masked_dataset.py, imdb_karpathy_*_by_image.npy): one entry per image with its "captions". It makes one example
// per caption (MMF draws one caption of the image per item instead), keyed "<entry>/<caption>".
func LoadMMFCaptions(cfg MMFConfig) (*Set, error) {
	if cfg.Features == nil || cfg.Tokenizer == nil {
		return nil, fmt.Errorf("loading MMF captions %s: features and tokenizer are required", cfg.Annotations)
	}
	db, err := imdb.Read(cfg.Annotations)
	if err != nil {
		return nil, err
	}
	resolve := keyResolver(cfg)
	var exs []Example
	for _, e := range db.Entries {
		caps, err := e.Strings("captions")
		if err == nil && len(caps) == 0 {
			err = fmt.Errorf("entry %d has no captions", e.Index)
		}
		if err != nil {
			return nil, fmt.Errorf("loading MMF captions %s: %w", cfg.Annotations, err)
		}
		imageID, key, err := mmfImage(e, resolve)
		if err != nil {
			return nil, fmt.Errorf("loading MMF captions %s: entry %d: %w", cfg.Annotations, e.Index, err)
		}
		for i, c := range caps {
			exs = append(exs, Example{ID: fmt.Sprintf("%d/%d", e.Index, i), ImageID: imageID, ImageKey: key, Text: c,
				InputIDs: cfg.Tokenizer.Encode(c)})
		}
	}
	set, err := newSet(exs, cfg.Features, cfg.FeaturesPath, 0, func(ex *Example) string {
		return fmt.Sprintf("caption %s (image %d)", ex.ID, ex.ImageID)
	})
	if err != nil {
		return nil, fmt.Errorf("loading MMF captions %s: %w", cfg.Annotations, err)
	}
	return set, nil
}

// keyResolver maps feature paths to store keys, once per path.
func keyResolver(cfg MMFConfig) func(string) (string, error) {
	resolve := features.KeyResolver(cfg.Features)
	cache := map[string]string{}
	return func(path string) (string, error) {
		if k, ok := cache[path]; ok {
			return k, nil
		}
		k, err := resolve(path)
		if err != nil {
			return "", fmt.Errorf("features %s: %w", cfg.FeaturesPath, err)
		}
		cache[path] = k
		return k, nil
	}
}

// mmfImage returns an entry's numeric image id (0 when it is text without a numeric suffix) and the store key of
// its features: feature_path, else image_name + ".npy" (MMF's FeaturesDatabase.get).
func mmfImage(e imdb.Entry, resolve func(string) (string, error)) (int64, string, error) {
	var imageID int64
	if id, err := e.Int("image_id"); err == nil {
		imageID = id
	} else if s, err := e.String("image_id"); err == nil {
		imageID, _ = strconv.ParseInt(s[strings.LastIndex(s, "_")+1:], 10, 64)
	}
	path, err := e.String("feature_path")
	if err != nil {
		name, err2 := e.String("image_name")
		if err2 != nil {
			return 0, "", fmt.Errorf("no feature_path nor image_name (keys: %s)", strings.Join(e.Keys(), ", "))
		}
		path = name + ".npy"
	}
	key, err := resolve(path)
	return imageID, key, err
}
