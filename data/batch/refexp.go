package batch

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/dataset"
)

// RefBuilder builds referring-expression batches (ORIG data/re.py ReDataset and ReEvalDataset): one row per
// sentence, the expression with the regions of its image.
type RefBuilder struct {
	set     *dataset.RefSet
	featDim int
	tok     TokenIDs
}

// NewRefBuilder returns a builder over set for region features of featDim values.
func NewRefBuilder(set *dataset.RefSet, featDim int, tok TokenIDs) (*RefBuilder, error) {
	if set == nil || set.Len() == 0 || featDim < 1 {
		return nil, fmt.Errorf("referring-expression builder: empty set or feature size %d", featDim)
	}
	return &RefBuilder{set: set, featDim: featDim, tok: tok}, nil
}

// Sizes returns the example sizes for batch planning: pieces + regions, the text incl. [CLS]/[SEP], the regions.
func (b *RefBuilder) Sizes() ([]ExampleSize, error) {
	rc := newRegionCounter(b.set.NumBoxes)
	sizes := make([]ExampleSize, b.set.Len())
	for i := range sizes {
		ex := &b.set.Examples[i]
		nb, err := rc.of(ex.ImageKey)
		if err != nil {
			return nil, err
		}
		sizes[i] = ExampleSize{Tokens: len(ex.InputIDs) + nb, Text: len(ex.InputIDs) + 2, Regions: nb}
	}
	return sizes, nil
}

// Build builds a planned batch (rng is unused). Row r holds sentence Indices[r]: Labels[r] is the index of the
// referred region with ground-truth regions and -1 with detector regions; ObjMask is 1 on the padding regions
// (ORIG obj_masks, padded with 1); RegionBoxes and TargetBoxes give the regions' and the referred object's boxes
// in pixels, COCO [x, y, w, h] (ORIG obj_boxes from img_pos_feat times the image size, and tgt_box).
func (b *RefBuilder) Build(p Plan, _ *rand.Rand) (*Batch, error) {
	if err := p.Shape.validate(); err != nil {
		return nil, err
	}
	if len(p.Indices) > p.Shape.Rows {
		return nil, fmt.Errorf("building referring-expression batch: %d sentences for %d rows", len(p.Indices), p.Shape.Rows)
	}
	B, Nr := p.Shape.Rows, p.Shape.NumRegions
	bt := newRowBatch(TaskRE, p.Shape, b.featDim)
	bt.Labels = make([]int32, B)
	bt.ObjMask = make([]float32, B*Nr)
	bt.RegionBoxes = make([]float32, B*Nr*4)
	bt.TargetBoxes = make([]float32, B*4)
	for i := range bt.ObjMask {
		bt.ObjMask[i] = 1
	}
	for r, idx := range p.Indices {
		ex, err := b.set.Example(idx)
		if err != nil {
			return nil, fmt.Errorf("building referring-expression batch: %w", err)
		}
		f, err := b.set.Features(ex)
		if err != nil {
			return nil, fmt.Errorf("building referring-expression batch: sentence %s: %w", ex.ID, err)
		}
		bt.putText(r, ex.InputIDs, b.tok)
		nb, err := bt.putRegions(r, 0, 1, f)
		if err != nil {
			return nil, fmt.Errorf("building referring-expression batch: sentence %s: image %s: %w", ex.ID, ex.ImageKey, err)
		}
		bt.Labels[r] = -1
		if b.set.GroundTruth {
			if ex.Target >= nb {
				return nil, fmt.Errorf("building referring-expression batch: sentence %s: referred region %d beyond the "+
					"%d regions of the row", ex.ID, ex.Target, nb)
			}
			bt.Labels[r] = int32(ex.Target)
		}
		// Boxes back in pixels of the annotated image: ORIG's xywh from img_pos_feat [x1, y1, ., ., w, h].
		sx, sy := float32(ex.ImageWidth)/float32(f.Width), float32(ex.ImageHeight)/float32(f.Height)
		for k := range nb {
			box := f.Boxes[4*k : 4*k+4]
			out := bt.RegionBoxes[(r*Nr+k)*4 : (r*Nr+k+1)*4]
			out[0], out[1], out[2], out[3] = box[0]*sx, box[1]*sy, (box[2]-box[0])*sx, (box[3]-box[1])*sy
			bt.ObjMask[r*Nr+k] = 0
		}
		for k, v := range ex.TargetBox {
			bt.TargetBoxes[r*4+k] = float32(v)
		}
		bt.ImageIDs[r], bt.ExampleIDs[r], bt.ExampleOK[r] = ex.ImageKey, ex.ID, true
	}
	return bt, nil
}
