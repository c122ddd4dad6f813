package torchckpt

import (
	"fmt"
	"io"
	"math/big"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// storageDTypes maps torch storage class names (module "torch") to Tensor.DType names.
var storageDTypes = map[string]string{
	"FloatStorage":    "float32",
	"HalfStorage":     "float16",
	"BFloat16Storage": "bfloat16",
	"DoubleStorage":   "float64",
	"LongStorage":     "int64",
	"IntStorage":      "int32",
	"ShortStorage":    "int16",
	"CharStorage":     "int8",
	"ByteStorage":     "uint8",
	"BoolStorage":     "bool",
}

// containerKeys are the keys under which training scripts nest the state dict.
var containerKeys = []string{"model", "state_dict", "model_state_dict"}

// storageClass is what a pickled torch.<Type>Storage class reference resolves to.
type storageClass struct{ dtype string }

// storage is one PyTorch storage: a flat array shared by the tensors that view it.
type storage struct {
	dtype  string
	key    string
	numel  int
	data   []float32 // nil until loaded
	handed bool      // data already returned as some tensor's Data (later users copy)
	needed bool      // referenced by a tensor of the selected state dict
}

// tensorRef is a pickled tensor: a strided view of a storage.
type tensorRef struct {
	st            *storage
	offset        int
	shape, stride []int
}

// rebuildTensor models torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...).
type rebuildTensor struct{}

// Call builds the tensorRef.
func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	st, ok1 := args[0].(*storage)
	offset, ok2 := args[1].(int)
	shape, ok3 := intTuple(args[2])
	stride, ok4 := intTuple(args[3])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: unexpected arguments %v", args[:4])
	}
	return &tensorRef{st: st, offset: offset, shape: shape, stride: stride}, nil
}

// rebuildParameter models torch._utils._rebuild_parameter(data, requires_grad, hooks[, state]).
type rebuildParameter struct{}

// Call returns the wrapped tensor.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is %s, not a tensor", pyType(args[0]))
	}
	return args[0], nil
}

// opaqueClass stands for any other pickled class (numpy scalars, optimizer classes, ...), so that
// non-tensor entries of a container can be unpickled and skipped.
type opaqueClass struct{ module, name string }

// Call returns an instance.
func (c *opaqueClass) Call(...any) (any, error) { return &opaqueObject{c}, nil }

// PyNew returns an instance.
func (c *opaqueClass) PyNew(...any) (any, error) { return &opaqueObject{c}, nil }

// opaqueObject is an instance of an opaqueClass; its state is ignored.
type opaqueObject struct{ class *opaqueClass }

// PySetState ignores the state.
func (*opaqueObject) PySetState(any) error { return nil }

func findClass(module, name string) (any, error) {
	if dtype, ok := storageDTypes[name]; ok && module == "torch" {
		return &storageClass{dtype}, nil
	}
	if module == "torch._utils" {
		switch name {
		case "_rebuild_tensor_v2":
			return rebuildTensor{}, nil
		case "_rebuild_parameter", "_rebuild_parameter_with_state":
			return rebuildParameter{}, nil
		}
	}
	return &opaqueClass{module, name}, nil
}

// storageTable resolves the persistent ids of a PyTorch pickle to shared storages.
type storageTable map[string]*storage

// persistentLoad handles ('storage', class, key, location, numel[, view_metadata]).
func (t storageTable) persistentLoad(id any) (any, error) {
	tup, ok := id.(*types.Tuple)
	if !ok || tup.Len() < 5 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	kind, _ := tup.Get(0).(string)
	key, ok1 := tup.Get(2).(string)
	numel, ok2 := tup.Get(4).(int)
	if kind != "storage" || !ok1 || !ok2 || numel < 0 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	cls, ok := tup.Get(1).(*storageClass)
	if !ok {
		name := pyType(tup.Get(1))
		if oc, isClass := tup.Get(1).(*opaqueClass); isClass {
			name = oc.module + "." + oc.name
		}
		return nil, fmt.Errorf("storage %s: unsupported storage type %s", key, name)
	}
	if tup.Len() > 5 && tup.Get(5) != nil {
		return nil, fmt.Errorf("storage %s: legacy storage views are not supported", key)
	}
	if st, ok := t[key]; ok {
		return st, nil
	}
	st := &storage{dtype: cls.dtype, key: key, numel: numel}
	t[key] = st
	return st, nil
}

