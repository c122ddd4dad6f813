package batch

import (
	"fmt"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
)

// Shape is the padded shape of a batch: Rows sequences of TextLen word pieces (incl. [CLS] and [SEP]) followed by
// NumRegions regions.
type Shape struct {
	Rows, TextLen, NumRegions int
}

// validate checks that the shape holds a text and a row.
func (s Shape) validate() error {
	if s.Rows < 1 || s.TextLen < 3 || s.NumRegions < 1 {
		return fmt.Errorf("batch shape %+v: want ≥ 1 row, a text length ≥ 3 and ≥ 1 region", s)
	}
	return nil
}

// newRowBatch returns a zeroed batch of shape s with the fields every task fills: text, regions, image and example
// ids, ExampleOK.
func newRowBatch(task Task, s Shape, featDim int) *Batch {
	B, Lt, Nr := s.Rows, s.TextLen, s.NumRegions
	return &Batch{
		Task: task, Size: B, TextLen: Lt, NumRegions: Nr, FeatDim: featDim,
		InputIDs:   make([]int32, B*Lt),
		TxtMask:    make([]float32, B*Lt),
		ImgFeat:    make([]float32, B*Nr*featDim),
		ImgPos:     make([]float32, B*Nr*posDim),
		ImgMask:    make([]float32, B*Nr),
		ImageIDs:   make([]string, B),
		ExampleIDs: make([]string, B),
		ExampleOK:  make([]bool, B),
	}
}

// putText writes [CLS] pieces [SEP] into row (the pieces truncated to TextLen-2) and returns the text length.
func (bt *Batch) putText(row int, pieces []int32, tok TokenIDs) int {
	Lt := bt.TextLen
	return tokenizer.FillPadded(bt.InputIDs[row*Lt:(row+1)*Lt], bt.TxtMask[row*Lt:(row+1)*Lt], pieces, tok.CLS, tok.SEP)
}

// putRegions copies the regions of f into row from region slot offset on (as many as fit), marks them real and,
// when the batch has ImgTypeIDs, gives them token type typeID. It returns how many it copied.
func (bt *Batch) putRegions(row, offset int, typeID int32, f *features.ImageFeatures) (int, error) {
	return bt.putRegionsAt(row, offset, typeID, f, nil)
}

// putRegionsAt is putRegions with f's position features pos (f.PositionFeatures()) given, or nil to compute them.
func (bt *Batch) putRegionsAt(row, offset int, typeID int32, f *features.ImageFeatures, pos []float32) (int, error) {
	D, Nr := bt.FeatDim, bt.NumRegions
	switch {
	case f.Dim != D:
		return 0, fmt.Errorf("feature size %d, want %d", f.Dim, D)
	case f.NumBoxes < 0 || len(f.Features) < f.NumBoxes*f.Dim || len(f.Boxes) < f.NumBoxes*4:
		return 0, fmt.Errorf("%d boxes but %d feature values and %d box coordinates", f.NumBoxes, len(f.Features), len(f.Boxes))
	case f.Width <= 0 || f.Height <= 0:
		return 0, fmt.Errorf("image size %d×%d", f.Width, f.Height)
	}
	if pos == nil {
		pos = f.PositionFeatures()
	}
	nb := max(0, min(f.NumBoxes, Nr-offset))
	at := row*Nr + offset
	copy(bt.ImgFeat[at*D:], f.Features[:nb*D])
	copy(bt.ImgPos[at*posDim:], pos[:nb*posDim])
	for r := at; r < at+nb; r++ {
		bt.ImgMask[r] = 1
		if bt.ImgTypeIDs != nil {
			bt.ImgTypeIDs[r] = typeID
		}
	}
	return nb, nil
}

// SelectRows returns a new retrieval batch made of the given rows of bt, in that order, as one group: ORIG's hard
// negative step (UniterForImageTextRetrievalHardNeg._get_hard_batch) keeps the positive (row 0) and the
// hard_neg_size negatives the model scored highest out of a pool built with RetrievalHardFromText or
// RetrievalHardFromImage.
func (bt *Batch) SelectRows(rows []int) (*Batch, error) {
	if bt.Task != TaskRetrieval {
		return nil, fmt.Errorf("selecting rows of a %s batch: only retrieval batches have independent rows", bt.Task)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("selecting rows: none given")
	}
	out := newRowBatch(bt.Task, Shape{Rows: len(rows), TextLen: bt.TextLen, NumRegions: bt.NumRegions}, bt.FeatDim)
	out.GroupSize = len(rows)
	Lt, Nr, D := bt.TextLen, bt.NumRegions, bt.FeatDim
	for i, r := range rows {
		if r < 0 || r >= bt.Size {
			return nil, fmt.Errorf("selecting rows: row %d outside the %d rows of the batch", r, bt.Size)
		}
		copy(out.InputIDs[i*Lt:(i+1)*Lt], bt.InputIDs[r*Lt:(r+1)*Lt])
		copy(out.TxtMask[i*Lt:(i+1)*Lt], bt.TxtMask[r*Lt:(r+1)*Lt])
		copy(out.ImgFeat[i*Nr*D:(i+1)*Nr*D], bt.ImgFeat[r*Nr*D:(r+1)*Nr*D])
		copy(out.ImgPos[i*Nr*posDim:(i+1)*Nr*posDim], bt.ImgPos[r*Nr*posDim:(r+1)*Nr*posDim])
		copy(out.ImgMask[i*Nr:(i+1)*Nr], bt.ImgMask[r*Nr:(r+1)*Nr])
		out.ImageIDs[i], out.ExampleIDs[i], out.ExampleOK[i] = bt.ImageIDs[r], bt.ExampleIDs[r], bt.ExampleOK[r]
	}
	return out, nil
}
