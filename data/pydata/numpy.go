package pydata

import (
	"fmt"
	"strings"
)

// global is a class or function a pickle may name and call (REDUCE).
type global interface {
	name() string
	call(args Tuple) (any, error)
}

// builder is a value whose state a pickle sets with BUILD.
type builder interface {
	build(state any) error
}

type globalFunc struct {
	qualname string
	fn       func(args Tuple) (any, error)
}

func (g *globalFunc) name() string                 { return g.qualname }
func (g *globalFunc) call(args Tuple) (any, error) { return g.fn(args) }

// npClass is numpy.ndarray or numpy.dtype named as an argument (of _reconstruct) or called (dtype).
type npClass struct{ globalFunc }

// dtypeObj is a pickled numpy.dtype before and after its BUILD.
type dtypeObj struct {
	kind  string // "f4", "U5", "O8", …
	order string // "<", ">", "|", "=" (from the BUILD state)
}

// dtype returns the canonical dtype string.
func (d *dtypeObj) dtype() string { return CanonicalDtype(d.order + d.kind) }

func (d *dtypeObj) build(state any) error {
	t, ok := state.(Tuple)
	if !ok || len(t) < 5 {
		return fmt.Errorf("numpy dtype state is a %s, not a tuple of at least 5 items", TypeName(state))
	}
	order, ok := t[1].(string)
	if !ok {
		return fmt.Errorf("numpy dtype byte order is a %s", TypeName(t[1]))
	}
	if t[2] != nil || t[3] != nil || t[4] != nil {
		return fmt.Errorf("structured or sub-array numpy dtype %q is not supported", d.kind)
	}
	d.order = order
	return nil
}

// build sets an ndarray's state: (version, shape, dtype, is_fortran, data), version optional.
func (a *Array) build(state any) error {
	t, ok := state.(Tuple)
	if ok && len(t) == 5 {
		t = t[1:]
	}
	if !ok || len(t) != 4 {
		return fmt.Errorf("numpy array state is a %s, not a 4- or 5-tuple", TypeName(state))
	}
	shape, err := intTuple(t[0])
	if err != nil {
		return fmt.Errorf("numpy array shape: %w", err)
	}
	dt, ok := t[1].(*dtypeObj)
	if !ok {
		return fmt.Errorf("numpy array dtype is a %s", TypeName(t[1]))
	}
	fortran, ok := t[2].(bool)
	if !ok {
		return fmt.Errorf("numpy array fortran flag is a %s", TypeName(t[2]))
	}
	b, err := makeArray(dt.dtype(), shape, fortran, t[3])
	if err != nil {
		return err
	}
	*a = *b
	return nil
}

// makeArray builds an array from raw bytes (numeric and string dtypes) or a list (object dtype).
func makeArray(dtype string, shape []int, fortran bool, data any) (*Array, error) {
	nd := 0
	for _, d := range shape {
		if d != 1 {
			nd++
		}
	}
	if fortran && nd > 1 {
		return nil, fmt.Errorf("fortran-order numpy arrays are not supported")
	}
	if dtype == ObjectDtype {
		items, ok := data.(*List)
		if !ok {
			return nil, fmt.Errorf("object array data is a %s, not a list", TypeName(data))
		}
		n, err := NumElements(shape, max(len(*items), 1))
		if err != nil || n != len(*items) {
			return nil, fmt.Errorf("object array of shape %v holds %d items", shape, len(*items))
		}
		return &Array{Dtype: dtype, Shape: shape, Objects: *items}, nil
	}
	var raw []byte
	switch x := data.(type) {
	case Bytes:
		raw = []byte(x)
	case string: // Python 2 str
		raw = []byte(x)
	default:
		return nil, fmt.Errorf("numpy array data is a %s, not bytes", TypeName(data))
	}
	return NewArray(dtype, shape, raw)
}

// intTuple converts a tuple of ints.
func intTuple(v any) ([]int, error) {
	t, ok := v.(Tuple)
	if !ok {
		return nil, fmt.Errorf("%s is not a tuple", TypeName(v))
	}
	out := make([]int, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 || n > 1<<40 {
			return nil, fmt.Errorf("item %d (%v) is not a dimension", i, x)
		}
		out[i] = int(n)
	}
	return out, nil
}

// scalarValue converts a NumPy scalar of a dtype and its raw bytes into a Go value.
func scalarValue(dtype string, data any) (any, error) {
	if dtype == ObjectDtype {
		return data, nil
	}
	a, err := makeArray(dtype, []int{}, false, data)
	if err != nil {
		return nil, err
	}
	if s, err := a.Strings(); err == nil {
		return s[0], nil
	}
	switch dtype[1] {
	case 'f':
		return a.At(0), nil
	case 'b':
		return a.Data[0] != 0, nil
	}
	v := a.At(0)
	if dtype == "<u8" || dtype == "<i8" { // exact 64-bit integers
		u := uint64(0)
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(a.Data[i])
		}
		if dtype == "<u8" && u > 1<<63-1 {
			return nil, fmt.Errorf("uint64 scalar %d does not fit int64", u)
		}
		return int64(u), nil
	}
	return int64(v), nil
}

