package uniter

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
)

// VQALoss is ORIG's instance-level BCE: BCEWithLogits(logits, targets) averaged over every element and multiplied by
// the number of answers, i.e. summed over answers and averaged over the batch. weights [B] (1 = real example) may be
// nil; padded examples then count for nothing.
func VQALoss(logits, targets, weights *Node) *Node {
	numAnswers := float64(logits.Shape().Dimensions[1])
	perExample := MulScalar(ReduceMean(binaryCrossEntropyWithLogits(logits, targets), -1), numAnswers)
	return weightedMean(perExample, weights)
}

// binaryCrossEntropyWithLogits is the numerically stable max(x,0) - x·y + log(1+exp(-|x|)), element-wise.
func binaryCrossEntropyWithLogits(x, y *Node) *Node {
	return Add(Sub(Max(x, ZerosLike(x)), Mul(x, y)), Log1P(Exp(Neg(Abs(x)))))
}

// crossEntropy returns -log_softmax(logits)[label] per row; logits [N,C], labels [N] int.
func crossEntropy(logits, labels *Node) *Node {
	logp := LogSoftmax(logits, -1)
	oneHot := OneHot(ConvertDType(labels, dtypes.Int32), logits.Shape().Dimensions[1], logp.DType())
	return Neg(ReduceSum(Mul(logp, oneHot), -1))
}

// weightedMean is Σ wᵢxᵢ / Σ wᵢ (a plain mean when weights is nil).
func weightedMean(x, weights *Node) *Node {
	if weights == nil {
		return ReduceAllMean(x)
	}
	w := ConvertDType(weights, x.DType())
	return Div(ReduceAllSum(Mul(x, w)), Max(ReduceAllSum(w), ScalarOne(x.Graph(), x.DType())))
}

// ImageTextMatchingLoss is the 2-way cross entropy of ITM, mean over the (weighted) batch; labels [B], 1 = matched.
func ImageTextMatchingLoss(logits, labels, weights *Node) *Node {
	return weightedMean(crossEntropy(logits, labels), weights)
}

// MaskedLanguageModelingLoss is the cross entropy of the MLM logits [K,V] against the original ids [K], averaged
// over the valid rows (valid [K] may be nil).
func MaskedLanguageModelingLoss(logits, labels, valid *Node) *Node {
	return weightedMean(crossEntropy(logits, labels), valid)
}

// RegionFeatureRegressionLoss is ORIG's MRFR loss: mean squared error over all K×D elements of the valid rows.
func RegionFeatureRegressionLoss(pred, targets, valid *Node) *Node {
	perRow := ReduceMean(Square(Sub(pred, targets)), -1)
	return weightedMean(perRow, valid)
}

// RegionClassificationKLLoss is ORIG's MRC-kl loss: KL(target ‖ softmax(logits)) element-wise
// (F.kl_div(log_softmax, target, reduction='none')) averaged over all K×C elements of the valid rows.
// Note ORIG's element mean is 1/C of MMF's batchmean.
func RegionClassificationKLLoss(logits, targets, valid *Node) *Node {
	logp := LogSoftmax(logits, -1)
	safeLogT := Log(Max(targets, Scalar(targets.Graph(), targets.DType(), 1e-30)))
	kl := Where(GreaterThan(targets, ZerosLike(targets)), Mul(targets, Sub(safeLogT, logp)), ZerosLike(targets))
	return weightedMean(ReduceMean(kl, -1), valid)
}

// RegionClassificationLoss is ORIG's hard MRC loss: cross entropy against argmax(target[:,1:])+1, i.e. the most
// likely non-background detector class.
func RegionClassificationLoss(logits, targets, valid *Node) *Node {
	c := targets.Shape().Dimensions[1]
	fg := Slice(targets, AxisRange(), AxisRange(1, c))
	labels := AddScalar(ArgMax(fg, -1, dtypes.Int32), 1)
	return weightedMean(crossEntropy(logits, labels), valid)
}

// ImageTextMatchingWithWRALoss is ORIG's ITM task loss with word-region alignment: itm + λ·ot (λ = 0.1 in ORIG).
func ImageTextMatchingWithWRALoss(itmLoss, otLoss *Node, lambda float64) *Node {
	return Add(itmLoss, MulScalar(otLoss, lambda))
}
