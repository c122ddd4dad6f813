// Package safetensors reads and writes files in the safetensors format of Hugging Face
// (github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON header mapping each tensor
// name to its dtype, shape and data offsets (plus string metadata under "__metadata__"), then the raw
// little-endian data. The runner's checkpoints and data/torchckpt's reader share it.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// elementSizes are the bytes per element of the dtype codes of the format.
var elementSizes = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}

// Entry describes one tensor of a file.
type Entry struct {
	DType   string   `json:"dtype"` // F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 or BOOL
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"` // begin and end of the data, from the start of the data section
}

// Size returns the number of bytes of the entry's data.
func (e Entry) Size() int64 { return e.Offsets[1] - e.Offsets[0] }

// File is an open safetensors file whose header has been read and checked.
type File struct {
	Entries  map[string]Entry
	Metadata map[string]string
	f        *os.File
	start    int64 // offset of the data section
}

// Open reads the header of the file at path and checks that every entry has a known dtype and that its data,
// as large as its shape needs, lies inside the file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sf, err := readHeader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return sf, nil
}

// readHeader reads and checks the header of f.
func readHeader(f *os.File) (*File, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil || n > uint64(info.Size()-8) {
		return nil, errors.New("not a safetensors file (bad header length)")
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors header: %w", err)
	}
	sf := &File{Entries: make(map[string]Entry, len(raw)), f: f, start: int64(8 + n)}
	dataLen := info.Size() - sf.start
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw[name], &sf.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors header __metadata__: %w", err)
			}
			continue
		}
		var e Entry
		if err := json.Unmarshal(raw[name], &e); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		size, ok := elementSizes[e.DType]
		if !ok {
			return nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, e.DType)
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			size *= d
		}
		if e.Size() != int64(size) {
			return nil, fmt.Errorf("tensor %q: data offsets %v hold %d bytes, shape %v %s needs %d", name, e.Offsets, e.Size(), e.Shape, e.DType, size)
		}
		if e.Offsets[0] < 0 || e.Offsets[1] > dataLen {
			return nil, fmt.Errorf("tensor %q: data offsets %v outside the %d-byte data section (file truncated?)", name, e.Offsets, dataLen)
		}
		sf.Entries[name] = e
	}
	return sf, nil
}

// Read reads the data of the tensor name into dst, which must hold Entries[name].Size() bytes.
func (sf *File) Read(name string, dst []byte) error {
	e, ok := sf.Entries[name]
	if !ok {
		return fmt.Errorf("no tensor %q", name)
	}
	if int64(len(dst)) != e.Size() {
		return fmt.Errorf("tensor %q: %d bytes, reading into %d", name, e.Size(), len(dst))
	}
	if _, err := sf.f.ReadAt(dst, sf.start+e.Offsets[0]); err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}

// Close closes the file.
func (sf *File) Close() error { return sf.f.Close() }

// Tensor is a tensor to write: its dtype code, shape, and a function writing its little-endian data.
type Tensor struct {
	DType string
	Shape []int
	Data  func(w io.Writer) error
}

// Write writes the tensors in the order of names, with metadata (none when empty), padding the header to a
// multiple of 8 bytes.
func Write(w io.Writer, names []string, ts map[string]Tensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, name := range names {
		t := ts[name]
		size, ok := elementSizes[t.DType]
		if !ok {
			return fmt.Errorf("tensor %q has unsupported dtype %q", name, t.DType)
		}
		for _, d := range t.Shape {
			size *= d
		}
		header[name] = Entry{DType: t.DType, Shape: t.Shape, Offsets: [2]int64{offset, offset + int64(size)}}
		offset += int64(size)
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
		if err := ts[name].Data(w); err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
	}
	return nil
}
