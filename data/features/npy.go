package features

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// array is a decoded numpy array: little-endian raw data of a numpy dtype string such as "<f2".
type array struct {
	dtype string
	shape []int
	data  []byte
}

// canonicalDtype writes one-byte dtypes with numpy's "|" byte-order mark ("<u1" → "|u1").
func canonicalDtype(d string) string {
	if len(d) == 3 && d[2] == '1' && (d[0] == '<' || d[0] == '>' || d[0] == '=') {
		return "|" + d[1:]
	}
	return d
}

// elemSize returns the byte size of one element of the dtypes this package handles.
func elemSize(dtype string) (int, error) {
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
	return 0, fmt.Errorf("unsupported numpy dtype %q", dtype)
}

// newArray checks that data holds exactly the elements of shape.
func newArray(dtype string, shape []int, data []byte) (*array, error) {
	es, err := elemSize(dtype)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > len(data)/d) {
			return nil, fmt.Errorf("shape %v does not fit %d bytes", shape, len(data))
		}
		n *= d
	}
	if n*es != len(data) {
		return nil, fmt.Errorf("array %s%v needs %d bytes, has %d", dtype, shape, n*es, len(data))
	}
	return &array{dtype: dtype, shape: shape, data: data}, nil
}

// size is the number of elements.
func (a *array) size() int {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	return n
}

// at returns element i (flat, row-major) as float64 (exact for every supported dtype up to 2^53).
func (a *array) at(i int) float64 {
	d, le := a.data, binary.LittleEndian
	switch a.dtype {
	case "<f2":
		return float64(f16ToF32(le.Uint16(d[2*i:])))
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

// float32s converts the elements to float32.
func (a *array) float32s() []float32 {
	out := make([]float32, a.size())
	switch a.dtype { // fast paths for the feature dtypes
	case "<f4":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
		}
	case "<f2":
		for i := range out {
			out[i] = f16ToF32(binary.LittleEndian.Uint16(a.data[2*i:]))
		}
	default:
		for i := range out {
			out[i] = float32(a.at(i))
		}
	}
	return out
}

// scalarInt returns the value of a one-element numeric array as an int.
func (a *array) scalarInt() (int, error) {
	if a.size() != 1 {
		return 0, fmt.Errorf("want a scalar, got shape %v", a.shape)
	}
	v := a.at(0)
	if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
		return 0, fmt.Errorf("scalar %v is not an integer", v)
	}
	return int(v), nil
}

// float32Array makes an array of the given float dtype ("<f4" or "<f2") from values.
func float32Array(dtype string, shape []int, vals []float32) *array {
	le := binary.LittleEndian
	var data []byte
	if dtype == "<f2" {
		data = make([]byte, 2*len(vals))
		for i, v := range vals {
			le.PutUint16(data[2*i:], f32ToF16(v))
		}
	} else {
		dtype = "<f4"
		data = make([]byte, 4*len(vals))
		for i, v := range vals {
			le.PutUint32(data[4*i:], math.Float32bits(v))
		}
	}
	return &array{dtype: dtype, shape: shape, data: data}
}

// int64Scalar makes a 0-d int64 array.
func int64Scalar(v int64) *array {
	data := make([]byte, 8)
	binary.LittleEndian.PutUint64(data, uint64(v))
	return &array{dtype: "<i8", shape: []int{}, data: data}
}

// parseNPY decodes the .npy format (versions 1, 2 and 3).
func parseNPY(b []byte) (*array, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy array (bad magic)")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("truncated .npy header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy version %d", b[6])
	}
	if off+hlen > len(b) {
		return nil, fmt.Errorf("truncated .npy header")
	}
	descr, fortran, shape, err := parseNPYHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, err
	}
	if fortran && len(shape) > 1 {
		return nil, fmt.Errorf("fortran-order arrays are not supported")
	}
	return newArray(canonicalDtype(descr), shape, b[off+hlen:])
}

// parseNPYHeader parses the Python dict literal of a .npy header,
// e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 8), }.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	field := func(name string) (string, error) {
		key := "'" + name + "':"
		i := strings.Index(h, key)
		if i < 0 {
			return "", fmt.Errorf("npy header %q lacks %s", h, name)
		}
		return strings.TrimSpace(h[i+len(key):]), nil
	}
	v, err := field("descr")
	if err != nil {
		return "", false, nil, err
	}
	if len(v) < 2 || v[0] != '\'' || !strings.Contains(v[1:], "'") {
		return "", false, nil, fmt.Errorf("npy header %q: bad descr", h)
	}
	descr = v[1 : 1+strings.Index(v[1:], "'")]
	if v, err = field("fortran_order"); err != nil {
		return "", false, nil, err
	}
	fortran = strings.HasPrefix(v, "True")
	if v, err = field("shape"); err != nil {
		return "", false, nil, err
	}
	end := strings.Index(v, ")")
	if !strings.HasPrefix(v, "(") || end < 0 {
		return "", false, nil, fmt.Errorf("npy header %q: bad shape", h)
	}
	shape = []int{}
	for _, s := range strings.Split(v[1:end], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil {
			return "", false, nil, fmt.Errorf("npy header %q: bad shape", h)
		}
		shape = append(shape, d)
	}
	return descr, fortran, shape, nil
}

// encodeNPY encodes an array as .npy version 1.0 (header padded to a multiple of 64 bytes, as numpy does).
func encodeNPY(a *array) []byte {
	dims := make([]string, len(a.shape))
	for i, d := range a.shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(a.shape) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", a.dtype, shape)
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	buf.Write(a.data)
	return buf.Bytes()
}

// readNPZ decodes every array of an .npz archive (stored or deflated) held in r.
func readNPZ(r io.ReaderAt, size int64) (map[string]*array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*array, len(zr.File))
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		a, err := parseNPY(b)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		out[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	return out, nil
}

// encodeNPZ writes arrays as an .npz archive in the given key order; compressed uses deflate like
// np.savez_compressed, otherwise entries are stored like np.savez.
func encodeNPZ(w io.Writer, keys []string, arrs map[string]*array, compressed bool) error {
	zw := zip.NewWriter(w)
	method := zip.Store
	if compressed {
		method = zip.Deflate
	}
	for _, k := range keys {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: method})
		if err != nil {
			return err
		}
		if _, err := fw.Write(encodeNPY(arrs[k])); err != nil {
			return err
		}
	}
	return zw.Close()
}

// f16ToF32 converts IEEE 754 half precision bits to float32 (exact).
func f16ToF32(h uint16) float32 {
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

// f32ToF16 converts float32 to IEEE 754 half precision bits, rounding to nearest even like numpy.
func f32ToF16(f float32) uint16 {
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
