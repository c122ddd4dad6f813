// Package dataset joins annotation files, a tokenizer and a region-feature store into text–image examples: VQA
// questions with soft-score targets, and COCO captions for pretraining (MLM, MRM, ITM). Every dataset is served
// through Source, the interface the batch builders read, so real and synthetic data go through the same code.
package dataset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/data/features"
)

// Example is one text–image pair.
type Example struct {
	ID       string  // unique id within the dataset: the question id (VQA) or the caption/sentence id (captions)
	ImageID  int64   // COCO image id (or the dataset's numeric image id)
	ImageKey string  // key of the image in the feature store
	Text     string  // the raw question or caption
	InputIDs []int32 // WordPiece ids of Text, without [CLS]/[SEP] and untruncated

	// VQA only.
	QuestionID int64
	Targets    []float32 // soft scores [NumAnswers]; nil when the split has no annotations
	Answers    []string  // the raw human answers, for the official accuracy; nil without annotations
}

// Source is what the batch builders read: indexed examples plus random access to the region features of their
// images. Implementations must allow Example and Features calls from a goroutine other than the creator's.
type Source interface {
	// Len is the number of examples.
	Len() int
	// Example returns example i, 0 ≤ i < Len(); callers must not modify it.
	Example(i int) (*Example, error)
	// Features returns the region features stored under an image key; callers must not modify them.
	Features(imageKey string) (*features.ImageFeatures, error)
	// ImageKeys lists the distinct image keys of the examples, sorted: the pool ITM negatives are drawn from.
	ImageKeys() []string
}

// Set is an in-memory list of examples over a feature store; it implements Source. It does not own the store:
// the caller closes it.
type Set struct {
	Examples   []Example
	NumAnswers int // length of every Example.Targets (VQA); 0 for captions
	store      features.Reader
	keys       []string
}

// NewSet wraps examples and the feature store that holds their images. It checks that every example's image is in
// the store (storeName names the store in the error) and that VQA targets have numAnswers entries.
func NewSet(examples []Example, store features.Reader, storeName string, numAnswers int) (*Set, error) {
	return newSet(examples, store, storeName, numAnswers, func(ex *Example) string {
		return fmt.Sprintf("example %s (image %d)", ex.ID, ex.ImageID)
	})
}

// newSet is NewSet with describe naming an example in error messages.
func newSet(examples []Example, store features.Reader, storeName string, numAnswers int,
	describe func(*Example) string) (*Set, error) {
	if store == nil {
		return nil, fmt.Errorf("dataset: no feature store given")
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("dataset: no examples")
	}
	have := store.IDs()
	seen := make(map[string]bool)
	var keys []string
	for i := range examples {
		ex := &examples[i]
		if ex.Targets != nil && len(ex.Targets) != numAnswers {
			return nil, fmt.Errorf("%s: %d targets, want %d answers", describe(ex), len(ex.Targets), numAnswers)
		}
		if seen[ex.ImageKey] {
			continue
		}
		if _, found := slices.BinarySearch(have, ex.ImageKey); !found {
			return nil, fmt.Errorf("%s: image key %q not found in features %s", describe(ex), ex.ImageKey, storeName)
		}
		seen[ex.ImageKey] = true
		keys = append(keys, ex.ImageKey)
	}
	slices.Sort(keys)
	return &Set{Examples: examples, NumAnswers: numAnswers, store: store, keys: keys}, nil
}

// Len returns the number of examples.
func (s *Set) Len() int { return len(s.Examples) }

// Example returns example i.
func (s *Set) Example(i int) (*Example, error) {
	if i < 0 || i >= len(s.Examples) {
		return nil, fmt.Errorf("example index %d outside [0,%d)", i, len(s.Examples))
	}
	return &s.Examples[i], nil
}

// Features returns the region features of one image from the feature store.
func (s *Set) Features(key string) (*features.ImageFeatures, error) { return s.store.Get(key) }

// ImageKeys lists the distinct image keys of the examples, sorted.
func (s *Set) ImageKeys() []string { return s.keys }

// Image key formats: a fmt format applied to the integer COCO image id, in which "{subset}" is first replaced by
// the image's COCO subset (e.g. "train2014", "val2014", "test2015").
const (
	KeyPlain = "%d"                  // "9": MMF LMDB record ids
	KeyCOCO  = "coco_{subset}_%012d" // "coco_train2014_000000000009": ORIG img_db / npz names without ".npz"
)

// autoKeyFormats are tried in order when no key format is configured.
var autoKeyFormats = []string{KeyPlain, KeyCOCO}

// imageKey applies a key format to an image id.
func imageKey(format, subset string, id int64) string {
	return fmt.Sprintf(strings.ReplaceAll(format, "{subset}", subset), id)
}

// resolveKeyFormat returns format, or when it is empty the first of autoKeyFormats under which the image (id,
// subset) is in the store.
func resolveKeyFormat(format string, store features.Reader, storeName, subset string, id int64) (string, error) {
	if format != "" {
		return format, nil
	}
	have := store.IDs()
	var tried []string
	for _, f := range autoKeyFormats {
		key := imageKey(f, subset, id)
		if _, found := slices.BinarySearch(have, key); found {
			return f, nil
		}
		tried = append(tried, key)
	}
	return "", fmt.Errorf("image %d: none of the keys %q found in features %s; set the image key format", id, tried, storeName)
}

// MemFeatures is an in-memory feature store (synthetic data, tests); it implements features.Reader.
type MemFeatures struct {
	byID map[string]*features.ImageFeatures
	ids  []string
}

// NewMemFeatures builds a store from images with distinct ImageIDs; it keeps the pointers.
func NewMemFeatures(images []*features.ImageFeatures) (*MemFeatures, error) {
	m := &MemFeatures{byID: make(map[string]*features.ImageFeatures, len(images))}
	for _, f := range images {
		if _, dup := m.byID[f.ImageID]; dup {
			return nil, fmt.Errorf("in-memory features: image %q given twice", f.ImageID)
		}
		m.byID[f.ImageID] = f
		m.ids = append(m.ids, f.ImageID)
	}
	slices.Sort(m.ids)
	return m, nil
}

// Get returns the features of one image.
func (m *MemFeatures) Get(imageID string) (*features.ImageFeatures, error) {
	f, ok := m.byID[imageID]
	if !ok {
		return nil, fmt.Errorf("in-memory features: image %q not found", imageID)
	}
	return f, nil
}

// IDs lists the image ids, sorted.
func (m *MemFeatures) IDs() []string { return m.ids }

// Close does nothing.
func (m *MemFeatures) Close() error { return nil }
