// Package config loads UNITER experiment configurations with MMF's semantics (mmf/utils/configuration.py): built-in defaults,
// model defaults, dataset defaults, a user YAML (with recursive includes) and key=value overrides, merged in that
// order, then ${...} interpolations resolved. Mappings merge recursively and lists are replaced wholesale.
//
// The canonical default files are embedded (defaults/ in this package), so a binary works from any directory;
// every key the runner reads is documented in defaults/defaults.yaml, defaults/models/*/defaults.yaml and
// defaults/datasets/*/defaults.yaml.
package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrMissingKey is wrapped by every error about a key that is not in the configuration, so callers can tell an
// absent optional key from a present one with a wrong type.
var ErrMissingKey = errors.New("unknown config key")

// Config is a read-only view of a configuration tree made of map[string]any, []any and YAML scalars (string, int,
// float64, bool, nil). Errors name keys by their full dotted path from the root of the loaded configuration,
// also for a Config obtained with Sub.
type Config struct {
	tree   any
	prefix string // full key of tree, "" at the root
}

// Get returns a copy of the value at path (dotted keys and [i] list indices, e.g. "a.b[0].c"; "" is the whole
// tree) and whether it exists.
func (c *Config) Get(path string) (any, bool) {
	v, _, err := c.value(path)
	if err != nil {
		return nil, false
	}
	return deepCopy(v), true
}

// String returns the string at path.
func (c *Config) String(path string) (string, error) {
	v, key, err := c.value(path)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", typeError(key, "a string", v)
	}
	return s, nil
}

// Int returns the integer at path; a float with an integral value is accepted (YAML reads 5e3 as a float).
func (c *Config) Int(path string) (int, error) {
	v, key, err := c.value(path)
	if err != nil {
		return 0, err
	}
	n, ok := toInt(v)
	if !ok {
		return 0, typeError(key, "an integer", v)
	}
	return n, nil
}

// Float returns the number at path as a float64 (integers are accepted).
func (c *Config) Float(path string) (float64, error) {
	v, key, err := c.value(path)
	if err != nil {
		return 0, err
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, typeError(key, "a number", v)
	}
	return f, nil
}

// Bool returns the boolean at path (YAML true/True/TRUE/false/...).
func (c *Config) Bool(path string) (bool, error) {
	v, key, err := c.value(path)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, typeError(key, "a boolean", v)
	}
	return b, nil
}

// StringList returns the strings at path, given either as a list of strings or, as MMF accepts for tasks and
// datasets, as one comma-separated string (spaces around items and empty items are dropped).
func (c *Config) StringList(path string) ([]string, error) {
	v, key, err := c.value(path)
	if err != nil {
		return nil, err
	}
	return toStringList(v, key)
}

// FloatList returns the list of numbers at path (e.g. optimizer.params.betas).
func (c *Config) FloatList(path string) ([]float64, error) {
	v, key, err := c.value(path)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, typeError(key, "a list of numbers", v)
	}
	out := make([]float64, len(l))
	for i, e := range l {
		f, ok := toFloat(e)
		if !ok {
			return nil, typeError(fmt.Sprintf("%s[%d]", key, i), "a number", e)
		}
		out[i] = f
	}
	return out, nil
}

// Keys returns the sorted keys of the mapping at path (e.g. the task names under model_config.uniter.heads).
func (c *Config) Keys(path string) ([]string, error) {
	v, key, err := c.value(path)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeError(key, "a mapping", v)
	}
	return sortedKeys(m), nil
}

// Sub returns the mapping or list at path as a Config whose errors still name full keys.
func (c *Config) Sub(path string) (*Config, error) {
	v, key, err := c.value(path)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case map[string]any, []any:
		return &Config{tree: v, prefix: key}, nil
	}
	return nil, typeError(key, "a mapping or a list", v)
}

// YAML returns the configuration as YAML (keys sorted), e.g. to save the effective configuration of a run;
// loading it back with LoadOptions.Config reproduces the same configuration.
func (c *Config) YAML() ([]byte, error) {
	out, err := yaml.Marshal(floatsForYAML(c.tree))
	if err != nil {
		return nil, fmt.Errorf("writing config %s as YAML: %w", describe(c.prefix), err)
	}
	return out, nil
}

// yamlFloat is a float64 that marshals so that it reads back as a float: yaml.v3 writes 2.0 as "2", an integer.
type yamlFloat float64

// MarshalYAML implements yaml.Marshaler.
func (f yamlFloat) MarshalYAML() (any, error) {
	v := float64(f)
	var s string
	switch {
	case math.IsNaN(v):
		s = ".nan"
	case math.IsInf(v, 0):
		s = map[bool]string{true: ".inf", false: "-.inf"}[v > 0]
	default:
		s = strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}, nil
}

// floatsForYAML returns a copy of a tree with its float64 values as yamlFloat.
func floatsForYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = floatsForYAML(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = floatsForYAML(e)
		}
		return out
	case float64:
		return yamlFloat(t)
	}
	return v
}

// value looks path up and returns the value and its full key.
func (c *Config) value(path string) (any, string, error) {
	segs, err := parsePath(path)
	if err != nil {
		return nil, "", err
	}
	key := c.prefix
	for _, s := range segs {
		key = extendKey(key, s)
	}
	v, err := lookup(c.tree, segs, c.prefix)
	return v, key, err
}

// segment is one step of a key path: a mapping key or, when isIndex, a list index.
type segment struct {
	key     string
	index   int
	isIndex bool
}

