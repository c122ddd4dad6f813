package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Decode stores the value at path in the variable dst points to, as encoding/json would from the same tree:
// mapping keys go to the struct fields whose `json` tag names them (the fields of an embedded struct without a
// tag count as the outer struct's), recursively through structs, maps, slices and pointers; a []string also
// accepts one comma-separated string, as MMF does for tasks and datasets; an `any` field takes the subtree as
// is. Fields without a key keep their values, so dst may hold defaults. A key with no field, or a value of the
// wrong kind, is an error naming its full key.
func (c *Config) Decode(path string, dst any) error {
	v, key, err := c.value(path)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config key %s: Decode needs a non-nil pointer, got %T", describe(key), dst)
	}
	return decode(v, key, rv.Elem())
}

var stringListType = reflect.TypeFor[[]string]()

// decode stores the tree value v, found at the full key key, in dst.
func decode(v any, key string, dst reflect.Value) error {
	t := dst.Type()
	switch {
	case t == stringListType:
		l, err := toStringList(v, key)
		if err == nil {
			dst.Set(reflect.ValueOf(l))
		}
		return err
	case t.Kind() == reflect.Interface:
		if v == nil {
			dst.SetZero()
		} else {
			dst.Set(reflect.ValueOf(deepCopy(v)))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v == nil {
			dst.SetZero()
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(t.Elem()))
		}
		return decode(v, key, dst.Elem())
	case reflect.Struct:
		return decodeStruct(v, key, dst)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return typeError(key, "a mapping", v)
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(t, len(m)))
		}
		for _, k := range sortedKeys(m) {
			elem := reflect.New(t.Elem()).Elem()
			if old := dst.MapIndex(reflect.ValueOf(k)); old.IsValid() {
				elem.Set(old)
			}
			if err := decode(m[k], extendKey(key, segment{key: k}), elem); err != nil {
				return err
			}
			dst.SetMapIndex(reflect.ValueOf(k), elem)
		}
		return nil
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return typeError(key, "a list", v)
		}
		out := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			if err := decode(e, fmt.Sprintf("%s[%d]", key, i), out.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return typeError(key, "a string", v)
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return typeError(key, "a boolean", v)
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := toInt(v)
		if !ok || dst.OverflowInt(int64(n)) {
			return typeError(key, "an integer", v)
		}
		dst.SetInt(int64(n))
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := toFloat(v)
		if !ok {
			return typeError(key, "a number", v)
		}
		dst.SetFloat(f)
		return nil
	}
	return fmt.Errorf("config key %s: cannot decode into a Go %s", describe(key), t)
}

// decodeStruct stores the mapping v in the struct dst, key by key.
func decodeStruct(v any, key string, dst reflect.Value) error {
	m, ok := v.(map[string]any)
	if !ok {
		return typeError(key, "a mapping", v)
	}
	fields := map[string][]int{}
	collectFields(dst.Type(), nil, fields)
	for _, k := range sortedKeys(m) {
		full := extendKey(key, segment{key: k})
		index, ok := fields[k]
		if !ok {
			hint := ""
			if near := nearest(k, slices.Sorted(maps.Keys(fields)), 3); len(near) > 0 {
				hint = "; known keys nearest to it: " + strings.Join(near, ", ")
			}
			return fmt.Errorf("config key %s: unknown key, %s has no %q%s", full, describe(key), k, hint)
		}
		if err := decode(m[k], full, dst.FieldByIndex(index)); err != nil {
			return err
		}
	}
	return nil
}

// collectFields records the index path of every json-tagged field of the struct type t (under the index prefix)
// by its key, with the fields of untagged embedded structs as its own unless t has a field of the same key, as
// Go promotes them.
func collectFields(t reflect.Type, prefix []int, fields map[string][]int) {
	promoted := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(slices.Clone(prefix), i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			collectFields(f.Type, index, promoted)
		case name != "" && f.IsExported():
			fields[name] = index
		}
	}
	for name, index := range promoted {
		if _, ok := fields[name]; !ok {
			fields[name] = index
		}
	}
}
