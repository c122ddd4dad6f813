package config

import (
	"reflect"
	"strings"
	"testing"
)

type decodeInner struct {
	Size  int     `json:"size"`
	Ratio float64 `json:"ratio"`
	Name  string  `json:"name"` // shadowed by decodeOuter.Name
}

type decodeHead struct {
	Type   string   `json:"type"`
	LRMul  *float64 `json:"lr_multiplier"`
	Freeze bool     `json:"freeze"`
}

type decodeOuter struct {
	decodeInner
	Name   string                `json:"name"`
	Tasks  []string              `json:"tasks"`
	Mix    map[string]int        `json:"mix"`
	Heads  map[string]decodeHead `json:"heads"`
	Betas  []float64             `json:"betas"`
	Extra  any                   `json:"extra"`
	Unused int                   // no tag: not a key
}

func TestDecodeStoresEveryKindAndKeepsDefaults(t *testing.T) {
	c := &Config{tree: map[string]any{"model_config": map[string]any{"m": map[string]any{
		"size": 5e3, "ratio": 2, "name": "outer", "tasks": "mlm, itm,", "mix": map[string]any{"mlm": 2},
		"heads": map[string]any{"vqa": map[string]any{"type": "mlp", "lr_multiplier": 10}, "itm": map[string]any{}},
		"betas": []any{0.9, 0.98}, "extra": map[string]any{"a": []any{1, "x"}},
	}}}}
	got := decodeOuter{decodeInner: decodeInner{Ratio: 7, Name: "kept"}, Mix: map[string]int{"wra": 0}, Unused: 3}
	if err := c.Decode("model_config.m", &got); err != nil {
		t.Fatal(err)
	}
	ten := 10.0
	want := decodeOuter{
		decodeInner: decodeInner{Size: 5000, Ratio: 2, Name: "kept"}, Name: "outer", Tasks: []string{"mlm", "itm"},
		Mix:   map[string]int{"mlm": 2, "wra": 0},
		Heads: map[string]decodeHead{"vqa": {Type: "mlp", LRMul: &ten}, "itm": {}},
		Betas: []float64{0.9, 0.98}, Extra: map[string]any{"a": []any{1, "x"}}, Unused: 3,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
	// The decoded any is a copy: changing it leaves the configuration alone.
	got.Extra.(map[string]any)["a"].([]any)[0] = 2
	if v, _ := c.Get("model_config.m.extra.a[0]"); v != 1 {
		t.Errorf("Decode shares the tree: extra.a[0] is now %v", v)
	}
}

func TestDecodeErrorsNameTheKey(t *testing.T) {
	c := &Config{tree: map[string]any{"m": map[string]any{
		"sise": 3, "heads": map[string]any{"vqa": map[string]any{"freeze": "yes"}}, "size": 1.5, "tasks": []any{1},
	}}}
	for _, tc := range []struct {
		path string
		dst  any
		want []string
	}{
		{"m", &decodeInner{}, []string{"config key m.heads: unknown key", `no "heads"`}},
		{"m", &struct {
			decodeInner
			Heads map[string]decodeHead `json:"heads"`
		}{}, []string{"config key m.heads.vqa.freeze: want a boolean", "(yes)"}},
		{"m.heads", &map[string]decodeHead{}, []string{"m.heads.vqa.freeze"}},
		{"m.size", new(int), []string{"config key m.size: want an integer, got a float (1.5)"}},
		{"m.tasks", new([]string), []string{"config key m.tasks[0]: want a string"}},
		{"m.sise", new(string), []string{"config key m.sise: want a string"}},
		{"m.nothing", new(int), []string{"unknown config key m.nothing"}},
	} {
		err := c.Decode(tc.path, tc.dst)
		if err == nil {
			t.Errorf("Decode(%s, %T) succeeded", tc.path, tc.dst)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Decode(%s, %T): error %q does not contain %q", tc.path, tc.dst, err, w)
			}
		}
	}
	// A misspelt key names the key it is nearest to.
	err := c.Decode("m", &struct {
		decodeInner
		Heads map[string]any `json:"heads"`
		Tasks []int          `json:"tasks"`
	}{})
	if err == nil || !strings.Contains(err.Error(), "config key m.sise: unknown key") || !strings.Contains(err.Error(), "size") {
		t.Errorf("misspelt key: error %v", err)
	}
}
