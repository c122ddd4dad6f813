package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func constant(b []byte) func(w io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}

func TestWriteThenOpen(t *testing.T) {
	var buf bytes.Buffer
	f32 := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x3f800000), 0x40000000) // 1, 2
	ts := map[string]Tensor{
		"a/f32":  {DType: "F32", Shape: []int{2}, Data: constant(f32)},
		"b/bool": {DType: "BOOL", Shape: []int{1, 3}, Data: constant([]byte{1, 0, 1})},
		"scalar": {DType: "U64", Shape: []int{}, Data: constant(binary.LittleEndian.AppendUint64(nil, 7))},
	}
	names := []string{"b/bool", "a/f32", "scalar"}
	if err := Write(&buf, names, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(buf.Bytes()); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Metadata, map[string]string{"k": "v"}) || len(f.Entries) != 3 {
		t.Fatalf("metadata %v, %d entries", f.Metadata, len(f.Entries))
	}
	// Data is laid out in the order of names.
	if e := f.Entries["a/f32"]; e.Offsets != [2]int64{3, 11} || e.DType != "F32" || !reflect.DeepEqual(e.Shape, []int{2}) {
		t.Errorf("a/f32 entry %+v", e)
	}
	for name, want := range map[string][]byte{"a/f32": f32, "b/bool": {1, 0, 1}, "scalar": {7, 0, 0, 0, 0, 0, 0, 0}} {
		got := make([]byte, len(want))
		if err := f.Read(name, got); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: read %v (%v), want %v", name, got, err, want)
		}
	}
	if err := f.Read("a/f32", make([]byte, 4)); err == nil {
		t.Error("reading into a buffer of the wrong size succeeded")
	}
}

func TestOpenRejectsBadHeaders(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(b []byte) string {
		n++
		p := filepath.Join(dir, fmt.Sprint(n))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := func(header string, data int) string {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return write(append(append(b, header...), make([]byte, data)...))
	}
	for _, tc := range []struct{ name, path, want string }{
		{"header length", write([]byte{200, 0, 0, 0, 0, 0, 0, 0, '{', '}'}), "bad header length"},
		{"json", file("{x", 0), "safetensors header"},
		{"dtype", file(`{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, 8), `unsupported dtype "C64"`},
		{"size", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12"},
		{"truncated", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`, 8), "outside the 8-byte data section"},
	} {
		f, err := Open(tc.path)
		if err == nil {
			f.Close()
			t.Errorf("%s: no error", tc.name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
}
