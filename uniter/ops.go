package uniter

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
)

// This file holds the training-speed forms of the model's building blocks, with hand-written gradients:
//   - GoMLX differentiates a fused op (GELU, softmax, LayerNorm) through a second, decomposed copy of its forward
//     pass, which then runs too. Here the forward pass is the fused op alone, and the gradient a closed form.
//   - GoMLX differentiates a DotGeneral through products whose operands the Go backend transposes and whose results
//     it copies (even for identity permutations). Here each product's gradient is laid out so that at most one
//     operand needs transposing.
//   - The Go backend's ReduceSum is an order of magnitude slower than its matrix product, so the sums of the
//     backward pass (bias and LayerNorm gradients, softmax and LayerNorm row sums) are products with ones.
// Where a fused op is missing (or $GOMLX_FUSION=0) the plain graph is used and differentiated as usual. Forward
// values are the same either way; the gradients agree to float32 rounding (speed_test.go checks both).

// dotVJPs maps DotGeneral nodes built by this package to their hand-written gradients. Entries are keyed by weak
// pointers and dropped when the node is collected.
var dotVJPs sync.Map // weak.Pointer[Node] → VJP

func init() {
	standard := VJPRegistration[NodeTypeDotGeneral]
	VJPRegistration[NodeTypeDotGeneral] = func(node *Node, v []*Node, shape shapes.Shape) []*Node {
		if vjp, ok := dotVJPs.Load(weak.Make(node)); ok {
			return vjp.(VJP)(node, v, shape)
		}
		return standard(node, v, shape)
	}
}

// dotWithGradient returns DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch) whose gradient
// is grads(v) = [d lhs, d rhs] for the output's cotangent v.
func dotWithGradient(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int,
	grads func(v *Node) []*Node) *Node {
	y := DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	key := weak.Make(y)
	dotVJPs.Store(key, VJP(func(_ *Node, v []*Node, _ shapes.Shape) []*Node { return grads(v[0]) }))
	runtime.AddCleanup(y, func(k weak.Pointer[Node]) { dotVJPs.Delete(k) }, key)
	return y
}

// axes returns [from, from+1, ..., to-1].
func axes(from, to int) []int {
	a := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		a = append(a, i)
	}
	return a
}

// rowSums returns the sums over the last axis of x, kept as an axis of size 1: [..., n] → [..., 1], as a product
// with a vector of ones.
func rowSums(x *Node) *Node {
	dims := x.Shape().Dimensions
	n := dims[len(dims)-1]
	ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, n))
	s := DotGeneral(Reshape(x, -1, n), []int{1}, nil, ones, []int{1}, nil) // [m, 1]
	return Reshape(s, append(slices.Clone(dims[:len(dims)-1]), 1)...)
}

// columnSums returns the sums over every axis of x but the last: [..., n] → [n].
func columnSums(x *Node) *Node {
	n := x.Shape().Dimensions[x.Rank()-1]
	ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, x.Shape().Size()/n))
	return Reshape(DotGeneral(ones, []int{1}, nil, Reshape(x, -1, n), []int{0}, nil), n)
}

// broadcastWithGradient returns p [n] broadcast to shape [..., n], whose gradient with respect to p is grad(v) for
// the cotangent v of the broadcast. It is built as an outer product with a column of ones, so it is meant for the
// gradient-only ("alternate") graphs below, whose forward values are never computed.
func broadcastWithGradient(p *Node, shape shapes.Shape, grad func(v *Node) *Node) *Node {
	n := p.Shape().Size()
	ones := Ones(p.Graph(), shapes.Make(p.DType(), shape.Size()/n, 1))
	y := dotWithGradient(ones, []int{1}, nil, Reshape(p, 1, n), []int{0}, nil, func(v *Node) []*Node {
		return []*Node{ZerosLike(ones), Reshape(grad(Reshape(v, shape.Dimensions...)), 1, n)}
	})
	return Reshape(y, shape.Dimensions...)
}

// addBias returns y + b for a bias b [n] on the last axis of y, with b's gradient computed by columnSums.
func addBias(y, b *Node) *Node {
	out, _ := InternalFusedOpCaller(func() *Node { return Add(y, ExpandLeftToRank(b, y.Rank())) },
		func() *Node { return Add(y, broadcastWithGradient(b, y.Shape(), columnSums)) }, true)
	return out
}

// matMulTransposed returns x @ wᵀ for x [..., in] and a PyTorch-layout weight w [out, in]. Gradients:
// dx = v @ w, and dw = vᵀ @ x with v's axes moved so that the contraction is over its last axes (one transposed
// copy of v; GoMLX's default transposes both operands and copies both results).
func matMulTransposed(x, w *Node) *Node {
	r := x.Rank()
	return dotWithGradient(x, []int{r - 1}, nil, w, []int{1}, nil, func(v *Node) []*Node {
		dx := DotGeneral(v, []int{r - 1}, nil, w, []int{0}, nil)
		vt := TransposeAllAxes(v, append([]int{r - 1}, axes(0, r-1)...)...) // [out, ...]
		dw := DotGeneral(vt, axes(1, r), nil, x, axes(0, r-1), nil)
		return []*Node{dx, dw}
	})
}

