package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// testConfig builds a Config from YAML text.
func testConfig(t *testing.T, text string) *Config {
	t.Helper()
	tree, err := parseYAML([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &Config{tree: tree}
}

const getterYAML = `
a:
  s: hello
  date: 2001-12-14
  i: 3
  big: 5e3
  f: 0.5
  b: True
  n: null
  list: [x, y]
  comma: "mlm, itm,,mrc "
  nums: [0.9, 1]
  nested: [{k: 1}, {k: 2}]
  floats: [2.0, -3.0, 1e-12, 8e-5, 1e300, .inf, -.inf]
`

func TestGetters(t *testing.T) {
	c := testConfig(t, getterYAML)
	if s, err := c.String("a.s"); err != nil || s != "hello" {
		t.Errorf("String(a.s) = %q, %v", s, err)
	}
	if s, err := c.String("a.date"); err != nil || s != "2001-12-14" {
		t.Errorf("String(a.date) = %q, %v (timestamps stay strings)", s, err)
	}
	if i, err := c.Int("a.i"); err != nil || i != 3 {
		t.Errorf("Int(a.i) = %d, %v", i, err)
	}
	if i, err := c.Int("a.big"); err != nil || i != 5000 {
		t.Errorf("Int(a.big) = %d, %v", i, err)
	}
	if f, err := c.Float("a.i"); err != nil || f != 3 {
		t.Errorf("Float(a.i) = %g, %v", f, err)
	}
	if f, err := c.Float("a.f"); err != nil || f != 0.5 {
		t.Errorf("Float(a.f) = %g, %v", f, err)
	}
	if b, err := c.Bool("a.b"); err != nil || !b {
		t.Errorf("Bool(a.b) = %v, %v", b, err)
	}
	if l, err := c.StringList("a.list"); err != nil || !reflect.DeepEqual(l, []string{"x", "y"}) {
		t.Errorf("StringList(a.list) = %q, %v", l, err)
	}
	if l, err := c.StringList("a.comma"); err != nil || !reflect.DeepEqual(l, []string{"mlm", "itm", "mrc"}) {
		t.Errorf("StringList(a.comma) = %q, %v", l, err)
	}
	if l, err := c.FloatList("a.nums"); err != nil || !reflect.DeepEqual(l, []float64{0.9, 1}) {
		t.Errorf("FloatList(a.nums) = %v, %v", l, err)
	}
	if i, err := c.Int("a.nested[1].k"); err != nil || i != 2 {
		t.Errorf("Int(a.nested[1].k) = %d, %v", i, err)
	}
	if v, ok := c.Get("a.n"); !ok || v != nil {
		t.Errorf("Get(a.n) = %v, %v; want nil, true", v, ok)
	}
	if _, ok := c.Get("a.missing"); ok {
		t.Error("Get(a.missing) found a value")
	}
	keys, err := c.Keys("a")
	if err != nil || !reflect.DeepEqual(keys, []string{"b", "big", "comma", "date", "f", "floats", "i", "list", "n", "nested", "nums", "s"}) {
		t.Errorf("Keys(a) = %q, %v", keys, err)
	}
}

func TestGetReturnsCopy(t *testing.T) {
	c := testConfig(t, getterYAML)
	v, _ := c.Get("a.list")
	v.([]any)[0] = "changed"
	if s, _ := c.String("a.list[0]"); s != "x" {
		t.Errorf("mutating Get's result changed the config: a.list[0] = %q", s)
	}
}

func TestGetterErrors(t *testing.T) {
	c := testConfig(t, getterYAML)
	cases := []struct {
		name string
		call func() error
		want []string
	}{
		{"string of int", func() error { _, err := c.String("a.i"); return err }, []string{"a.i", "want a string", "an integer"}},
		{"int of float", func() error { _, err := c.Int("a.f"); return err }, []string{"a.f", "want an integer"}},
		{"int of null", func() error { _, err := c.Int("a.n"); return err }, []string{"a.n", "null"}},
		{"bool of string", func() error { _, err := c.Bool("a.s"); return err }, []string{"a.s", "want a boolean"}},
		{"list item", func() error { _, err := c.StringList("a.nums"); return err }, []string{"a.nums[0]", "want a string"}},
		{"missing", func() error { _, err := c.Int("a.ii"); return err }, []string{"a.ii", `did you mean a.i`}},
		{"index range", func() error { _, err := c.String("a.list[2]"); return err }, []string{"a.list[2]", "out of range"}},
		{"not a list", func() error { _, err := c.String("a.s[0]"); return err }, []string{"a.s[0]", "not a list"}},
		{"bad path", func() error { _, err := c.String("a..s"); return err }, []string{"a..s", "empty key"}},
		{"sub of scalar", func() error { _, err := c.Sub("a.s"); return err }, []string{"a.s", "mapping or a list"}},
	}
	for _, tc := range cases {
		err := tc.call()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	if _, err := c.Int("a.ii"); !errors.Is(err, ErrMissingKey) {
		t.Errorf("missing key error %v does not wrap ErrMissingKey", err)
	}
	if _, err := c.Int("a.s"); errors.Is(err, ErrMissingKey) {
		t.Errorf("type error %v wraps ErrMissingKey", err)
	}
}

func TestSubNamesFullKeys(t *testing.T) {
	c := testConfig(t, getterYAML)
	sub, err := c.Sub("a.nested[0]")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := sub.Int("k"); err != nil || k != 1 {
		t.Errorf("Sub(a.nested[0]).Int(k) = %d, %v", k, err)
	}
	_, err = sub.String("k")
	if err == nil || !strings.Contains(err.Error(), "a.nested[0].k") {
		t.Errorf("Sub error %v does not name the full key a.nested[0].k", err)
	}
	list, err := c.Sub("a.list")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := list.String("[1]"); err != nil || s != "y" {
		t.Errorf("Sub(a.list).String([1]) = %q, %v", s, err)
	}
}

func TestParsePath(t *testing.T) {
	segs, err := parsePath("dataset_config.vqa2.annotations.train[0][12].x")
	if err != nil {
		t.Fatal(err)
	}
	want := []segment{{key: "dataset_config"}, {key: "vqa2"}, {key: "annotations"}, {key: "train"},
		{index: 0, isIndex: true}, {index: 12, isIndex: true}, {key: "x"}}
	if !reflect.DeepEqual(segs, want) {
		t.Errorf("parsePath = %+v, want %+v", segs, want)
	}
	for _, bad := range []string{".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a]", "a[0]b", "a.[0]"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q): no error", bad)
		}
	}
}

func TestNearest(t *testing.T) {
	got := nearest("batchsize", []string{"seed", "batch_size", "max_updates", "fp16"}, 2)
	if !reflect.DeepEqual(got, []string{"batch_size", "seed"}) {
		t.Errorf("nearest = %q", got)
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein(kitten, sitting) = %d, want 3", d)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := testConfig(t, getterYAML)
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(back), c.tree) {
		t.Errorf("YAML round trip differs:\n%s", out)
	}
}
