package runner

import (
	"fmt"
	"math/rand/v2"
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
	// Predicted is the VQA answer for the example ("" for captions).
	Predicted string
}

// Attention runs the model on example index of a split and returns its attention probabilities.
func (r *Runner) Attention(split string, index int) (*AttentionMap, error) {
	b, err := r.builder(split)
	if err != nil {
		return nil, err
	}
	src, err := r.data.Split(split)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= src.Len() {
		return nil, fmt.Errorf("attention: example %d outside split %s (%d examples)", index, split, src.Len())
	}
	ex, err := src.Example(index)
	if err != nil {
		return nil, err
	}
	t := r.tasks[0]
	execs, err := r.execsFor(t)
	if err != nil {
		return nil, err
	}
	bt, err := b.Build(t.batch, []int{index}, rand.New(rand.NewPCG(uint64(r.s.seed), uint64(index))))
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
	var keep []int
	am := &AttentionMap{Text: ex.Text, ImagePath: r.data.ImagePath(ex.ImageKey)}
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
	f, err := src.Features(ex.ImageKey)
	if err != nil {
		return nil, err
	}
	for j := range bt.NumRegions {
		if bt.ImgMask[j] > 0 {
			am.Boxes = append(am.Boxes, [4]float32(f.Boxes[4*j:4*j+4]))
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
