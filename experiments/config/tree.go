package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// merge returns a fresh tree: dst with src merged on top (OmegaConf semantics). Mappings merge recursively;
// anything else in src, lists included, replaces the value in dst wholesale.
func merge(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = deepCopy(v)
	}
	for k, sv := range src {
		dm, dok := out[k].(map[string]any)
		sm, sok := sv.(map[string]any)
		if dok && sok {
			out[k] = merge(dm, sm)
		} else {
			out[k] = deepCopy(sv)
		}
	}
	return out
}

// deepCopy copies the mappings and lists of a tree; scalars are immutable and shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// normalize turns what yaml.v3 decodes into a tree: mappings with non-string keys (e.g. "1: x") get their keys
// formatted as strings.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

// parseYAML decodes one YAML document whose top level must be a mapping (an empty document is an empty
// mapping). Errors name the file; yaml.v3 syntax errors carry the line ("yaml: line 3: ...").
func parseYAML(data []byte, file string) (map[string]any, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", file, err)
	}
	var doc any
	if node.Kind != 0 {
		retagScalars(&node, false)
		if err := node.Decode(&doc); err != nil {
			return nil, fmt.Errorf("parsing config %s: %w", file, err)
		}
	}
	switch t := normalize(doc).(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return t, nil
	default:
		return nil, fmt.Errorf("parsing config %s: the top level must be a mapping, got %s", file, kindOf(t))
	}
}

// retagScalars fixes the types of plain (unquoted) scalars before decoding: timestamps such as 2001-12-14 stay
// strings (the tree holds only YAML's JSON-like types) and, when noneIsNull, Python's None is null.
func retagScalars(n *yaml.Node, noneIsNull bool) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch {
		case n.ShortTag() == "!!timestamp":
			n.Tag = "!!str"
		case noneIsNull && n.Value == "None":
			n.Tag, n.Value = "!!null", "null"
		}
	}
	for _, c := range n.Content {
		retagScalars(c, noneIsNull)
	}
}
