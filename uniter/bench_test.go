package uniter

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// BenchmarkBaseForward times the UNITER-base backbone plus VQA head on batch 8 × (60 text + 36 regions), the
// configuration of the performance issue. Run: GOEXPERIMENT=simd go test -tags noxla -run - -bench BaseForward ./uniter
func BenchmarkBaseForward(b *testing.B) {
	cfg := Base()
	const batch, lt, nr = 8, 60, 36
	ids := make([]int32, batch*lt)
	txtMask := make([]float32, batch*lt)
	feat := make([]float32, batch*nr*cfg.ImgDim)
	pos := make([]float32, batch*nr*cfg.PosDim)
	imgMask := make([]float32, batch*nr)
	for i := range ids {
		ids[i], txtMask[i] = int32(1000+i%20000), 1
	}
	for i := range feat {
		feat[i] = float32(i%13) * 0.1
	}
	for i := range imgMask {
		imgMask[i] = 1
	}
	store := newStore(1)
	be, err := testBackendB()
	if err != nil {
		b.Fatal(err)
	}
	exec, err := model.NewExec(be, store, func(scope *model.Scope, in []*Node) []*Node {
		out := Backbone(scope, cfg, Inputs{InputIDs: in[0], TxtMask: in[1], ImgFeat: in[2], ImgPos: in[3], ImgMask: in[4]}, Options{})
		return []*Node{VQAHead(scope, cfg, out.Pooled)}
	})
	if err != nil {
		b.Fatal(err)
	}
	args := func() []any {
		return []any{tensors.FromFlatDataAndDimensions(ids, batch, lt), tensors.FromFlatDataAndDimensions(txtMask, batch, lt),
			tensors.FromFlatDataAndDimensions(feat, batch, nr, cfg.ImgDim), tensors.FromFlatDataAndDimensions(pos, batch, nr, cfg.PosDim),
			tensors.FromFlatDataAndDimensions(imgMask, batch, nr)}
	}
	if _, err := exec.Call(args()...); err != nil { // compile + initialise variables
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		outs, err := exec.Call(args()...)
		if err != nil {
			b.Fatal(err)
		}
		outs[0].MustFinalizeAll()
	}
}
