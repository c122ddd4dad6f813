package torchckpt

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes/float16"
)

// elemType describes how one stored element type is decoded from little-endian bytes.
type elemType struct {
	size   int
	decode func(dst []float32, src []byte) // len(src) == len(dst)*size
}

// elemTypes maps the DType names used in Tensor.DType to their decoders.
var elemTypes = map[string]elemType{
	"float32": {4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}},
	"float16": {2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float16.Float16(binary.LittleEndian.Uint16(src[2*i:])).Float32()
		}
	}},
	"bfloat16": {2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	}},
	"float64": {8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}},
	"int64": {8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}},
	"int32": {4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	}},
	"int16": {2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	}},
	"int8": {1, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	}},
	"uint8": {1, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(src[i])
		}
	}},
	"bool": {1, func(dst []float32, src []byte) {
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	}},
}

// decodeRaw converts raw little-endian elements of the named type to float32.
func decodeRaw(dtype string, raw []byte) ([]float32, error) {
	et, ok := elemTypes[dtype]
	if !ok {
		return nil, fmt.Errorf("unsupported element type %q", dtype)
	}
	if len(raw)%et.size != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s elements", len(raw), dtype)
	}
	out := make([]float32, len(raw)/et.size)
	et.decode(out, raw)
	return out, nil
}
