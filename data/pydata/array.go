package pydata

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Array is a decoded NumPy array. Numeric arrays keep their little-endian raw bytes in Data under a NumPy dtype
// string (Dtype "<f4", "|u1", "|b1", …); string arrays use "<U<n>" (UTF-32) or "|S<n>" (bytes); object arrays
// ("|O") hold their elements in Objects instead, in row-major order.
type Array struct {
	Dtype   string
	Shape   []int
	Data    []byte
	Objects []any
}

// ObjectDtype is the dtype string of object arrays.
const ObjectDtype = "|O"

// CanonicalDtype normalises a NumPy dtype string: "=" (native, little-endian here) becomes "<", one-byte and byte
// types take NumPy's "|" mark ("<u1" → "|u1", "S3" → "|S3"), a kind without a mark is little-endian ("f4" → "<f4")
// and every object dtype is "|O".
func CanonicalDtype(d string) string {
	if d == "" {
		return d
	}
	order, kind := byte('<'), d
	switch d[0] {
	case '<', '>', '|', '=':
		order, kind = d[0], d[1:]
	}
	switch {
	case kind == "O" || kind == "O8" || kind == "O4":
		return ObjectDtype
	case kind == "b1" || kind == "u1" || kind == "i1" || strings.HasPrefix(kind, "S"):
		order = '|'
	case order == '=' || order == '|':
		order = '<'
	}
	return string(order) + kind
}

// ElemSize returns the byte size of one element of a (canonical) dtype this package handles.
func ElemSize(dtype string) (int, error) {
	switch dtype {
	case "<f2", "<i2", "<u2":
		return 2, nil
	case "<f4", "<i4", "<u4":
		return 4, nil
	case "<f8", "<i8", "<u8":
		return 8, nil
	case "|u1", "|i1", "|b1":
		return 1, nil
	}
	if n, ok := strSize(dtype); ok {
		return n, nil
	}
	if strings.HasPrefix(dtype, ">") {
		return 0, fmt.Errorf("big-endian numpy dtype %q is not supported", dtype)
	}
	return 0, fmt.Errorf("unsupported numpy dtype %q", dtype)
}

// strSize returns the element size of a "<U<n>" or "|S<n>" dtype.
func strSize(dtype string) (int, bool) {
	var per int
	switch {
	case strings.HasPrefix(dtype, "<U"):
		per = 4
	case strings.HasPrefix(dtype, "|S"):
		per = 1
	default:
		return 0, false
	}
	n := 0
	for _, c := range dtype[2:] {
		if c < '0' || c > '9' || n > 1<<20 {
			return 0, false
		}
		n = 10*n + int(c-'0')
	}
	if len(dtype) == 2 {
		return 0, false
	}
	return per * n, true
}

// NumElements returns the product of shape, or an error when a dimension is negative or the product overflows
// limit.
func NumElements(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v is larger than the data (%d)", shape, limit)
		}
		n *= d
	}
	return n, nil
}

// NewArray checks that data holds exactly the elements of a numeric or string array of shape.
func NewArray(dtype string, shape []int, data []byte) (*Array, error) {
	es, err := ElemSize(dtype)
	if err != nil {
		return nil, err
	}
	limit := len(data)
	if es > 0 {
		limit = len(data) / es
	}
	n, err := NumElements(shape, max(limit, 1))
	if err != nil {
		return nil, err
	}
	if n*es != len(data) {
		return nil, fmt.Errorf("array %s%v needs %d bytes, has %d", dtype, shape, n*es, len(data))
	}
	return &Array{Dtype: dtype, Shape: shape, Data: data}, nil
}

// Size is the number of elements.
func (a *Array) Size() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// IsNumeric reports whether the array holds numbers or booleans (and its data fits its shape).
func (a *Array) IsNumeric() bool {
	if _, isStr := strSize(a.Dtype); isStr || a.Dtype == ObjectDtype {
		return false
	}
	es, err := ElemSize(a.Dtype)
	return err == nil && len(a.Data) == es*a.Size()
}

