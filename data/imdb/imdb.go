// Package imdb reads MMF's annotation databases (MMF mmf/datasets/databases/annotation_database.py): the
// imdb_*.npy files (a NumPy object array of dicts, whose first element is a metadata dict when it has no
// image_id, or a 0-d array holding {"metadata", "data"}), the .json files ({"metadata": …, "data": [...]}) and
// the .jsonl files (one dict per line). The format is read from the file's content, not its name.
package imdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/data/pydata"
)

// Format is the layout of an annotation file, as Sniff finds it.
type Format int

// The layouts Sniff tells apart.
const (
	Unknown        Format = iota
	NPY                   // MMF imdb .npy
	JSON                  // MMF {"metadata", "data"} JSON
	JSONL                 // MMF one-dict-per-line JSON
	VQAQuestions          // official VQA questions JSON ({"questions": [...]})
	VQAAnnotations        // official VQA annotations JSON ({"annotations": [... question_id ...]})
	COCOCaptions          // COCO captions JSON ({"images", "annotations"})
	Karpathy              // Karpathy's dataset_coco.json ({"images": [... sentences ...], "dataset"})
)

var formatNames = []string{"unknown", "MMF imdb .npy", "MMF annotation JSON", "MMF annotation JSONL",
	"official VQA questions JSON", "official VQA annotations JSON", "COCO captions JSON", "Karpathy split JSON"}

func (f Format) String() string { return formatNames[f] }

// DB is one annotation database.
type DB struct {
	Path     string
	Metadata map[string]any
	Entries  []Entry
}

// Entry is one item of a database: a question (VQA) or an image with its captions (COCO). Its values are those
// of data/pydata (strings, int64, *pydata.List, …), whichever format the file has.
type Entry struct {
	Index  int // position among the database's items (after a leading metadata item), for messages
	fields map[string]any
}

// Sniff finds the layout of an annotation file from its content: the .npy magic, or the top-level keys of a JSON
// object (more than one object: JSONL). For a file it does not know, the error says in one line what it found.
func Sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return Unknown, fmt.Errorf("reading annotations %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(6)
	if string(head) == "\x93NUMPY" {
		return NPY, nil
	}
	keys, more, err := topLevelKeys(br)
	if err != nil {
		return Unknown, fmt.Errorf("reading annotations %s: not a .npy file nor JSON: %w", path, err)
	}
	has := func(k string) bool { return slices.Contains(keys, k) }
	switch {
	case more:
		return JSONL, nil
	case has("data"):
		return JSON, nil
	case has("questions"):
		return VQAQuestions, nil
	case has("annotations") && has("images"):
		return COCOCaptions, nil
	case has("annotations"):
		return VQAAnnotations, nil
	case has("images") && has("dataset"):
		return Karpathy, nil
	case has("image_id") || has("question_id"):
		return JSONL, nil // a single-line JSONL database
	}
	return Unknown, fmt.Errorf("reading annotations %s: a JSON object with keys %v: not an MMF annotation "+
		"database (.npy, {\"metadata\", \"data\"} JSON, JSONL) nor an official VQA or COCO file", path, keys)
}

