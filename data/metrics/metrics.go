// Package metrics computes the downstream-task scores of UNITER as ORIG reports them, on the host from the model's
// outputs: image-text retrieval recall (utils/itm_eval.py) and referring-expression box IoU (data/re.py).
package metrics

import "fmt"

// Recall is ORIG's retrieval evaluation (itm_eval): recall at 1, 5 and 10 of text retrieval (for each image, is one
// of its captions among the top K captions?) and of image retrieval (for each caption, is its image among the top
// K images?), their means and the mean of both means.
type Recall struct {
	TxtR1, TxtR5, TxtR10, TxtRMean float64
	ImgR1, ImgR5, ImgR10, ImgRMean float64
	RMean                          float64
}

// RetrievalRecall computes Recall from the score matrix scores [nText, nImage] row-major (higher = better match)
// and textImage, the index of each caption's own image. A rank counts the candidates scored higher, and those
// scored equal that come first (torch.topk's order); every image needs a caption.
func RetrievalRecall(scores []float32, textImage []int, nImage int) (Recall, error) {
	nText := len(textImage)
	if nText == 0 || nImage == 0 || len(scores) != nText*nImage {
		return Recall{}, fmt.Errorf("retrieval recall: %d scores for %d captions × %d images", len(scores), nText, nImage)
	}
	imageTexts := make([][]int, nImage)
	for i, j := range textImage {
		if j < 0 || j >= nImage {
			return Recall{}, fmt.Errorf("retrieval recall: caption %d has image %d outside [0,%d)", i, j, nImage)
		}
		imageTexts[j] = append(imageTexts[j], i)
	}
	var r Recall
	at := func(i, j int) float32 { return scores[i*nImage+j] }
	for i, j := range textImage {
		rank := 0
		for k := range nImage {
			if at(i, k) > at(i, j) || (at(i, k) == at(i, j) && k < j) {
				rank++
			}
		}
		r.ImgR1, r.ImgR5, r.ImgR10 = r.ImgR1+hit(rank, 1), r.ImgR5+hit(rank, 5), r.ImgR10+hit(rank, 10)
	}
	for j, texts := range imageTexts {
		if len(texts) == 0 {
			return Recall{}, fmt.Errorf("retrieval recall: image %d has no caption", j)
		}
		best := nText
		for _, i := range texts {
			rank := 0
			for k := range nText {
				if at(k, j) > at(i, j) || (at(k, j) == at(i, j) && k < i) {
					rank++
				}
			}
			best = min(best, rank)
		}
		r.TxtR1, r.TxtR5, r.TxtR10 = r.TxtR1+hit(best, 1), r.TxtR5+hit(best, 5), r.TxtR10+hit(best, 10)
	}
	r.ImgR1, r.ImgR5, r.ImgR10 = r.ImgR1/float64(nText), r.ImgR5/float64(nText), r.ImgR10/float64(nText)
	r.TxtR1, r.TxtR5, r.TxtR10 = r.TxtR1/float64(nImage), r.TxtR5/float64(nImage), r.TxtR10/float64(nImage)
	r.TxtRMean = (r.TxtR1 + r.TxtR5 + r.TxtR10) / 3
	r.ImgRMean = (r.ImgR1 + r.ImgR5 + r.ImgR10) / 3
	r.RMean = (r.TxtRMean + r.ImgRMean) / 2
	return r, nil
}

// hit is 1 when rank is within the top k.
func hit(rank, k int) float64 {
	if rank < k {
		return 1
	}
	return 0
}

// BoxIoU is ORIG's ReEvalDataset.computeIoU of two COCO [x, y, w, h] boxes in pixels, which counts the pixels
// x..x+w-1 of a box as inside.
func BoxIoU(a, b [4]float64) float64 {
	x1, y1 := max(a[0], b[0]), max(a[1], b[1])
	x2, y2 := min(a[0]+a[2]-1, b[0]+b[2]-1), min(a[1]+a[3]-1, b[1]+b[3]-1)
	inter := 0.0
	if x1 < x2 && y1 < y2 {
		inter = (x2 - x1 + 1) * (y2 - y1 + 1)
	}
	return inter / (a[2]*a[3] + b[2]*b[3] - inter)
}

// RefCorrect reports whether a referring-expression prediction counts as correct in ORIG's accuracy: the box of
// the top-scoring region overlaps the referred object's box with IoU above 0.5 (train_re.py validate).
func RefCorrect(predicted, target [4]float64) bool { return BoxIoU(predicted, target) > 0.5 }
