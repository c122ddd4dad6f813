package uniter

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint
)

// IPOTConfig holds the parameters of the inexact proximal point optimal transport solver (ORIG: β 0.5,
// 50 iterations, k 1).
type IPOTConfig struct {
	Beta       float64
	Iterations int
	K          int
}

// DefaultIPOT returns ORIG's IPOT parameters.
func DefaultIPOT() IPOTConfig { return IPOTConfig{Beta: 0.5, Iterations: 50, K: 1} }

// cosineCost returns C = 1 − cos(txt_m, img_n) [B,M,N] for txt [B,M,H] and img [B,N,H], with vectors normalised as
// F.normalize(p=2, eps=1e-5), and zero wherever the text token or the region is padding.
func cosineCost(txt, img, txtMask, imgMask *Node) *Node {
	normalize := func(x *Node) *Node {
		norm := Sqrt(ReduceAndKeep(Square(x), ReduceSum, -1))
		return Div(x, Max(norm, Scalar(x.Graph(), x.DType(), 1e-5)))
	}
	cos := Einsum("bmh,bnh->bmn", normalize(txt), normalize(img))
	return Mul(OneMinus(cos), jointReal(txtMask, imgMask))
}

// jointReal is 1 where both text token m and region n are real: [B,M,N].
func jointReal(txtMask, imgMask *Node) *Node {
	return Mul(InsertAxes(txtMask, -1), InsertAxes(imgMask, 1))
}

// IPOT computes ORIG's transport plan T [B,N,M] (regions × text, transposed with respect to cost [B,M,N]) with
// the inexact proximal point method. Padded entries of T are zero; each real text column sums to 1/n_t and
// each real region row to about 1/n_i. The plan carries no gradient.
func IPOT(cost, txtMask, imgMask *Node, cfg IPOTConfig) *Node {
	g := cost.Graph()
	cost = StopGradient(cost)
	one := ScalarOne(g, cost.DType())
	xLen := Max(ReduceSum(txtMask, -1), one)                       // [B]
	yLen := Max(ReduceSum(imgMask, -1), one)                       // [B]
	real := TransposeAllAxes(jointReal(txtMask, imgMask), 0, 2, 1) // [B,N,M]
	sigma := Div(txtMask, InsertAxes(xLen, -1))                    // [B,M]
	t := real
	a := Mul(Exp(DivScalar(Neg(TransposeAllAxes(cost, 0, 2, 1)), cfg.Beta)), real)
	xPad := MulScalar(OneMinus(txtMask), 1e4) // [B,M]
	yPad := MulScalar(OneMinus(imgMask), 1e4) // [B,N]
	xLenB, yLenB := InsertAxes(xLen, -1), InsertAxes(yLen, -1)
	var delta *Node
	for range cfg.Iterations {
		q := Mul(a, t)
		for range cfg.K {
			qs := Einsum("bnm,bm->bn", q, sigma)
			delta = Reciprocal(Add(Mul(yLenB, qs), yPad))
			dq := Einsum("bn,bnm->bm", delta, q)
			sigma = Reciprocal(Add(Mul(xLenB, dq), xPad))
		}
		t = Mul(Mul(InsertAxes(delta, -1), q), InsertAxes(sigma, 1))
	}
	return StopGradient(Mul(t, real))
}

// OptimalTransportDistance is ORIG's WRA distance per example [B]: trace(C·T) between the contextualised text
// tokens txt [B,M,H] and regions img [B,N,H], with T from IPOT. Gradients flow through C only.
func OptimalTransportDistance(txt, img, txtMask, imgMask *Node, cfg IPOTConfig) *Node {
	cost := cosineCost(txt, img, txtMask, imgMask)
	plan := IPOT(cost, txtMask, imgMask, cfg)
	return Einsum("bmn,bnm->b", cost, plan)
}

// WordRegionAlignmentLoss is ORIG's OT loss (Σ dist[matched] − Σ dist[mismatched]) / (n_matched + n_mismatched):
// it pulls matched pairs together and pushes mismatched pairs apart. labels [B] (1 = matched), weights [B] or nil.
func WordRegionAlignmentLoss(dist, labels, weights *Node) *Node {
	g := dist.Graph()
	sign := SubScalar(MulScalar(ConvertDType(labels, dist.DType()), 2), 1) // +1 matched, −1 mismatched
	if weights == nil {
		weights = OnesLike(dist)
	}
	w := ConvertDType(weights, dist.DType())
	return Div(ReduceAllSum(Mul(Mul(dist, sign), w)), Max(ReduceAllSum(w), ScalarOne(g, dist.DType())))
}
