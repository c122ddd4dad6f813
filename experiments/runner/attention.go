package runner

import (
	"fmt"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/batch"
)

// AttentionMap is what the model attends to for one example, over its real positions only: the text tokens
// (L_t of them, [CLS] … [SEP]) followed by the regions (N of them).
type AttentionMap struct {
	Text      string
	Tokens    []string     // the L_t text tokens
	Boxes     [][4]float32 // the N region boxes, pixel x1,y1,x2,y2
	ImagePath string       // the image file when known (synthetic data), else ""
	// Probs[layer][head][query][key] over the L_t+N positions (text first), from the last forward's softmax.
	Probs [][][][]float32
	// Predicted is the task's prediction for the example: the VQA answer, the SNLI-VE label, NLVR2's True or False,
	// the referred region ("" for the pretraining tasks).
	Predicted string
}

// Attention runs the model on example index of a split and returns its attention probabilities: of the
// example's row (NLVR2 paired: of its first image's row).
func (r *Runner) Attention(split string, index int) (*AttentionMap, error) {
	t := r.tasks[0]
	ex, err := r.examplesOf(t, split)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= ex.n {
		return nil, fmt.Errorf("attention: example %d outside split %s (%d examples)", index, split, ex.n)
	}
	execs, err := r.execsFor(t)
	if err != nil {
		return nil, err
	}
	shape := batch.Shape{Rows: ex.rowsPerExample, TextLen: ex.maxText, NumRegions: ex.maxRegions}
	bt, err := ex.build(batch.Plan{Indices: []int{index}, Shape: shape}, rand.New(rand.NewPCG(uint64(r.s.seed), uint64(index))))
	if err != nil {
		return nil, err
	}
	outs, err := call(execs.attention, t, bt)
	if err != nil {
		return nil, err
	}
	dims := outs["attention"].Shape().Dimensions // [layers, B, heads, L, L]
	layers, heads := dims[0], dims[2]
	flat := outs["attention"].Value().([][][][][]float32)
	images := ex.images(index)
	am := &AttentionMap{Text: ex.text(index), ImagePath: r.data.ImagePath(images[0])}
	var keep []int
	for i := range bt.TextLen {
		if bt.TxtMask[i] > 0 {
			tok, err := r.data.Tokenizer.Token(bt.InputIDs[i])
			if err != nil {
				return nil, err
			}
			am.Tokens = append(am.Tokens, tok)
			keep = append(keep, i)
		}
	}
	// The row's regions are those of its images in order.
	var boxes [][4]float32
	for _, key := range images {
		f, err := r.data.ImageFeatures(split, key)
		if err != nil {
			return nil, err
		}
		for j := range f.NumBoxes {
			boxes = append(boxes, [4]float32(f.Boxes[4*j:4*j+4]))
		}
	}
	for j := range bt.NumRegions {
		if bt.ImgMask[j] > 0 {
			am.Boxes = append(am.Boxes, boxes[j])
			keep = append(keep, bt.TextLen+j)
		}
	}
	am.Probs = make([][][][]float32, layers)
	for l := range layers {
		am.Probs[l] = make([][][]float32, heads)
		for h := range heads {
			m := make([][]float32, len(keep))
			for qi, q := range keep {
				m[qi] = make([]float32, len(keep))
				for ki, k := range keep {
					m[qi][ki] = flat[l][0][h][q][k]
				}
			}
			am.Probs[l][h] = m
		}
	}
	if t.predictions != nil {
		outs, err := call(execs.eval, t, bt)
		if err != nil {
			return nil, err
		}
		am.Predicted = t.predictions(outs)[0]
	}
	return am, nil
}