// At returns element i (flat, row-major) of a numeric array as float64 (exact for every supported dtype up to 2^53).
func (a *Array) At(i int) float64 {
	d, le := a.Data, binary.LittleEndian
	switch a.Dtype {
	case "<f2":
		return float64(F16ToF32(le.Uint16(d[2*i:])))
	case "<f4":
		return float64(math.Float32frombits(le.Uint32(d[4*i:])))
	case "<f8":
		return math.Float64frombits(le.Uint64(d[8*i:]))
	case "<i2":
		return float64(int16(le.Uint16(d[2*i:])))
	case "<u2":
		return float64(le.Uint16(d[2*i:]))
	case "<i4":
		return float64(int32(le.Uint32(d[4*i:])))
	case "<u4":
		return float64(le.Uint32(d[4*i:]))
	case "<i8":
		return float64(int64(le.Uint64(d[8*i:])))
	case "<u8":
		return float64(le.Uint64(d[8*i:]))
	case "|i1":
		return float64(int8(d[i]))
	}
	return float64(d[i]) // |u1, |b1
}

// Float32s converts the elements of a numeric array to float32.
func (a *Array) Float32s() ([]float32, error) {
	if !a.IsNumeric() {
		return nil, fmt.Errorf("array of dtype %s is not numeric", a.Dtype)
	}
	out := make([]float32, a.Size())
	switch a.Dtype { // fast paths for the feature dtypes
	case "<f4":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
		}
	case "<f2":
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(a.Data[2*i:]))
		}
	default:
		for i := range out {
			out[i] = float32(a.At(i))
		}
	}
	return out, nil
}

// Ints converts the elements of a numeric array to ints; non-integral or out-of-range values are an error.
func (a *Array) Ints() ([]int, error) {
	if !a.IsNumeric() {
		return nil, fmt.Errorf("array of dtype %s is not numeric", a.Dtype)
	}
	out := make([]int, a.Size())
	for i := range out {
		v := a.At(i)
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return nil, fmt.Errorf("element %d = %v is not an integer", i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// ScalarInt returns the value of a one-element numeric array as an int.
func (a *Array) ScalarInt() (int, error) {
	if a.Size() != 1 {
		return 0, fmt.Errorf("want a scalar, got shape %v", a.Shape)
	}
	v, err := a.Ints()
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// Strings returns the elements of a "<U<n>" or "|S<n>" array, trailing NULs removed.
func (a *Array) Strings() ([]string, error) {
	es, ok := strSize(a.Dtype)
	if !ok || len(a.Data) != es*a.Size() {
		return nil, fmt.Errorf("array of dtype %s holds no strings", a.Dtype)
	}
	out := make([]string, a.Size())
	for i := range out {
		out[i] = decodeFixedString(a.Dtype, a.Data[i*es:(i+1)*es])
	}
	return out, nil
}

// decodeFixedString decodes one element of a "<U<n>" (UTF-32LE) or "|S<n>" array.
func decodeFixedString(dtype string, b []byte) string {
	if dtype[1] == 'S' {
		return strings.TrimRight(string(b), "\x00")
	}
	var sb strings.Builder
	for i := 0; i+4 <= len(b); i += 4 {
		r := rune(binary.LittleEndian.Uint32(b[i:]))
		if r == 0 {
			break
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// Float32Array makes an array of the given float dtype ("<f4" or "<f2") from values.
func Float32Array(dtype string, shape []int, vals []float32) *Array {
	le := binary.LittleEndian
	var data []byte
	if dtype == "<f2" {
		data = make([]byte, 2*len(vals))
		for i, v := range vals {
			le.PutUint16(data[2*i:], F32ToF16(v))
		}
	} else {
		dtype = "<f4"
		data = make([]byte, 4*len(vals))
		for i, v := range vals {
			le.PutUint32(data[4*i:], math.Float32bits(v))
		}
	}
	return &Array{Dtype: dtype, Shape: shape, Data: data}
}

// Int64Array makes an int64 array of shape from values.
func Int64Array(shape []int, vals []int64) *Array {
	data := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	}
	return &Array{Dtype: "<i8", Shape: shape, Data: data}
}

// Int64Scalar makes a 0-d int64 array.
func Int64Scalar(v int64) *Array { return Int64Array([]int{}, []int64{v}) }

// F16ToF32 converts IEEE 754 half precision bits to float32 (exact).
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, nan
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// subnormal: mant × 2^-24
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// F32ToF16 converts float32 to IEEE 754 half precision bits, rounding to nearest even like numpy.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // inf, nan (keep nan quiet and non-zero)
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00 // overflow → inf
	}
	if e <= 0 { // subnormal half or zero
		if e < -10 {
			return sign
		}
		m := mant | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to inf: still correct
	}
	return sign | uint16(half)
}
