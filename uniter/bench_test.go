package uniter

import (
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
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
	exec, err := named.NewExec(testBackend(b), newStore(1), func(scope *model.Scope, in named.Nodes) named.Nodes {
		return named.Nodes{"logits": VQA(scope, cfg, named.Bind[VQAInputs](in)).Logits}
	})
	if err != nil {
		b.Fatal(err)
	}
	inputs := func() named.Tensors {
		return named.Tensors{"InputIDs": tensors.FromFlatDataAndDimensions(ids, batch, lt),
			"TxtMask": tensors.FromFlatDataAndDimensions(txtMask, batch, lt),
			"ImgFeat": tensors.FromFlatDataAndDimensions(feat, batch, nr, cfg.ImgDim),
			"ImgPos":  tensors.FromFlatDataAndDimensions(pos, batch, nr, cfg.PosDim),
			"ImgMask": tensors.FromFlatDataAndDimensions(imgMask, batch, nr)}
	}
	if _, err := exec.Call(inputs()); err != nil { // compile + initialise variables
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		outs, err := exec.Call(inputs())
		if err != nil {
			b.Fatal(err)
		}
		outs["logits"].MustFinalizeAll()
	}
}
