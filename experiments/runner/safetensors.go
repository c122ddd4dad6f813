package runner

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// safetensorsDTypes maps the element types stored in checkpoints to safetensors dtype names.
var safetensorsDTypes = map[dtypes.DType]string{
	dtypes.Float32: "F32", dtypes.Float64: "F64", dtypes.Float16: "F16", dtypes.BFloat16: "BF16",
	dtypes.Int64: "I64", dtypes.Int32: "I32", dtypes.Int16: "I16", dtypes.Int8: "I8",
	dtypes.Uint64: "U64", dtypes.Uint32: "U32", dtypes.Uint16: "U16", dtypes.Uint8: "U8", dtypes.Bool: "BOOL",
}

// safetensorsEntry is one tensor of a safetensors header.
type safetensorsEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// encodeSafetensors writes named tensors, in the order of names, in the safetensors format (8-byte little-endian
// header length, JSON header with the string map metadata under "__metadata__", raw little-endian data).
func encodeSafetensors(w io.Writer, names []string, ts map[string]*tensors.Tensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	offset := 0
	for _, name := range names {
		t := ts[name]
		dt, ok := safetensorsDTypes[t.DType()]
		if !ok {
			return fmt.Errorf("tensor %q has unsupported dtype %s", name, t.DType())
		}
		size := int(t.Shape().ByteSize())
		header[name] = safetensorsEntry{DType: dt, Shape: t.Shape().Dimensions, DataOffsets: [2]int{offset, offset + size}}
		offset += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(hb))); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, name := range names {
		var werr error
		if err := ts[name].ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

// readSafetensors reads every tensor of a safetensors file with its stored element type, and its metadata.
func readSafetensors(path string) (map[string]*tensors.Tensor, map[string]string, error) {
	ts, meta, err := decodeSafetensors(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return ts, meta, nil
}

// readSafetensorsHeader reads the JSON header of a safetensors file: the tensor entries and the metadata, and the
// offset where the data starts.
func readSafetensorsHeader(f *os.File) (map[string]json.RawMessage, map[string]string, int64, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, nil, 0, err
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil || n > uint64(info.Size()-8) {
		return nil, nil, 0, errors.New("not a safetensors file (bad header length)")
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(f, hb); err != nil {
		return nil, nil, 0, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, nil, 0, fmt.Errorf("header: %w", err)
	}
	var meta map[string]string
	if r, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(r, &meta); err != nil {
			return nil, nil, 0, fmt.Errorf("header __metadata__: %w", err)
		}
		delete(raw, "__metadata__")
	}
	return raw, meta, int64(8 + n), nil
}

// decodeSafetensors is readSafetensors without the file name in errors.
func decodeSafetensors(path string) (map[string]*tensors.Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	raw, meta, dataStart, err := readSafetensorsHeader(f)
	if err != nil {
		return nil, nil, err
	}
	dataLen := info.Size() - dataStart
	byName := map[string]dtypes.DType{}
	for dt, name := range safetensorsDTypes {
		byName[name] = dt
	}
	out := make(map[string]*tensors.Tensor, len(raw))
	for name, r := range raw {
		var e safetensorsEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		dt, ok := byName[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, e.DType)
		}
		shape := shapes.Make(dt, e.Shape...)
		size := int(shape.ByteSize())
		if e.DataOffsets[1]-e.DataOffsets[0] != size || e.DataOffsets[0] < 0 || int64(e.DataOffsets[1]) > dataLen {
			return nil, nil, fmt.Errorf("tensor %q: data offsets %v do not hold shape %v %s (file truncated?)",
				name, e.DataOffsets, e.Shape, e.DType)
		}
		t := tensors.FromShape(shape)
		err = t.MutableBytes(func(b []byte) {
			_, err = f.ReadAt(b, dataStart+int64(e.DataOffsets[0]))
		})
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		out[name] = t
	}
	return out, meta, nil
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
