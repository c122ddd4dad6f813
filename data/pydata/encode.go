package pydata

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Pickle encodes v with pickle protocol 3, the protocol np.save uses for object arrays, which every Python 3
// reads. v may be nil, bool, int, int64, float64, string, Bytes, []string, []any, *List, Tuple, *Dict,
// map[string]any (keys written sorted) and *Array (numeric, or object with encodable elements); NumPy arrays are
// written as NumPy pickles them (numpy.core.multiarray._reconstruct), so pickle.loads gives numpy.ndarray.
func Pickle(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write([]byte{0x80, 3})
	if err := encodeValue(&buf, v); err != nil {
		return nil, fmt.Errorf("pickling: %w", err)
	}
	buf.WriteByte('.')
	return buf.Bytes(), nil
}

// EncodeObjectNPY encodes an object array as np.save does: a .npy header with descr '|O' followed by the pickled
// array.
func EncodeObjectNPY(a *Array) ([]byte, error) {
	if a.Dtype != ObjectDtype {
		return nil, fmt.Errorf("encoding an object .npy: dtype is %s", a.Dtype)
	}
	p, err := Pickle(a)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	writeNPYHeader(&buf, ObjectDtype, a.Shape)
	buf.Write(p)
	return buf.Bytes(), nil
}

// ObjectArray makes a one-dimensional object array of items.
func ObjectArray(items ...any) *Array {
	return &Array{Dtype: ObjectDtype, Shape: []int{len(items)}, Objects: items}
}

func encodeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteByte('N')
	case bool:
		if x {
			buf.WriteByte(0x88)
		} else {
			buf.WriteByte(0x89)
		}
	case int:
		encodeInt(buf, int64(x))
	case int64:
		encodeInt(buf, x)
	case float64:
		buf.WriteByte('G')
		binary.Write(buf, binary.BigEndian, math.Float64bits(x))
	case string:
		buf.WriteByte('X')
		binary.Write(buf, binary.LittleEndian, uint32(len(x)))
		buf.WriteString(x)
	case Bytes:
		buf.WriteByte('B')
		binary.Write(buf, binary.LittleEndian, uint32(len(x)))
		buf.WriteString(string(x))
	case []string:
		items := make([]any, len(x))
		for i := range x {
			items[i] = x[i]
		}
		return encodeList(buf, items)
	case []any:
		return encodeList(buf, x)
	case *List:
		return encodeList(buf, *x)
	case Tuple:
		return encodeTuple(buf, x)
	case *Dict:
		buf.WriteString("}(")
		for i, k := range x.keys {
			if err := encodeValue(buf, k); err != nil {
				return err
			}
			if err := encodeValue(buf, x.vals[i]); err != nil {
				return err
			}
		}
		buf.WriteByte('u')
	case map[string]any:
		d := NewDict()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			d.Set(k, x[k])
		}
		return encodeValue(buf, d)
	case *Array:
		return encodeArray(buf, x)
	default:
		return fmt.Errorf("cannot pickle a %T", v)
	}
	return nil
}

func encodeInt(buf *bytes.Buffer, v int64) {
	switch {
	case v >= 0 && v < 1<<8:
		buf.Write([]byte{'K', byte(v)})
	case v >= 0 && v < 1<<16:
		buf.WriteByte('M')
		binary.Write(buf, binary.LittleEndian, uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		buf.WriteByte('J')
		binary.Write(buf, binary.LittleEndian, int32(v))
	default:
		buf.Write([]byte{0x8a, 8})
		binary.Write(buf, binary.LittleEndian, v)
	}
}

func encodeList(buf *bytes.Buffer, items []any) error {
	buf.WriteString("](")
	for _, it := range items {
		if err := encodeValue(buf, it); err != nil {
			return err
		}
	}
	buf.WriteByte('e')
	return nil
}

func encodeTuple(buf *bytes.Buffer, items []any) error {
	buf.WriteByte('(')
	for _, it := range items {
		if err := encodeValue(buf, it); err != nil {
			return err
		}
	}
	buf.WriteByte('t')
	return nil
}

// encodeArray writes numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') and the BUILD state
// (1, shape, dtype, False, data), as ndarray.__reduce__ gives them.
func encodeArray(buf *bytes.Buffer, a *Array) error {
	var data any
	var flags int64
	order, kind := "", ""
	switch {
	case a.Dtype == ObjectDtype:
		n, err := NumElements(a.Shape, max(len(a.Objects), 1))
		if err != nil || n != len(a.Objects) {
			return fmt.Errorf("object array of shape %v holds %d items", a.Shape, len(a.Objects))
		}
		data, order, kind, flags = a.Objects, "|", "O8", 63
	case a.IsNumeric() && (a.Dtype[0] == '<' || a.Dtype[0] == '|'):
		data, order, kind = Bytes(a.Data), a.Dtype[:1], a.Dtype[1:]
	default:
		return fmt.Errorf("cannot pickle a numpy array of dtype %s", a.Dtype)
	}
	buf.WriteString("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01")
	shape := make([]any, len(a.Shape))
	for i, d := range a.Shape {
		shape[i] = d
	}
	if err := encodeTuple(buf, shape); err != nil {
		return err
	}
	buf.WriteString("cnumpy\ndtype\n")
	encodeValue(buf, kind)
	buf.WriteString("\x89\x88\x87R(K\x03")
	encodeValue(buf, order)
	buf.WriteString("NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff")
	encodeInt(buf, flags)
	buf.WriteString("tb\x89")
	if items, ok := data.([]any); ok {
		if err := encodeList(buf, items); err != nil {
			return err
		}
	} else {
		encodeValue(buf, data)
	}
	buf.WriteString("tb")
	return nil
}

// String returns a short description of an array, for messages.
func (a *Array) String() string {
	return fmt.Sprintf("array(%s, shape=(%s))", a.Dtype, strings.Trim(fmt.Sprint(a.Shape), "[]"))
}
