package pydata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// python returns Debian's python3 with numpy, or skips the test.
func python(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy is not available: %v", py, err)
	}
	return py
}

// canonical mirrors canon() of testdata/pyjson.py.
func canonical(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int64:
		return map[string]any{"int": strconv.FormatInt(x, 10)}
	case float64:
		return map[string]any{"float": pyFloatRepr(x)}
	case Bytes:
		return map[string]any{"bytes": fmt.Sprintf("%x", string(x))}
	case *Dict:
		var items []any
		for i, k := range x.keys {
			items = append(items, []any{canonical(t, k), canonical(t, x.vals[i])})
		}
		return map[string]any{"dict": items}
	case *List:
		return map[string]any{"list": canonList(t, *x)}
	case Tuple:
		return map[string]any{"tuple": canonList(t, x)}
	case *Set:
		var ss []string
		for _, e := range *x {
			b, _ := json.Marshal(canonical(t, e))
			ss = append(ss, string(b))
		}
		slices.Sort(ss)
		return map[string]any{"set": ss}
	case *Array:
		var vals []any
		switch {
		case x.Dtype == ObjectDtype:
			vals = canonList(t, x.Objects)
		case strings.HasPrefix(x.Dtype, "|S"):
			s, _ := x.Strings()
			for _, e := range s {
				vals = append(vals, canonical(t, Bytes(e)))
			}
		case strings.HasPrefix(x.Dtype, "<U"):
			s, _ := x.Strings()
			for _, e := range s {
				vals = append(vals, e)
			}
		default:
			if !x.IsNumeric() {
				t.Fatalf("array %v is not numeric", x)
			}
			for i := 0; i < x.Size(); i++ {
				f := x.At(i)
				switch x.Dtype[1] {
				case 'f':
					vals = append(vals, canonical(t, f))
				case 'b':
					vals = append(vals, f != 0)
				default:
					vals = append(vals, map[string]any{"int": strconv.FormatFloat(f, 'f', 0, 64)})
				}
			}
		}
		if vals == nil {
			vals = []any{}
		}
		return map[string]any{"array": x.Dtype, "shape": x.Shape, "values": vals}
	}
	t.Fatalf("no canonical form for %T", v)
	return nil
}

func canonList(t *testing.T, xs []any) []any {
	out := []any{}
	for _, x := range xs {
		out = append(out, canonical(t, x))
	}
	return out
}

// pyFloatRepr is Python's repr of a float.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 16 {
		if !strings.Contains(mant, ".") {
			return mant + "e" + fmt.Sprintf("%+03d", x)
		}
		return mant + "e" + fmt.Sprintf("%+03d", x)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// jsonNormal round-trips v through JSON so that Go-built and Python-written values compare with DeepEqual.
func jsonNormal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReadPythonWritten(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	out, err := exec.Command(py, "testdata/pyjson.py", "write", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("pyjson.py write: %v\n%s", err, out)
	}
	var expected map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	check := func(name string, got any) {
		t.Helper()
		if g := jsonNormal(t, canonical(t, got)); !reflect.DeepEqual(g, expected[name]) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(expected[name])
			t.Errorf("%s:\n got %s\nwant %s", name, gb, wb)
		}
	}
	for _, proto := range []int{2, 3, 4, 5} {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("sample_p%d.pkl", proto)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := Unpickle(data)
		if err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		check("sample", v)
	}
	for _, name := range []string{"imdb_list", "imdb_dict", "numeric", "info"} {
		a, err := ReadNPY(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		check(name, a)
	}
}

