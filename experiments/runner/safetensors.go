package runner

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/uniter-go/uniter/internal/safetensors"
)

// safetensorsDTypes maps the element types stored in checkpoints to safetensors dtype codes.
var safetensorsDTypes = map[dtypes.DType]string{
	dtypes.Float32: "F32", dtypes.Float64: "F64", dtypes.Float16: "F16", dtypes.BFloat16: "BF16",
	dtypes.Int64: "I64", dtypes.Int32: "I32", dtypes.Int16: "I16", dtypes.Int8: "I8",
	dtypes.Uint64: "U64", dtypes.Uint32: "U32", dtypes.Uint16: "U16", dtypes.Uint8: "U8", dtypes.Bool: "BOOL",
}

// encodeSafetensors writes named tensors, in the order of names, as a safetensors file with the metadata.
func encodeSafetensors(w io.Writer, names []string, ts map[string]*tensors.Tensor, metadata map[string]string) error {
	out := make(map[string]safetensors.Tensor, len(ts))
	for _, name := range names {
		t := ts[name]
		dt, ok := safetensorsDTypes[t.DType()]
		if !ok {
			return fmt.Errorf("tensor %q has unsupported dtype %s", name, t.DType())
		}
		out[name] = safetensors.Tensor{DType: dt, Shape: t.Shape().Dimensions, Data: func(w io.Writer) error {
			var werr error
			if err := t.ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
				return err
			}
			return werr
		}}
	}
	return safetensors.Write(w, names, out, metadata)
}

// readSafetensors reads every tensor of a safetensors file with its stored element type, and its metadata.
func readSafetensors(path string) (map[string]*tensors.Tensor, map[string]string, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	byCode := make(map[string]dtypes.DType, len(safetensorsDTypes))
	for dt, code := range safetensorsDTypes {
		byCode[code] = dt
	}
	out := make(map[string]*tensors.Tensor, len(f.Entries))
	for name, e := range f.Entries {
		t := tensors.FromShape(shapes.Make(byCode[e.DType], e.Shape...))
		if err := t.MutableBytes(func(b []byte) { err = f.Read(name, b) }); err != nil {
			return nil, nil, fmt.Errorf("reading %s: tensor %q: %w", path, name, err)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		out[name] = t
	}
	return out, f.Metadata, nil
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
