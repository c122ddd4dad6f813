package pydata

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ReadNPY reads a .npy file (see ParseNPY); errors name the file.
func ReadNPY(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	a, err := ParseNPY(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return a, nil
}

// ParseNPY decodes the .npy format (versions 1, 2 and 3): numeric and string arrays, and object arrays (dtype
// "|O"), whose data np.save writes as a pickle of the array.
func ParseNPY(b []byte) (*Array, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy array (no \\x93NUMPY magic)")
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
	if hlen < 0 || off+hlen > len(b) {
		return nil, fmt.Errorf("truncated .npy header")
	}
	descr, fortran, shape, err := parseNPYHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, err
	}
	dtype, body := CanonicalDtype(descr), b[off+hlen:]
	if dtype != ObjectDtype {
		if fortran && len(shape) > 1 {
			return nil, fmt.Errorf("fortran-order arrays are not supported")
		}
		return NewArray(dtype, shape, body)
	}
	v, err := Unpickle(body)
	if err != nil {
		return nil, fmt.Errorf("object array: %w", err)
	}
	a, ok := v.(*Array)
	if !ok || a.Dtype != ObjectDtype {
		return nil, fmt.Errorf("object array: the pickle holds a %s, not an object array", TypeName(v))
	}
	if fmt.Sprint(a.Shape) != fmt.Sprint(shape) {
		return nil, fmt.Errorf("object array: header shape %v but pickled shape %v", shape, a.Shape)
	}
	return a, nil
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
		return "", false, nil, fmt.Errorf("npy header %q: bad or structured descr", h)
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
		d, err := strconv.Atoi(strings.TrimSuffix(s, "L"))
		if err != nil || d < 0 {
			return "", false, nil, fmt.Errorf("npy header %q: bad shape", h)
		}
		shape = append(shape, d)
	}
	return descr, fortran, shape, nil
}

// EncodeNPY encodes a numeric or string array as .npy version 1.0 (header padded to a multiple of 64 bytes, as
// NumPy does). Object arrays are written by EncodeObjectNPY.
func EncodeNPY(a *Array) []byte {
	var buf bytes.Buffer
	writeNPYHeader(&buf, a.Dtype, a.Shape)
	buf.Write(a.Data)
	return buf.Bytes()
}

// writeNPYHeader writes the magic, version 1.0 and the padded header dict.
func writeNPYHeader(buf *bytes.Buffer, dtype string, shape []int) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	s := strings.Join(dims, ", ")
	if len(shape) == 1 {
		s += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, s)
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
}

// ReadNPZ decodes every array of an .npz archive (stored or deflated) held in r, keyed by member name without
// ".npy".
func ReadNPZ(r io.ReaderAt, size int64) (map[string]*Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Array, len(zr.File))
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
		a, err := ParseNPY(b)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		out[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	return out, nil
}

// EncodeNPZ writes arrays as an .npz archive in the given key order; compressed uses deflate like
// np.savez_compressed, otherwise entries are stored like np.savez.
func EncodeNPZ(w io.Writer, keys []string, arrs map[string]*Array, compressed bool) error {
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
		if _, err := fw.Write(EncodeNPY(arrs[k])); err != nil {
			return err
		}
	}
	return zw.Close()
}
