// Package report turns UNITER outputs and run directories into pictures drawn with experiments/viz: training
// curves from a run's metrics.jsonl, word × region attention heat maps, the regions drawn as boxes over the scene
// with opacity by attention, and the text tokens coloured by attention. The notebooks show these pictures with
// GoNB; `uniter plot` writes the same pictures to files (WriteRunReport).
//
// Attention is read from the model's attention probabilities, probs[layer][head][query][key] over one example's
// sequence laid out as [text | regions] (uniter.Backbone with Options.AttentionProbs, or runner.AttentionMap). The
// word × region matrix of a layer and head has one row per real text token (the query) and one column per real
// region (the key): m[t][r] = probs[layer][head][t][Lt+r]. A row is the part of token t's softmax that goes to
// the image, so it sums to at most 1; the rest of the row's mass goes to the text.
package report

import (
	"fmt"
)

// AllHeads, as the head argument of WordRegionAttention, averages the heads of the layer.
const AllHeads = -1

// LastLayer, as the layer argument of WordRegionAttention, picks the last layer.
const LastLayer = -1

// WordRegionAttention returns the text → region attention of one example: m[t][r] = probs[layer][head][t][lt+r]
// for the real text tokens t < txtLen and the real regions r < nbb. probs is [layers][heads][L][L] with
// L = lt + nr: lt text positions (the first txtLen real) followed by nr region positions (the first nbb real),
// as in a padded batch row; for a compact example (runner.AttentionMap) lt = txtLen and nr = nbb. layer may be
// LastLayer and head AllHeads (the mean over the heads).
func WordRegionAttention(probs [][][][]float32, layer, head, lt, nr, txtLen, nbb int) ([][]float32, error) {
	if len(probs) == 0 {
		return nil, fmt.Errorf("word-region attention: no layers")
	}
	if layer == LastLayer {
		layer = len(probs) - 1
	}
	if layer < 0 || layer >= len(probs) {
		return nil, fmt.Errorf("word-region attention: layer %d outside [0, %d)", layer, len(probs))
	}
	heads := probs[layer]
	if len(heads) == 0 {
		return nil, fmt.Errorf("word-region attention: layer %d has no heads", layer)
	}
	if head != AllHeads && (head < 0 || head >= len(heads)) {
		return nil, fmt.Errorf("word-region attention: head %d outside [0, %d) (or %d for the mean)", head, len(heads), AllHeads)
	}
	if txtLen < 1 || txtLen > lt || nbb < 1 || nbb > nr {
		return nil, fmt.Errorf("word-region attention: need 1 ≤ text tokens %d ≤ text length %d and 1 ≤ regions %d ≤ region slots %d",
			txtLen, lt, nbb, nr)
	}
	l := lt + nr
	for h, m := range heads {
		if len(m) != l {
			return nil, fmt.Errorf("word-region attention: layer %d head %d has %d query rows, want text %d + regions %d = %d",
				layer, h, len(m), lt, nr, l)
		}
		for q := range txtLen {
			if len(m[q]) != l {
				return nil, fmt.Errorf("word-region attention: layer %d head %d row %d has %d keys, want %d", layer, h, q, len(m[q]), l)
			}
		}
	}
	chosen := heads
	if head != AllHeads {
		chosen = heads[head : head+1]
	}
	out := make([][]float32, txtLen)
	for t := range out {
		out[t] = make([]float32, nbb)
		for r := range out[t] {
			var sum float64
			for _, m := range chosen {
				sum += float64(m[t][lt+r])
			}
			out[t][r] = float32(sum / float64(len(chosen)))
		}
	}
	return out, nil
}

// RegionWeights returns the attention each region (column) of a word × region matrix receives, averaged over the
// text tokens (rows): the weights DrawAttention draws the boxes with.
func RegionWeights(m [][]float32) []float32 {
	if len(m) == 0 {
		return nil
	}
	out := make([]float32, len(m[0]))
	for r := range out {
		var sum float64
		for _, row := range m {
			if r < len(row) {
				sum += float64(row[r])
			}
		}
		out[r] = float32(sum / float64(len(m)))
	}
	return out
}

// TokenWeights returns, for each text token (row) of a word × region matrix, the share of its attention that goes
// to the regions (the row sum): the weights DrawAttention colours the tokens with.
func TokenWeights(m [][]float32) []float32 {
	out := make([]float32, len(m))
	for t, row := range m {
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		out[t] = float32(sum)
	}
	return out
}
