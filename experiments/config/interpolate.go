package config

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// resolve returns a copy of root with every interpolation in string values replaced (OmegaConf's resolution, the last step of MMF's
// mmf/utils/configuration.py):
//
//	${a.b[0].c}            the value at that key (itself resolved); a string that is only this takes its type
//	${env:NAME,default}    the environment variable NAME if set and non-empty, else default (itself a template)
//
// Text around interpolations makes the result a string; inserted values must then be scalars.
func resolve(root map[string]any) (map[string]any, error) {
	r := resolver{root: root}
	out, err := r.value(root, "", nil)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// resolver resolves interpolations against the unresolved tree root.
type resolver struct {
	root map[string]any
}

// value returns v (at full key) with its interpolations resolved; stack holds the keys whose strings are being
// expanded, to detect reference cycles.
func (r resolver) value(v any, key string, stack []string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			rv, err := r.value(e, extendKey(key, segment{key: k}), stack)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			rv, err := r.value(e, extendKey(key, segment{index: i, isIndex: true}), stack)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case string:
		if !strings.Contains(t, "${") {
			return t, nil
		}
		if slices.Contains(stack, key) {
			return nil, fmt.Errorf("config key %s: interpolation cycle %s -> %s", key, strings.Join(stack, " -> "), key)
		}
		return r.expand(t, key, append(slices.Clone(stack), key))
	}
	return v, nil
}

// expand resolves the template s found at key.
func (r resolver) expand(s, key string, stack []string) (any, error) {
	var sb strings.Builder
	for rest := s; ; {
		start := strings.Index(rest, "${")
		if start < 0 {
			sb.WriteString(rest)
			break
		}
		end, err := closingBrace(rest, start+2)
		if err != nil {
			return nil, fmt.Errorf("config key %s: interpolation in %q: %w", key, s, err)
		}
		v, err := r.expr(rest[start+2:end], key, stack)
		if err != nil {
			return nil, err
		}
		if start == 0 && end == len(s)-1 && rest == s {
			return v, nil // the whole string is one interpolation: keep the value's type
		}
		text, err := scalarText(v)
		if err != nil {
			return nil, fmt.Errorf("config key %s: inserting ${%s} into %q: %w", key, rest[start+2:end], s, err)
		}
		sb.WriteString(rest[:start])
		sb.WriteString(text)
		rest = rest[end+1:]
	}
	return sb.String(), nil
}

// closingBrace returns the index of the '}' closing the interpolation whose body starts at from, allowing nested
// ${...} in it.
func closingBrace(s string, from int) (int, error) {
	depth := 1
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed ${")
}

// expr evaluates the body of one ${...}.
func (r resolver) expr(body, key string, stack []string) (any, error) {
	body = strings.TrimSpace(body)
	if spec, ok := strings.CutPrefix(body, "env:"); ok {
		name, def, hasDef := strings.Cut(spec, ",")
		if v := os.Getenv(strings.TrimSpace(name)); v != "" {
			return v, nil
		}
		if !hasDef {
			return nil, fmt.Errorf("config key %s: ${%s}: environment variable %s is not set and has no default",
				key, body, strings.TrimSpace(name))
		}
		return r.expand(strings.TrimSpace(def), key, stack)
	}
	segs, err := parsePath(body)
	if err != nil || len(segs) == 0 {
		return nil, fmt.Errorf("config key %s: bad interpolation ${%s}", key, body)
	}
	target, err := lookup(r.root, segs, "")
	if err != nil {
		return nil, fmt.Errorf("config key %s: resolving ${%s}: %w", key, body, err)
	}
	full := ""
	for _, s := range segs {
		full = extendKey(full, s)
	}
	return r.value(target, full, stack)
}

// scalarText formats a resolved scalar for insertion into a string.
func scalarText(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case int, int64, uint64:
		return fmt.Sprint(t), nil
	}
	return "", fmt.Errorf("cannot insert %s into a string", kindOf(v))
}