// parsePath splits "a.b[0].c" into segments; "" is the empty path (the whole tree).
func parsePath(path string) ([]segment, error) {
	var segs []segment
	afterDot := false
	for i := 0; i < len(path); {
		switch path[i] {
		case '[':
			if afterDot {
				return nil, fmt.Errorf("key path %q: list index after '.'", path)
			}
			j := strings.IndexByte(path[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("key path %q: unclosed '['", path)
			}
			n, err := parseIndex(path[i+1 : i+j])
			if err != nil {
				return nil, fmt.Errorf("key path %q: %w", path, err)
			}
			segs = append(segs, segment{index: n, isIndex: true})
			i += j + 1
		case '.':
			if len(segs) == 0 || afterDot {
				return nil, fmt.Errorf("key path %q: empty key", path)
			}
			afterDot = true
			i++
			continue
		case ']':
			return nil, fmt.Errorf("key path %q: unexpected ']'", path)
		default:
			if len(segs) > 0 && !afterDot {
				return nil, fmt.Errorf("key path %q: missing '.' before %q", path, path[i:])
			}
			j := i
			for j < len(path) && !strings.ContainsRune(".[]", rune(path[j])) {
				j++
			}
			segs = append(segs, segment{key: path[i:j]})
			i = j
		}
		afterDot = false
	}
	if afterDot {
		return nil, fmt.Errorf("key path %q: empty key", path)
	}
	return segs, nil
}

// parseIndex parses the decimal list index between brackets.
func parseIndex(s string) (int, error) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("bad list index [%s]", s)
	}
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// extendKey appends one segment to a full key.
func extendKey(key string, s segment) string {
	switch {
	case s.isIndex:
		return fmt.Sprintf("%s[%d]", key, s.index)
	case key == "":
		return s.key
	}
	return key + "." + s.key
}

// lookup walks segs down from node, whose full key is base. A missing mapping key gives an error wrapping
// ErrMissingKey that names the key and the nearest existing sibling keys.
func lookup(node any, segs []segment, base string) (any, error) {
	cur, at := node, base
	for _, s := range segs {
		next := extendKey(at, s)
		if s.isIndex {
			l, ok := cur.([]any)
			if !ok {
				return nil, fmt.Errorf("config key %s: %s is %s, not a list", next, describe(at), kindOf(cur))
			}
			if s.index >= len(l) {
				return nil, fmt.Errorf("%w %s: index %d out of range (%s has %d items)",
					ErrMissingKey, next, s.index, describe(at), len(l))
			}
			cur = l[s.index]
		} else {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config key %s: %s is %s, not a mapping", next, describe(at), kindOf(cur))
			}
			v, ok := m[s.key]
			if !ok {
				return nil, unknownKeyError(next, at, s.key, m)
			}
			cur = v
		}
		at = next
	}
	return cur, nil
}

// unknownKeyError reports a key missing from mapping m (at full key parent), suggesting the siblings nearest in
// edit distance.
func unknownKeyError(key, parent, name string, m map[string]any) error {
	near := nearest(name, sortedKeys(m), 3)
	hint := fmt.Sprintf("%s has no keys", describe(parent))
	if len(near) > 0 {
		full := make([]string, len(near))
		for i, n := range near {
			full[i] = extendKey(parent, segment{key: n})
		}
		hint = "did you mean " + strings.Join(full, ", ") + "?"
	}
	return fmt.Errorf("%w %s: no %q in %s; %s", ErrMissingKey, key, name, describe(parent), hint)
}

// nearest returns up to n candidates closest to name in Levenshtein distance, ties in candidate order.
func nearest(name string, candidates []string, n int) []string {
	type scored struct {
		s string
		d int
	}
	sc := make([]scored, len(candidates))
	for i, c := range candidates {
		sc[i] = scored{c, levenshtein(name, c)}
	}
	slices.SortStableFunc(sc, func(a, b scored) int { return a.d - b.d })
	out := make([]string, 0, n)
	for i := 0; i < len(sc) && i < n; i++ {
		out = append(out, sc[i].s)
	}
	return out
}

// levenshtein is the edit distance (insertions, deletions, substitutions of bytes) between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// toStringList converts a list of strings or a comma-separated string at key to a []string.
func toStringList(v any, key string) ([]string, error) {
	switch t := v.(type) {
	case string:
		var out []string
		for _, p := range strings.Split(t, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case []any:
		out := make([]string, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, typeError(fmt.Sprintf("%s[%d]", key, i), "a string", e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, typeError(key, "a list of strings or a comma-separated string", v)
}

// toInt converts a YAML integer, or a float with an integral value, to int.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		if n >= math.MinInt && n <= math.MaxInt {
			return int(n), true
		}
	case uint64:
		if n <= math.MaxInt {
			return int(n), true
		}
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= 1<<53 {
			return int(n), true
		}
	}
	return 0, false
}

// toFloat converts a YAML number to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// typeError reports a value of the wrong type at key.
func typeError(key, want string, v any) error {
	return fmt.Errorf("config key %s: want %s, got %s %s", key, want, kindOf(v), brief(v))
}

// brief renders a value for an error message, shortened.
func brief(v any) string {
	s := fmt.Sprintf("%v", v)
	if v == nil {
		s = "null"
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return "(" + s + ")"
}

// kindOf names the YAML kind of v.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64:
		return "an integer"
	case float64:
		return "a float"
	}
	return fmt.Sprintf("a %T", v)
}

// describe names a full key for messages, "the top level" for the root.
func describe(key string) string {
	if key == "" {
		return "the top level"
	}
	return key
}

// sortedKeys returns the keys of m in sorted order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
