package dataset

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// VELabels are the SNLI-VE classes in ORIG's order (utils/misc.py VE_IDX2ENT): target index i is VELabels[i].
var VELabels = []string{"contradiction", "entailment", "neutral"}

// TxtDBConfig names an ORIG txt_db (TxtTokLmdb) and the feature store of its images.
type TxtDBConfig struct {
	TxtDB string // the txt_db directory, e.g. /txt/ve_train.db
	// Features is the img_db of the images (or any feature store keyed by img_fname without ".npz"); it is not
	// closed by the dataset.
	Features     features.Reader
	FeaturesPath string // names the feature store in error messages
	// MaxTextLen drops the examples of more word pieces (id2len), as ORIG's TxtTokLmdb(db_dir, max_txt_len) does
	// (ORIG trains with 60 and evaluates with -1); ≤ 0 keeps every example.
	MaxTextLen int
	// NumAnswers > 0 reads each record's VQA-style target {labels, scores} into Targets over that many answers (ORIG
	// VqaDataset: VQA 3129, SNLI-VE 3); 0 ignores targets. Records without a target get nil Targets.
	NumAnswers int
}

// openTxtDB opens cfg's txt_db and lists the ids ORIG keeps (id2len ≤ MaxTextLen), sorted.
func openTxtDB(cfg TxtDBConfig) (*txtdb.DB, []string, error) {
	if cfg.Features == nil {
		return nil, nil, fmt.Errorf("loading txt_db %s: no feature store given", cfg.TxtDB)
	}
	db, err := txtdb.Open(cfg.TxtDB)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, id := range db.IDs() {
		n, ok := db.Len(id)
		if !ok {
			db.Close()
			return nil, nil, fmt.Errorf("txt_db %s: example %q is not in id2len.json", cfg.TxtDB, id)
		}
		if cfg.MaxTextLen <= 0 || n <= cfg.MaxTextLen {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		db.Close()
		return nil, nil, fmt.Errorf("txt_db %s: no example of at most %d word pieces", cfg.TxtDB, cfg.MaxTextLen)
	}
	return db, ids, nil
}

// imageKeyOf returns the feature key of an img_fname: the file name without ".npz".
func imageKeyOf(imgFname string) string { return strings.TrimSuffix(imgFname, ".npz") }

// recordText returns the raw text of an ORIG record: the NLVR2 sentence, the VQA question, the RefCOCO sent or a
// caption's raw text, whichever the record holds; "" when none.
func recordText(raw map[string]any) string {
	for _, k := range []string{"sentence", "question", "sent", "raw", "hypothesis"} {
		if s, ok := raw[k].(string); ok {
			return s
		}
	}
	return ""
}

// LoadTxtDB reads an ORIG txt_db of single-image examples (VQA, SNLI-VE, image-text retrieval captions): one
// Example per kept record in sorted id order, with its word-piece ids, its image key (img_fname without ".npz"),
// its raw text and, with NumAnswers > 0, its soft-score targets. QuestionID is the id as an integer (VQA) or -1.
// Every image must be in the feature store.
func LoadTxtDB(cfg TxtDBConfig) (*Set, error) {
	db, ids, err := openTxtDB(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	exs := make([]Example, 0, len(ids))
	for _, id := range ids {
		rec, err := db.Get(id)
		if err != nil {
			return nil, err
		}
		if rec.ImageFile == "" {
			return nil, fmt.Errorf("txt_db %s: example %q: img_fname %v is not one image file", cfg.TxtDB, id,
				rec.Raw["img_fname"])
		}
		ex := Example{ID: id, ImageKey: imageKeyOf(rec.ImageFile), Text: recordText(rec.Raw), InputIDs: rec.InputIDs,
			QuestionID: -1}
		if q, err := strconv.ParseInt(id, 10, 64); err == nil {
			ex.QuestionID = q
		}
		if cfg.NumAnswers > 0 && rec.Target != nil {
			if ex.Targets, err = scatterTarget(rec.Target, cfg.NumAnswers); err != nil {
				return nil, fmt.Errorf("txt_db %s: example %q: %w", cfg.TxtDB, id, err)
			}
		}
		exs = append(exs, ex)
	}
	set, err := newSet(exs, cfg.Features, cfg.FeaturesPath, cfg.NumAnswers, func(ex *Example) string {
		return fmt.Sprintf("example %q", ex.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("loading txt_db %s: %w", cfg.TxtDB, err)
	}
	return set, nil
}

// scatterTarget spreads a {labels, scores} target over n answers, as ORIG's _get_vqa_target does.
func scatterTarget(t *txtdb.VQATarget, n int) ([]float32, error) {
	out := make([]float32, n)
	for i, l := range t.Labels {
		if l < 0 || int(l) >= n {
			return nil, fmt.Errorf("target label %d outside the %d answers", l, n)
		}
		out[l] = t.Scores[i]
	}
	return out, nil
}

// NumBoxes returns the number of regions of one image (see features.NumBoxes).
func (s *Set) NumBoxes(key string) (int, error) { return features.NumBoxes(s.store, key) }
