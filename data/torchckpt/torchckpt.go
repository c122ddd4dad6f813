// Package torchckpt reads model checkpoints into float32 state dicts: PyTorch files written by
// torch.save (zip format and the legacy non-zip format), safetensors files and NumPy .npz archives.
//
// PyTorch pickles are walked with gopickle's unpickler; only the tensor-rebuilding functions are
// modelled, storages are read straight from the file. Common containers that keep the state dict
// under "model" (MMF), "state_dict" or "model_state_dict" are unwrapped.
package torchckpt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Tensor is one named array of a checkpoint, converted to float32.
type Tensor struct {
	// Name is the state-dict key.
	Name string
	// Shape holds the dimensions (empty for a scalar).
	Shape []int
	// DType is the element type as stored: "float32", "float16", "bfloat16", "float64", "int64",
	// "int32", "int16", "int8", "uint8" or "bool".
	DType string
	// Data holds the elements in row-major order, converted to float32.
	Data []float32
}

// StateDict maps state-dict keys to tensors.
type StateDict map[string]*Tensor

// Read loads the checkpoint at path. The format is detected from the content, not the file name.
// Every error names path and, where it applies, the offending key.
func Read(path string) (sd StateDict, err error) {
	defer func() {
		if r := recover(); r != nil { // gopickle may panic on malformed pickles
			sd, err = nil, fmt.Errorf("reading %s: malformed checkpoint: %v", path, r)
		}
	}()
	sd, err = read(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return sd, nil
}

func read(path string) (StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 9)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	size := info.Size()
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return readZip(f, size)
	case len(head) > 0 && head[0] == 0x80: // pickle PROTO opcode
		return readLegacy(f, size)
	case len(head) == 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) <= uint64(size-8):
		return readSafetensors(path)
	}
	return nil, errors.New("not a PyTorch, safetensors or .npz checkpoint")
}

// newTensor checks that data matches shape and returns the tensor.
func newTensor(name, dtype string, shape []int, data []float32) (*Tensor, error) {
	n, err := numElements(shape)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	if n != len(data) {
		return nil, fmt.Errorf("key %q: shape %v needs %d elements, got %d", name, shape, n, len(data))
	}
	return &Tensor{Name: name, Shape: shape, DType: dtype, Data: data}, nil
}

// numElements returns the product of shape, rejecting negative dimensions.
func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		n *= d
	}
	return n, nil
}
