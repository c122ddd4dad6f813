package dataset

import (
	"fmt"
	"slices"

	"github.com/uniter-go/uniter/data/features"
)

// PairExample is one NLVR2 example: a statement about a pair of images.
type PairExample struct {
	ID        string    // the NLVR2 identifier, e.g. "dev-850-0-0"
	Text      string    // the statement
	InputIDs  []int32   // word-piece ids without [CLS]/[SEP]
	ImageKeys [2]string // feature keys of the left and the right image
	Label     int32     // 1 = the statement is true of the pair, 0 = false, -1 = unlabelled
}

// PairSet is an in-memory list of NLVR2 examples over the feature store of their images. It does not own the
// store: the caller closes it.
type PairSet struct {
	Examples []PairExample
	store    features.Reader
}

// LoadNLVR2 reads an ORIG NLVR2 txt_db (prepro.py process_nlvr2): one PairExample per kept record in sorted id
// order. Both images of every example must be in the feature store; NumAnswers is ignored.
func LoadNLVR2(cfg TxtDBConfig) (*PairSet, error) {
	db, ids, err := openTxtDB(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	have := cfg.Features.IDs()
	s := &PairSet{store: cfg.Features, Examples: make([]PairExample, 0, len(ids))}
	for _, id := range ids {
		rec, err := db.Get(id)
		if err != nil {
			return nil, err
		}
		f, err := rec.NLVR2()
		if err != nil {
			return nil, fmt.Errorf("txt_db %s: %w", cfg.TxtDB, err)
		}
		ex := PairExample{ID: id, Text: recordText(rec.Raw), InputIDs: rec.InputIDs, Label: int32(f.Target)}
		for k, fname := range f.ImageFiles {
			ex.ImageKeys[k] = imageKeyOf(fname)
			if _, ok := slices.BinarySearch(have, ex.ImageKeys[k]); !ok {
				return nil, fmt.Errorf("loading txt_db %s: example %q: image %q not found in features %s", cfg.TxtDB, id,
					ex.ImageKeys[k], cfg.FeaturesPath)
			}
		}
		s.Examples = append(s.Examples, ex)
	}
	return s, nil
}

// Len returns the number of examples.
func (s *PairSet) Len() int { return len(s.Examples) }

// Example returns example i.
func (s *PairSet) Example(i int) (*PairExample, error) {
	if i < 0 || i >= len(s.Examples) {
		return nil, fmt.Errorf("NLVR2 example index %d outside [0,%d)", i, len(s.Examples))
	}
	return &s.Examples[i], nil
}

// Features returns the region features of one image from the feature store.
func (s *PairSet) Features(key string) (*features.ImageFeatures, error) { return s.store.Get(key) }

// NumBoxes returns the number of regions of one image (see features.NumBoxes).
func (s *PairSet) NumBoxes(key string) (int, error) { return features.NumBoxes(s.store, key) }
