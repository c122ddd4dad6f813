package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// override is one parsed key=value assignment.
type override struct {
	text  string // as given, for error messages
	path  []segment
	value any
}

// parseOverride parses "a.b[0].c=value" (mmf_run's dotlist grammar, OmegaConf.from_dotlist in MMF's
// mmf/utils/configuration.py). The key "dataset" is an alias of
// "datasets". See parseValue for the value.
func parseOverride(s string) (override, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return override{}, fmt.Errorf("override %q: want key=value", s)
	}
	k = strings.TrimSpace(k)
	if k == "dataset" {
		k = "datasets"
	}
	segs, err := parsePath(k)
	if err != nil {
		return override{}, fmt.Errorf("override %q: %w", s, err)
	}
	if len(segs) == 0 {
		return override{}, fmt.Errorf("override %q: empty key", s)
	}
	return override{text: s, path: segs, value: parseValue(v)}, nil
}

// parseValue reads an override value as a YAML scalar or flow collection: numbers (8e-5), booleans (true, True,
// FALSE), null/~ and the literal None (also inside flow collections) are typed, quoted strings lose their quotes,
// [a, b] and {k: v} become a list and a mapping. Anything else, or anything that does not parse, stays the raw
// string, so paths and words with spaces or '#' are kept verbatim.
func parseValue(s string) any {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil || len(doc.Content) != 1 {
		return s
	}
	root := doc.Content[0]
	switch {
	case root.Kind == yaml.ScalarNode && root.Style == 0 && root.Value != "None" &&
		(root.ShortTag() == "!!str" || root.ShortTag() == "!!timestamp"):
		return s
	case (root.Kind == yaml.MappingNode || root.Kind == yaml.SequenceNode) && root.Style&yaml.FlowStyle == 0:
		return s
	case root.Kind != yaml.ScalarNode && root.Kind != yaml.MappingNode && root.Kind != yaml.SequenceNode:
		return s
	}
	retagScalars(root, true)
	var v any
	if err := root.Decode(&v); err != nil {
		return s
	}
	return normalize(v)
}

// apply sets the override's key in tree. The key must already exist (MMF applies overrides strictly): an unknown
// key is an error naming the key and the nearest existing siblings; a list index must be in range.
func (o override) apply(tree map[string]any) error {
	parentPath, last := o.path[:len(o.path)-1], o.path[len(o.path)-1]
	parent, err := lookup(tree, parentPath, "")
	if err != nil {
		return fmt.Errorf("override %q: %w", o.text, err)
	}
	parentKey := ""
	for _, s := range parentPath {
		parentKey = extendKey(parentKey, s)
	}
	// lookup checks the last segment too and reports a missing key, a bad index or a wrong container type.
	if _, err := lookup(parent, []segment{last}, parentKey); err != nil {
		return fmt.Errorf("override %q: %w", o.text, err)
	}
	if last.isIndex {
		parent.([]any)[last.index] = deepCopy(o.value)
	} else {
		parent.(map[string]any)[last.key] = deepCopy(o.value)
	}
	return nil
}