// attentionScores returns q @ kᵀ per (batch, head) for q [B,h,Lq,d] and k [B,h,Lk,d]: [B,h,Lq,Lk].
func attentionScores(q, k *Node) *Node {
	b := []int{0, 1}
	return dotWithGradient(q, []int{3}, b, k, []int{3}, b, func(v *Node) []*Node {
		dq := DotGeneral(v, []int{3}, b, k, []int{2}, b)                               // [B,h,Lq,d]
		dk := DotGeneral(TransposeAllAxes(v, 0, 1, 3, 2), []int{3}, b, q, []int{2}, b) // [B,h,Lk,d]
		return []*Node{dq, dk}
	})
}

// attentionContext returns p @ v per (batch, head) for probabilities p [B,h,Lq,Lk] and values v [B,h,Lk,d].
func attentionContext(p, val *Node) *Node {
	b := []int{0, 1}
	return dotWithGradient(p, []int{3}, b, val, []int{2}, b, func(g *Node) []*Node {
		dp := DotGeneral(g, []int{3}, b, val, []int{3}, b)                             // [B,h,Lq,Lk]
		dv := DotGeneral(TransposeAllAxes(p, 0, 1, 3, 2), []int{3}, b, g, []int{2}, b) // [B,h,Lk,d]
		return []*Node{dp, dv}
	})
}

// withGradient returns forward(), whose gradient with respect to x is vjp(v) for the output's cotangent v, instead
// of the automatic one. forward must compute a tensor of x's shape from x with a fused op; decomposed computes the
// same value with plain ops, and is used (with automatic differentiation) when the fused op is unavailable.
func withGradient(x *Node, forward, decomposed func() *Node, vjp func(v *Node) *Node) *Node {
	out, fused := InternalFusedOpCaller(forward, func() *Node {
		// The "decomposed alternate" GoMLX differentiates in place of the fused node: an identity of x carrying
		// the hand-written gradient. Its forward value is never used.
		return IdentityWithCustomGradient(x, func(_, v *Node) *Node { return vjp(v) })
	}, true)
	if !fused {
		return decomposed()
	}
	return out
}

// gelu is the exact GELU y = x·Φ(x) = x·0.5·(1+erf(x/√2)) of ORIG and BERT (never the tanh approximation).
// Gradient: Φ(x) + x·φ(x) with φ(x) = exp(−x²/2)/√(2π), where Φ(x) = y/x (0.5 at x = 0) is taken from the forward
// output rather than from a second, costly erf.
func gelu(x *Node) *Node {
	decomposed := func() *Node { return Mul(x, MulScalar(OnePlus(Erf(MulScalar(x, 1/math.Sqrt2))), 0.5)) }
	var y *Node
	y = withGradient(x, func() *Node { return BackendFusedActivation(x, compute.ActivationConfig{Type: compute.ActivationGelu}) }, decomposed, func(v *Node) *Node {
		cdf := Where(Equal(x, ScalarZero(x.Graph(), x.DType())), Scalar(x.Graph(), x.DType(), 0.5), Div(y, x))
		pdf := Exp(Mul(x, MulScalar(x, -0.5)))
		return Mul(v, Add(cdf, Mul(MulScalar(x, 1/math.Sqrt(2*math.Pi)), pdf)))
	})
	return y
}

// softmax over the last axis. Gradient: p·(v − Σ v·p).
func softmax(x *Node) *Node {
	axis := x.Rank() - 1
	var p *Node
	p = withGradient(x, func() *Node { return BackendFusedSoftmax(x, axis) }, func() *Node { return Softmax(x, -1) },
		func(v *Node) *Node {
			return Mul(p, Sub(v, rowSums(Mul(v, p))))
		})
	return p
}

// layerNormWith normalises x over its last axis: (x-mean)/sqrt(var+eps)*gamma+beta (biased variance, as PyTorch),
// gamma and beta of shape [H]. The gradient is the closed form
//
//	dx = (g − mean(g) − x̂·mean(g·x̂)) / std,  g = v·gamma,  dgamma = Σ v·x̂,  dbeta = Σ v
//
// with x̂ and std = sqrt(var+eps) recomputed from x in the backward pass.
func layerNormWith(x, gamma, beta *Node, eps float64) *Node {
	n := float64(x.Shape().Dimensions[x.Rank()-1])
	mean := func(t *Node) *Node { return MulScalar(rowSums(t), 1/n) }
	xc := Sub(x, mean(x))
	std := Sqrt(AddScalar(mean(Square(xc)), eps))
	xhat := Div(xc, std)
	gammaB, betaB := ExpandLeftToRank(gamma, x.Rank()), ExpandLeftToRank(beta, x.Rank())
	out, fused := InternalFusedOpCaller(
		func() *Node { return BackendFusedLayerNorm(x, []int{x.Rank() - 1}, eps, gammaB, betaB) },
		func() *Node {
			dx := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
				g := Mul(v, gammaB)
				return Div(Sub(Sub(g, mean(g)), Mul(xhat, mean(Mul(g, xhat)))), std)
			})
			dgamma := broadcastWithGradient(gamma, x.Shape(), func(v *Node) *Node { return columnSums(Mul(v, xhat)) })
			return Add(Add(dgamma, broadcastWithGradient(beta, x.Shape(), columnSums)), dx)
		}, true)
	if !fused {
		return Add(Mul(xhat, gammaB), betaB)
	}
	return out
}