// globals are the classes and functions a pickle may name, by module.name.
var globals = map[string]global{}

func init() {
	add := func(fn func(args Tuple) (any, error), names ...string) {
		for _, n := range names {
			globals[n] = &globalFunc{n, fn}
		}
	}
	ndarray := &npClass{globalFunc{"numpy.ndarray", func(Tuple) (any, error) {
		return nil, fmt.Errorf("numpy.ndarray cannot be called directly")
	}}}
	dtype := &npClass{globalFunc{"numpy.dtype", func(args Tuple) (any, error) {
		if len(args) < 1 {
			return nil, fmt.Errorf("no kind")
		}
		kind, ok := args[0].(string)
		if !ok || kind == "" {
			return nil, fmt.Errorf("kind is a %s", TypeName(args[0]))
		}
		return &dtypeObj{kind: kind, order: "="}, nil
	}}}
	globals["numpy.ndarray"] = ndarray
	globals["numpy.dtype"] = dtype
	add(func(args Tuple) (any, error) {
		if len(args) != 3 {
			return nil, fmt.Errorf("%d arguments, want 3", len(args))
		}
		if c, ok := args[0].(*npClass); !ok || c.qualname != "numpy.ndarray" {
			return nil, fmt.Errorf("reconstructs a %s, not a numpy.ndarray", TypeName(args[0]))
		}
		return &Array{Shape: []int{0}}, nil // the state comes with BUILD
	}, "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct")
	add(func(args Tuple) (any, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("%d arguments, want 1 or 2", len(args))
		}
		dt, ok := args[0].(*dtypeObj)
		if !ok {
			return nil, fmt.Errorf("dtype is a %s", TypeName(args[0]))
		}
		if len(args) == 1 {
			return nil, fmt.Errorf("scalar without data")
		}
		return scalarValue(dt.dtype(), args[1])
	}, "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar")
	add(func(args Tuple) (any, error) {
		if len(args) != 4 {
			return nil, fmt.Errorf("%d arguments, want 4", len(args))
		}
		dt, ok := args[1].(*dtypeObj)
		if !ok {
			return nil, fmt.Errorf("dtype is a %s", TypeName(args[1]))
		}
		shape, err := intTuple(args[2])
		if err != nil {
			return nil, fmt.Errorf("shape: %w", err)
		}
		order, _ := args[3].(string)
		return makeArray(dt.dtype(), shape, order == "F", args[0])
	}, "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer")
	add(func(args Tuple) (any, error) {
		s := Set{}
		if len(args) > 0 {
			items, ok := Elements(args[0])
			if !ok {
				return nil, fmt.Errorf("argument is a %s", TypeName(args[0]))
			}
			s = append(s, items...)
		}
		return &s, nil
	}, "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset")
	add(func(args Tuple) (any, error) {
		switch {
		case len(args) == 0:
			return Bytes(""), nil
		case len(args) == 1:
			if b, ok := args[0].(Bytes); ok {
				return b, nil
			}
		case len(args) == 2:
			if s, ok := args[0].(string); ok {
				return latin1(s, args[1])
			}
		}
		return nil, fmt.Errorf("unsupported arguments %v", args)
	}, "builtins.bytearray", "__builtin__.bytearray", "builtins.bytes", "__builtin__.bytes")
	add(func(args Tuple) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("%d arguments, want 2", len(args))
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("argument is a %s", TypeName(args[0]))
		}
		return latin1(s, args[1])
	}, "_codecs.encode")
	add(func(args Tuple) (any, error) {
		d := NewDict()
		if len(args) == 0 {
			return d, nil
		}
		pairs, ok := Elements(args[0])
		if !ok {
			return nil, fmt.Errorf("argument is a %s", TypeName(args[0]))
		}
		for _, p := range pairs {
			kv, ok := Elements(p)
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("item %v is not a pair", p)
			}
			if err := d.Set(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		return d, nil
	}, "collections.OrderedDict")
}

// findGlobal resolves a GLOBAL / STACK_GLOBAL name.
func findGlobal(module, name string) (any, error) {
	q := module + "." + name
	if g, ok := globals[q]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("the pickle names %s, which this reader does not build (only NumPy arrays, dtypes and "+
		"scalars and Python built-in containers)", q)
}

// latin1 encodes s as latin-1 bytes (how Python 3 pickles bytes with protocols below 3).
func latin1(s string, encoding any) (any, error) {
	if e, _ := encoding.(string); strings.ReplaceAll(strings.ToLower(e), "-", "") != "latin1" {
		return nil, fmt.Errorf("encoding %v is not latin-1", encoding)
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("character %U is not latin-1", r)
		}
		b = append(b, byte(r))
	}
	return Bytes(b), nil
}