// topLevelKeys scans a JSON document and returns the keys of its top-level object, and whether another value
// follows it (JSONL).
func topLevelKeys(r *bufio.Reader) ([]string, bool, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false, fmt.Errorf("the document is a %v, not an object", tok)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		keys = append(keys, fmt.Sprint(k))
		if err := skipValue(dec); err != nil {
			return nil, false, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	_, err = dec.Token()
	return keys, err == nil, nil
}

// skipValue consumes one JSON value token by token.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// Read reads an MMF annotation database of any of the three formats.
func Read(path string) (*DB, error) {
	format, err := Sniff(path)
	if err != nil {
		return nil, err
	}
	db := &DB{Path: path, Metadata: map[string]any{}}
	var items []any
	switch format {
	case NPY:
		items, err = db.readNPY()
	case JSON, JSONL:
		items, err = db.readJSON(format == JSONL)
	default:
		return nil, fmt.Errorf("reading annotations %s: this is an %s, not an MMF annotation database", path, format)
	}
	if err != nil {
		return nil, fmt.Errorf("reading annotations %s: %w", path, err)
	}
	for i, it := range items {
		d, ok := it.(*pydata.Dict)
		if !ok {
			return nil, fmt.Errorf("reading annotations %s: item %d is a %s, not a dict", path, i, pydata.TypeName(it))
		}
		db.Entries = append(db.Entries, Entry{Index: i, fields: dictFields(d)})
	}
	if len(db.Entries) == 0 {
		return nil, fmt.Errorf("reading annotations %s: the database is empty", path)
	}
	return db, nil
}

// readNPY decodes an imdb .npy: a 1-d object array whose first item is metadata when it has no image_id (MMF's
// start_idx), or a 0-d object array holding {"metadata": …, "data": [...]}.
func (db *DB) readNPY() ([]any, error) {
	a, err := pydata.ReadNPY(db.Path)
	if err != nil {
		return nil, err
	}
	if a.Dtype != pydata.ObjectDtype {
		return nil, fmt.Errorf("a numeric array %v, not an object array of dicts", a)
	}
	if len(a.Shape) == 0 {
		d, ok := a.Objects[0].(*pydata.Dict)
		if !ok {
			return nil, fmt.Errorf("a 0-d object array holding a %s, not a dict", pydata.TypeName(a.Objects[0]))
		}
		return db.metadataAndData(d)
	}
	if len(a.Shape) != 1 {
		return nil, fmt.Errorf("an object array of shape %v, want one dimension", a.Shape)
	}
	items := a.Objects
	if len(items) > 0 {
		if d, ok := items[0].(*pydata.Dict); ok {
			if _, has := d.Get("image_id"); !has {
				db.Metadata = dictFields(d)
				items = items[1:]
			}
		}
	}
	return items, nil
}

// metadataAndData splits a {"metadata", "data"} dict.
func (db *DB) metadataAndData(d *pydata.Dict) ([]any, error) {
	if m, ok := d.Get("metadata"); ok {
		if md, ok := m.(*pydata.Dict); ok {
			db.Metadata = dictFields(md)
		}
	}
	data, ok := d.Get("data")
	if !ok {
		return nil, fmt.Errorf("a dict without %q (keys %v)", "data", d.StringKeys())
	}
	items, ok := pydata.Elements(data)
	if !ok {
		return nil, fmt.Errorf("%q is a %s, not a list", "data", pydata.TypeName(data))
	}
	return items, nil
}

// readJSON decodes a {"metadata", "data"} JSON file or a JSONL file.
func (db *DB) readJSON(lines bool) ([]any, error) {
	b, err := os.ReadFile(db.Path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var items []any
	for n := 1; ; n++ {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("JSON value %d: %w", n, err)
		}
		items = append(items, fromJSON(v))
	}
	if lines {
		return items, nil
	}
	if len(items) != 1 {
		return nil, fmt.Errorf("%d JSON values, want one object", len(items))
	}
	return db.metadataAndData(items[0].(*pydata.Dict))
}

// fromJSON converts decoded JSON to data/pydata's values.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		l := make(pydata.List, len(x))
		for i := range x {
			l[i] = fromJSON(x[i])
		}
		return &l
	case map[string]any:
		d := pydata.NewDict()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			d.Set(k, fromJSON(x[k]))
		}
		return d
	}
	return v
}

// dictFields keeps the string-keyed items of a dict.
func dictFields(d *pydata.Dict) map[string]any {
	out := make(map[string]any, d.Len())
	for _, k := range d.Keys() {
		if s, ok := k.(string); ok {
			out[s], _ = d.Get(k)
		}
	}
	return out
}

// Has reports whether the entry has key (with a value other than None).
func (e Entry) Has(key string) bool { return e.fields[key] != nil }

// Keys lists the entry's keys, sorted.
func (e Entry) Keys() []string {
	ks := make([]string, 0, len(e.fields))
	for k := range e.fields {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// String returns a text field.
func (e Entry) String(key string) (string, error) {
	v, ok := e.fields[key]
	if !ok || v == nil {
		return "", fmt.Errorf("entry %d has no %q (keys: %s)", e.Index, key, strings.Join(e.Keys(), ", "))
	}
	s, ok := pydata.AsString(v)
	if !ok {
		return "", fmt.Errorf("entry %d: %q is a %s, not text", e.Index, key, pydata.TypeName(v))
	}
	return s, nil
}

// Int returns an integer field.
func (e Entry) Int(key string) (int64, error) {
	v, ok := e.fields[key]
	if !ok || v == nil {
		return 0, fmt.Errorf("entry %d has no %q (keys: %s)", e.Index, key, strings.Join(e.Keys(), ", "))
	}
	n, ok := pydata.AsInt(v)
	if !ok {
		return 0, fmt.Errorf("entry %d: %q is a %s, not an integer", e.Index, key, pydata.TypeName(v))
	}
	return n, nil
}

// Strings returns a list-of-text field.
func (e Entry) Strings(key string) ([]string, error) {
	v, ok := e.fields[key]
	if !ok || v == nil {
		return nil, fmt.Errorf("entry %d has no %q (keys: %s)", e.Index, key, strings.Join(e.Keys(), ", "))
	}
	s, ok := pydata.AsStrings(v)
	if !ok {
		return nil, fmt.Errorf("entry %d: %q is a %s, not a list of text", e.Index, key, pydata.TypeName(v))
	}
	return s, nil
}

// Answers returns the human answers of a VQA entry as MMF's AnnotationDatabase.__getitem__ gives them: "answers";
// without it "valid_answers" when present, else "all_answers"; a trailing "<copy>" dropped. found is false when
// the entry has none of these (a test split).
func (e Entry) Answers() (answers []string, found bool, err error) {
	key := ""
	for _, k := range []string{"answers", "valid_answers", "all_answers"} {
		if e.Has(k) {
			key = k
			break
		}
	}
	if key == "" {
		return nil, false, nil
	}
	if answers, err = e.Strings(key); err != nil {
		return nil, true, err
	}
	if n := len(answers); n > 0 && answers[n-1] == "<copy>" {
		answers = answers[:n-1]
	}
	return answers, true, nil
}
