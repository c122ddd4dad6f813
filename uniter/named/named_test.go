package named

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/internal/backend"
)

type pair struct {
	A, B *graph.Node
}

type withPair struct {
	pair
	B     *graph.Node // shadows pair.B
	Scale float64     // not a graph input
}

// TestExecPassesInputsAndOutputsByName runs a graph whose inputs bind to a struct with an embedded struct and a
// shadowed field: every input must reach the field of its name, whatever the order of the names.
func TestExecPassesInputsAndOutputsByName(t *testing.T) {
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := NewExec(be, model.NewStore(), func(scope *model.Scope, in Nodes) Nodes {
		x := Bind[withPair](in)
		x.Scale = 10
		if x.pair.B != nil {
			panic("the outer B must shadow the embedded one")
		}
		return Nodes{"diff": graph.Sub(x.A, x.B), "scaled": graph.MulScalar(x.A, x.Scale)}
	})
	if err != nil {
		t.Fatal(err)
	}
	in := Tensors{"B": tensors.FromValue([]float32{1, 2}), "A": tensors.FromValue([]float32{5, 7})}
	out, err := exec.Call(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["diff"].Value().([]float32); got[0] != 4 || got[1] != 5 {
		t.Errorf("diff = %v, want A-B = [4 5]", got)
	}
	if got := out["scaled"].Value().([]float32); got[0] != 50 || got[1] != 70 {
		t.Errorf("scaled = %v, want 10·A = [50 70]", got)
	}
	// The same exec with other input names is an error, not a silent misbinding.
	_, err = exec.Call(Tensors{"A": tensors.FromValue([]float32{1}), "C": tensors.FromValue([]float32{1})})
	if err == nil || !strings.Contains(err.Error(), "A, C") || !strings.Contains(err.Error(), "A, B") {
		t.Errorf("changed input names: error %v", err)
	}
}

func TestBindRejectsUnknownInputs(t *testing.T) {
	be, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]Tensors{
		"no such field":     {"A": tensors.FromValue([]float32{1}), "Typo": tensors.FromValue([]float32{1})},
		"not a *graph.Node": {"A": tensors.FromValue([]float32{1}), "Scale": tensors.FromValue([]float32{1})},
	} {
		exec, err := NewExec(be, model.NewStore(), func(scope *model.Scope, in Nodes) Nodes {
			return Nodes{"a": Bind[withPair](in).A}
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = exec.Call(in)
		if err == nil || !strings.Contains(err.Error(), "withPair") {
			t.Errorf("%s: error %v, want one naming the input struct", name, err)
		}
	}
}
