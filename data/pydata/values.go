package pydata

import (
	"fmt"
	"math"
)

// The Go values a pickle decodes to: None → nil, bool, int → int64, float → float64, str → string,
// bytes/bytearray → Bytes, list → *List, tuple → Tuple, dict and OrderedDict → *Dict, set and frozenset → *Set,
// NumPy arrays → *Array, NumPy scalars → the Go value of their type (numbers as int64/float64, strings as string).

// Bytes is a Python bytes (or bytearray) value.
type Bytes string

// List is a Python list.
type List []any

// Tuple is a Python tuple.
type Tuple []any

// Set is a Python set or frozenset, in pickle order.
type Set []any

// Dict is a Python dict: keys in insertion order, a later value for the same key replacing the earlier one.
type Dict struct {
	keys  []any
	vals  []any
	index map[any]int
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{index: map[any]int{}} }

// Set sets d[key] = val; key must be hashable (None, bool, int, float, str, bytes or a tuple of them).
func (d *Dict) Set(key, val any) error {
	k, err := hashKey(key)
	if err != nil {
		return err
	}
	if i, ok := d.index[k]; ok {
		d.vals[i] = val
		return nil
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, val)
	return nil
}

// Get returns d[key].
func (d *Dict) Get(key any) (any, bool) {
	k, err := hashKey(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any { return d.keys }

// StringKeys returns the keys that are strings, in insertion order (for messages).
func (d *Dict) StringKeys() []string {
	var ks []string
	for _, k := range d.keys {
		if s, ok := k.(string); ok {
			ks = append(ks, s)
		}
	}
	return ks
}

// tupleKey is the hashable form of a tuple key.
type tupleKey string

// hashKey maps a Python key to a comparable Go map key.
func hashKey(key any) (any, error) {
	switch k := key.(type) {
	case nil, bool, int64, string, Bytes:
		return k, nil
	case float64:
		if k == math.Trunc(k) && math.Abs(k) < 1<<62 {
			return int64(k), nil // 1.0 and 1 are the same key in Python
		}
		return k, nil
	case Tuple:
		s := "("
		for _, e := range k {
			h, err := hashKey(e)
			if err != nil {
				return nil, err
			}
			s += fmt.Sprintf("%T:%v,", h, h)
		}
		return tupleKey(s + ")"), nil
	}
	return nil, fmt.Errorf("unhashable dict key of type %s", TypeName(key))
}

// TypeName names the Python type of a decoded value, for messages.
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Bytes:
		return "bytes"
	case *List:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case *Array:
		return fmt.Sprintf("numpy array %s%v", x.Dtype, x.Shape)
	}
	return fmt.Sprintf("%T", v)
}

// AsInt returns an integer value: a Python int or bool, a NumPy integer scalar, or a one-element integral array.
func AsInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case *Array:
		if x.IsNumeric() && x.Size() == 1 {
			f := x.At(0)
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), true
			}
		}
	}
	return 0, false
}

// AsString returns a text value: a str, bytes, or a one-element string array.
func AsString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Bytes:
		return string(x), true
	case *Array:
		if x.Size() == 1 {
			if s, err := x.Strings(); err == nil {
				return s[0], true
			}
			if x.Dtype == ObjectDtype {
				return AsString(x.Objects[0])
			}
		}
	}
	return "", false
}

// Elements returns the items of a list, tuple, set or one-dimensional object or string array.
func Elements(v any) ([]any, bool) {
	switch x := v.(type) {
	case *List:
		return *x, true
	case Tuple:
		return x, true
	case *Set:
		return *x, true
	case *Array:
		if len(x.Shape) != 1 {
			return nil, false
		}
		if x.Dtype == ObjectDtype {
			return x.Objects, true
		}
		if s, err := x.Strings(); err == nil {
			out := make([]any, len(s))
			for i := range s {
				out[i] = s[i]
			}
			return out, true
		}
	}
	return nil, false
}

// AsStrings returns a sequence of text values (see Elements and AsString).
func AsStrings(v any) ([]string, bool) {
	items, ok := Elements(v)
	if !ok {
		return nil, false
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], ok = AsString(it); !ok {
			return nil, false
		}
	}
	return out, true
}