func TestPythonReadsGoWritten(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	d := NewDict()
	d.Set("features", Float32Array("<f4", []int{2, 3}, []float32{1, 2, 3, 4, 5, 0.1}))
	d.Set("bbox", Float32Array("<f4", []int{2, 4}, []float32{0, 0, 10, 10, 1, 2, 3, 4}))
	d.Set("image_width", 640)
	d.Set("objects", Int64Array([]int{2}, []int64{3, 1 << 40}))
	d.Set("feature_path", "COCO_val2014_000000000042")
	d.Set("half", Float32Array("<f2", []int{1}, []float32{1.5}))
	d.Set("u1", &Array{Dtype: "|u1", Shape: []int{2}, Data: []byte{0, 255}})
	d.Set("ok", true)
	d.Set(int64(-7), Tuple{1.5, nil, "é"})
	d.Set("keys", []any{Bytes("9"), Bytes("10")})
	d.Set("big", int64(-1)<<40)
	values := []any{d, ObjectArray(map[string]any{"version": 1}, map[string]any{"image_id": 9, "answers": []string{"a", "b"}})}
	var paths []string
	for i, v := range values {
		p, err := Pickle(v)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("v%d.pkl", i))
		os.WriteFile(path, p, 0o644)
		paths = append(paths, path)
	}
	npy, err := EncodeObjectNPY(values[1].(*Array))
	if err != nil {
		t.Fatal(err)
	}
	npyPath := filepath.Join(dir, "imdb.npy")
	os.WriteFile(npyPath, npy, 0o644)
	paths = append(paths, npyPath)
	values = append(values, values[1])
	out, err := exec.Command(py, append([]string{"testdata/pyjson.py", "read"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("pyjson.py read: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(values) {
		t.Fatalf("python printed %d lines, want %d", len(lines), len(values))
	}
	for i, line := range lines {
		var got any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		// Go-side canonical form: map[string]any pickles as a dict with sorted keys, ints as int64.
		v, err := Unpickle(must(Pickle(values[i])))
		if err != nil {
			t.Fatal(err)
		}
		if want := jsonNormal(t, canonical(t, v)); !reflect.DeepEqual(got, want) {
			wb, _ := json.Marshal(want)
			t.Errorf("%s as Python reads it:\n got %s\nwant %s", paths[i], line, wb)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestUnpickleRejects(t *testing.T) {
	for name, p := range map[string]string{
		"os.system":        "\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
		"truncated":        "\x80\x03X\x10\x00\x00\x00abc",
		"no stop":          "\x80\x03K\x01",
		"odd setitems":     "\x80\x03}(K\x01u.",
		"memo miss":        "\x80\x03h\x05.",
		"underflow":        "\x80\x03a.",
		"huge length":      "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.",
		"persistent id":    "\x80\x03K\x01Q.",
		"mark left open":   "\x80\x03(K\x01.",
		"bad array state":  "\x80\x03cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87RK\x01b.",
		"unhashable key":   "\x80\x03}]K\x01s.",
		"protocol 9":       "\x80\x09N.",
		"empty":            "",
		"append to a dict": "\x80\x03}K\x01a.",
	} {
		if v, err := Unpickle([]byte(p)); err == nil {
			t.Errorf("%s: decoded %v, want an error", name, v)
		}
	}
}

func TestParseNPYRejects(t *testing.T) {
	good := EncodeNPY(Float32Array("<f4", []int{2, 2}, []float32{1, 2, 3, 4}))
	obj, _ := EncodeObjectNPY(ObjectArray("a", "b"))
	for name, b := range map[string][]byte{
		"truncated data":    good[:len(good)-1],
		"truncated header":  good[:20],
		"bad magic":         append([]byte("xNUMPY"), good[6:]...),
		"truncated object":  obj[:len(obj)-3],
		"big-endian":        bytes.Replace(good, []byte("'<f4'"), []byte("'>f4'"), 1),
		"structured":        bytes.Replace(good, []byte("'<f4'"), []byte("[('a', '<f4')]"), 1),
		"object shape lies": bytes.Replace(obj, []byte("(2,)"), []byte("(3,)"), 1),
	} {
		if a, err := ParseNPY(b); err == nil {
			t.Errorf("%s: decoded %v, want an error", name, a)
		}
	}
	if a, err := ParseNPY(good); err != nil || a.Size() != 4 {
		t.Errorf("good array: %v, %v", a, err)
	}
}

func TestPyFloatRepr(t *testing.T) {
	for f, want := range map[float64]string{0.1: "0.1", 3: "3.0", 1e16: "1e+16", 1e-5: "1e-05", 1.5e-300: "1.5e-300",
		123456789012345.0: "123456789012345.0", math.Copysign(0, -1): "-0.0"} {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", f, got, want)
		}
	}
}
