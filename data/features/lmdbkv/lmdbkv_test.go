package lmdbkv

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteOpenGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	recs := [][2]string{{"b", "2"}, {"a", "1"}, {"c", ""}}
	if err := Write(dir, len(recs), func(i int) (string, []byte, error) {
		return recs[i][0], []byte(recs[i][1]), nil
	}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.Keys()
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "b", "c"}) {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	var got string
	found, err := s.Get("b", func(v []byte) error { got = string(v); return nil })
	if !found || err != nil || got != "2" {
		t.Errorf("Get(b) = %q, %v, %v", got, found, err)
	}
	if found, err := s.Get("zz", func([]byte) error { t.Error("called for a missing key"); return nil }); found || err != nil {
		t.Errorf("Get(zz) = %v, %v", found, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a", func([]byte) error { return nil }); err == nil {
		t.Errorf("Get after Close succeeded")
	}
	if _, err := Open(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Open of a missing dir: %v", err)
	}
}
