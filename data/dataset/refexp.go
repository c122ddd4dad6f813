package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/txtdb"
)

// The feature keys of RefCOCO images in ORIG's img_dbs (data/re.py), as fmt formats of the COCO image id.
const (
	RefGTKeyFormat  = "visual_grounding_coco_gt_%012d"  // one region per ground-truth annotation (/img/re_coco_gt)
	RefDetKeyFormat = "visual_grounding_det_coco_%012d" // detector regions (/img/re_coco_det)
)

// RefExample is one referring expression (one sentence) with its image.
type RefExample struct {
	ID       string  // the sentence id, the txt_db key
	Text     string  // the expression
	InputIDs []int32 // word-piece ids without [CLS]/[SEP]
	RefID    int64
	AnnID    int64 // the referred annotation
	ImageID  int64 // COCO image id
	ImageKey string
	// Target is the index of the referred annotation among the image's ground-truth regions (ORIG
	// img['ann_ids'].index(ann_id)); it indexes the regions only when ImageKey names ground-truth features.
	Target int
	// TargetBox is the referred annotation's box, COCO [x, y, w, h] in pixels (ORIG tgt_box).
	TargetBox               [4]float64
	ImageWidth, ImageHeight int
	NumAnnotations          int // len(ann_ids): the number of ground-truth regions of the image
}

// RefSet is a referring-expression split in memory: its sentences and, for ORIG's epoch order, which sentences
// belong to which ref. It does not own the feature store: the caller closes it.
type RefSet struct {
	Examples []RefExample
	// Refs lists, per ref of refs.json (in file order), the indices of its kept sentences into Examples.
	Refs         [][]int
	GroundTruth  bool // the features are ground-truth regions: region r is annotation r of the image
	Categories   map[int64]*txtdb.RefCategory
	store        features.Reader
	featuresPath string
}

// RefConfig names an ORIG referring-expression txt_db (RefCOCO, RefCOCO+, RefCOCOg) and the features of its
// images.
type RefConfig struct {
	TxtDB        string          // e.g. /txt/refcoco_train.db
	Features     features.Reader // not closed by the dataset
	FeaturesPath string
	// MaxTextLen keeps the sentences of fewer word pieces, as ORIG's ReTxtTokLmdb(db_dir, max_txt_len) (60 for
	// training, -1 for evaluation); ≤ 0 keeps all.
	MaxTextLen int
	// GroundTruth selects the ground-truth region features (RefGTKeyFormat; ORIG trains on them) instead of the
	// detector's (RefDetKeyFormat; ORIG's default validation).
	GroundTruth bool
}

// LoadRefExp reads a referring-expression txt_db with its side files: one RefExample per kept sentence, refs in
// refs.json order and each ref's sentences in sent_ids order (ORIG ReTxtTokLmdb._get_sent_ids). Every image must be
// in the feature store.
func LoadRefExp(cfg RefConfig) (*RefSet, error) {
	if cfg.Features == nil {
		return nil, fmt.Errorf("loading txt_db %s: no feature store given", cfg.TxtDB)
	}
	db, err := txtdb.Open(cfg.TxtDB)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	info, err := txtdb.ReadRefInfo(cfg.TxtDB)
	if err != nil {
		return nil, err
	}
	format := RefDetKeyFormat
	if cfg.GroundTruth {
		format = RefGTKeyFormat
	}
	have := cfg.Features.IDs()
	s := &RefSet{GroundTruth: cfg.GroundTruth, Categories: info.Categories, store: cfg.Features,
		featuresPath: cfg.FeaturesPath, Refs: make([][]int, len(info.Refs))}
	for i := range info.Refs {
		ids, err := info.SentIDs(db, []int{i}, cfg.MaxTextLen)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			ex, err := refExample(db, info, id, format)
			if err != nil {
				return nil, fmt.Errorf("txt_db %s: %w", cfg.TxtDB, err)
			}
			if _, ok := slices.BinarySearch(have, ex.ImageKey); !ok {
				return nil, fmt.Errorf("loading txt_db %s: sentence %s: image %q not found in features %s", cfg.TxtDB, id,
					ex.ImageKey, cfg.FeaturesPath)
			}
			s.Refs[i] = append(s.Refs[i], len(s.Examples))
			s.Examples = append(s.Examples, ex)
		}
	}
	if len(s.Examples) == 0 {
		return nil, fmt.Errorf("txt_db %s: no sentence of fewer than %d word pieces", cfg.TxtDB, cfg.MaxTextLen)
	}
	return s, nil
}

// refExample decodes sentence id and joins it with its image and annotation.
func refExample(db *txtdb.DB, info *txtdb.RefInfo, id, format string) (RefExample, error) {
	rec, err := db.Get(id)
	if err != nil {
		return RefExample{}, err
	}
	f, err := rec.Ref()
	if err != nil {
		return RefExample{}, err
	}
	img, ok := info.Images[f.ImageID]
	if !ok {
		return RefExample{}, fmt.Errorf("sentence %s: image %d is not in images.json", id, f.ImageID)
	}
	target := slices.Index(img.AnnIDs, f.AnnID)
	if target < 0 {
		return RefExample{}, fmt.Errorf("sentence %s: annotation %d is not among the ann_ids %v of image %d", id, f.AnnID,
			img.AnnIDs, f.ImageID)
	}
	return RefExample{ID: id, Text: f.Sent, InputIDs: rec.InputIDs, RefID: f.RefID, AnnID: f.AnnID, ImageID: f.ImageID,
		ImageKey: fmt.Sprintf(format, f.ImageID), Target: target, TargetBox: f.BBox, ImageWidth: img.Width,
		ImageHeight: img.Height, NumAnnotations: len(img.AnnIDs)}, nil
}

// Len returns the number of sentences.
func (s *RefSet) Len() int { return len(s.Examples) }

// Example returns sentence i.
func (s *RefSet) Example(i int) (*RefExample, error) {
	if i < 0 || i >= len(s.Examples) {
		return nil, fmt.Errorf("referring-expression index %d outside [0,%d)", i, len(s.Examples))
	}
	return &s.Examples[i], nil
}

// Features returns the regions of one image. With ground-truth features the number of regions must equal the
// image's number of annotations, as ORIG asserts ("Please use visual_grounding_coco_gt").
func (s *RefSet) Features(ex *RefExample) (*features.ImageFeatures, error) {
	f, err := s.store.Get(ex.ImageKey)
	if err != nil {
		return nil, err
	}
	if s.GroundTruth && f.NumBoxes != ex.NumAnnotations {
		return nil, fmt.Errorf("features %s: image %s has %d regions but %d annotations; ground-truth features "+
			"(visual_grounding_coco_gt) have one region per annotation", s.featuresPath, ex.ImageKey, f.NumBoxes,
			ex.NumAnnotations)
	}
	return f, nil
}

// NumBoxes returns the number of regions of one image (see features.NumBoxes).
func (s *RefSet) NumBoxes(key string) (int, error) { return features.NumBoxes(s.store, key) }

// EpochOrder returns the sentence order of one training epoch as ORIG's ReTxtTokLmdb.shuffle makes it: the refs
// shuffled, each ref's sentences together in their order. ORIG then batches this order as it is.
func (s *RefSet) EpochOrder(rng *rand.Rand) []int {
	refs := rng.Perm(len(s.Refs))
	out := make([]int, 0, len(s.Examples))
	for _, r := range refs {
		out = append(out, s.Refs[r]...)
	}
	return out
}