// unpickle reads one pickle from r; persistentLoad may be nil.
func unpickle(r io.Reader, persistentLoad func(any) (any, error)) (any, error) {
	u := pickle.NewUnpickler(r)
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	return u.Load()
}

// entry is one key/value pair of a pickled dict, in pickle order.
type entry struct{ key, value any }

// dictEntries returns the pairs of a dict or OrderedDict.
func dictEntries(v any) ([]entry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		out := make([]entry, 0, d.Len())
		for _, e := range *d {
			out = append(out, entry{e.Key, e.Value})
		}
		return out, true
	case *types.OrderedDict:
		out := make([]entry, 0, d.Len())
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			out = append(out, entry{e.Key, e.Value})
		}
		return out, true
	}
	return nil, false
}

// namedRef is a tensor of the selected state dict.
type namedRef struct {
	name string
	ref  *tensorRef
}

// selectTensors unwraps containers ({"model": sd, ...}) and checks that what remains maps string
// keys to tensors. It marks the storages those tensors need.
func selectTensors(obj any) ([]namedRef, error) {
	entries, ok := dictEntries(obj)
	if !ok {
		return nil, fmt.Errorf("top-level object is %s, not a dict of tensors", pyType(obj))
	}
unwrap:
	for _, ck := range containerKeys {
		for _, e := range entries {
			if e.key == ck {
				if inner, ok := dictEntries(e.value); ok {
					entries = inner
					continue unwrap
				}
			}
		}
	}
	out := make([]namedRef, 0, len(entries))
	for _, e := range entries {
		name, ok := e.key.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %v is %s, not a string", e.key, pyType(e.key))
		}
		ref, ok := e.value.(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("key %q: value is %s, not a tensor", name, pyType(e.value))
		}
		ref.st.needed = true
		out = append(out, namedRef{name, ref})
	}
	return out, nil
}

// materialize builds the tensors once their storages are loaded.
func materialize(refs []namedRef) (StateDict, error) {
	sd := make(StateDict, len(refs))
	for _, r := range refs {
		t, err := r.ref.tensor(r.name)
		if err != nil {
			return nil, err
		}
		sd[r.name] = t
	}
	return sd, nil
}

// tensor gathers the view's elements in row-major order. A view that covers a whole storage
// contiguously takes the storage's slice (the first such view only); others copy.
func (r *tensorRef) tensor(name string) (*Tensor, error) {
	n, err := numElements(r.shape)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	data := r.st.data
	if n == 0 {
		return newTensor(name, r.st.dtype, r.shape, []float32{})
	}
	last := r.offset
	for k, d := range r.shape {
		if r.stride[k] < 0 {
			return nil, fmt.Errorf("key %q: negative stride %v", name, r.stride)
		}
		last += (d - 1) * r.stride[k]
	}
	if r.offset < 0 || last >= len(data) {
		return nil, fmt.Errorf("key %q: view (offset %d, shape %v, stride %v) outside storage %s of %d elements",
			name, r.offset, r.shape, r.stride, r.st.key, len(data))
	}
	if isContiguous(r.shape, r.stride) {
		if r.offset == 0 && n == len(data) && !r.st.handed {
			r.st.handed = true
			return newTensor(name, r.st.dtype, r.shape, data)
		}
		return newTensor(name, r.st.dtype, r.shape, append([]float32(nil), data[r.offset:r.offset+n]...))
	}
	out := make([]float32, n)
	idx := make([]int, len(r.shape))
	pos := r.offset
	for i := range out {
		out[i] = data[pos]
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			pos += r.stride[k]
			if idx[k] < r.shape[k] {
				break
			}
			pos -= r.stride[k] * r.shape[k]
			idx[k] = 0
		}
	}
	return newTensor(name, r.st.dtype, r.shape, out)
}

// isContiguous reports whether stride is the row-major stride of shape (size-1 dims ignored).
func isContiguous(shape, stride []int) bool {
	want := 1
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] != 1 && stride[k] != want {
			return false
		}
		want *= shape[k]
	}
	return true
}

// intTuple converts a pickled tuple of ints.
func intTuple(v any) ([]int, bool) {
	tup, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int, tup.Len())
	for i := range out {
		if out[i], ok = tup.Get(i).(int); !ok {
			return nil, false
		}
	}
	return out, true
}

// pyType names the Python type of an unpickled value for error messages.
func pyType(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a str"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *opaqueObject:
		return "an instance of " + x.class.module + "." + x.class.name
	case *opaqueClass:
		return "the class " + x.module + "." + x.name
	}
	return fmt.Sprintf("a %T", v)
}
