package batch

import (
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/dataset"
)

// boxCounter is implemented by the example sets that count an image's regions without decoding it.
type boxCounter interface {
	NumBoxes(imageKey string) (int, error)
}

// regionCounter counts the regions of images, once per image.
type regionCounter struct {
	count func(key string) (int, error)
	seen  map[string]int
}

// newRegionCounter counts with count.
func newRegionCounter(count func(key string) (int, error)) *regionCounter {
	return &regionCounter{count: count, seen: map[string]int{}}
}

// of returns the number of regions of an image.
func (rc *regionCounter) of(key string) (int, error) {
	if n, ok := rc.seen[key]; ok {
		return n, nil
	}
	n, err := rc.count(key)
	if err != nil {
		return 0, err
	}
	rc.seen[key] = n
	return n, nil
}

// SourceSizes returns the sizes of the examples of a single-image source (VQA, SNLI-VE, captions) for batch
// planning: ORIG's lens entry (word pieces + regions), the text incl. [CLS]/[SEP] and the regions.
func SourceSizes(src dataset.Source) ([]ExampleSize, error) {
	count := func(key string) (int, error) {
		f, err := src.Features(key)
		if err != nil {
			return 0, err
		}
		return f.NumBoxes, nil
	}
	if c, ok := src.(boxCounter); ok {
		count = c.NumBoxes
	}
	rc := newRegionCounter(count)
	sizes := make([]ExampleSize, src.Len())
	for i := range sizes {
		ex, err := src.Example(i)
		if err != nil {
			return nil, err
		}
		nb, err := rc.of(ex.ImageKey)
		if err != nil {
			return nil, err
		}
		sizes[i] = ExampleSize{Tokens: len(ex.InputIDs) + nb, Text: len(ex.InputIDs) + 2, Regions: nb}
	}
	return sizes, nil
}

// BuildPlan returns the BuildFunc of task over b's source: each planned batch is built as Build builds it, with the
// plan's shape in place of the config's BatchSize, TextLen and NumRegions (token-bucket batches of VQA and
// SNLI-VE).
func (b *Builder) BuildPlan(task Task) BuildFunc {
	return func(p Plan, rng *rand.Rand) (*Batch, error) {
		if err := p.Shape.validate(); err != nil {
			return nil, err
		}
		shaped := *b
		shaped.cfg.BatchSize, shaped.cfg.TextLen, shaped.cfg.NumRegions = p.Shape.Rows, p.Shape.TextLen, p.Shape.NumRegions
		return shaped.Build(task, p.Indices, rng)
	}
}
