// Package txtdb reads and writes ORIG UNITER's txt_db (TxtTokLmdb): an LMDB keyed by example id whose values are
// lz4-framed msgpack dicts, plus the side files meta.json, id2len.json, txt2img.json and img2txts.json.
package txtdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/pierrec/lz4/v4"
	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/vmihailenco/msgpack/v5"
)

// Meta is the content of meta.json: the special token ids and the random-token range [VRange[0], VRange[1]) of
// the tokenizer the ids were made with.
type Meta struct {
	CLS    int32    `json:"CLS"`
	SEP    int32    `json:"SEP"`
	MASK   int32    `json:"MASK"`
	UNK    int32    `json:"UNK"`
	VRange [2]int32 `json:"v_range"`
	Bert   string   `json:"bert,omitempty"`  // tokenizer name, e.g. "bert-base-cased"
	Toker  string   `json:"toker,omitempty"` // tokenizer name (newer dumps)
}

// VQATarget is the precomputed soft target of a VQA example: answer class labels and their soft scores.
type VQATarget struct {
	Labels []int32
	Scores []float32
}

// Example is one txt_db record.
type Example struct {
	ID        string         // LMDB key
	InputIDs  []int32        // word-piece ids without [CLS]/[SEP]
	ImageFile string         // img_fname, e.g. "coco_train2014_000000000009.npz"; "" when absent or not one string
	Target    *VQATarget     // VQA target {labels, scores}; nil when the record's target is not one
	Raw       map[string]any // every field of the record as decoded from msgpack (nil for examples built in Go)
}

// DB is an open txt_db; Get may be called from several goroutines.
type DB struct {
	dir      string
	store    *lmdbkv.Store
	meta     Meta
	ids      []string
	id2len   map[string]int
	txt2img  map[string]any
	img2txts map[string][]string
}

// Open opens a txt_db directory. meta.json and id2len.json are required, txt2img.json and img2txts.json optional.
func Open(dir string) (*DB, error) {
	db := &DB{dir: dir}
	if err := readJSON(filepath.Join(dir, "meta.json"), &db.meta, true); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "id2len.json"), &db.id2len, true); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "txt2img.json"), &db.txt2img, false); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "img2txts.json"), &db.img2txts, false); err != nil {
		return nil, err
	}
	var err error
	if db.store, err = lmdbkv.Open(dir); err != nil {
		return nil, err
	}
	if db.ids, err = db.store.Keys(); err != nil {
		db.store.Close()
		return nil, err
	}
	sort.Strings(db.ids)
	return db, nil
}

func readJSON(path string, v any, required bool) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// Meta returns the content of meta.json.
func (db *DB) Meta() Meta { return db.meta }

// IDs lists the example ids (LMDB keys), sorted.
func (db *DB) IDs() []string { return append([]string(nil), db.ids...) }

// Len returns the number of word pieces of an example as id2len.json records it.
func (db *DB) Len(id string) (int, bool) {
	n, ok := db.id2len[id]
	return n, ok
}

// Txt2Img returns the image file(s) of an example from txt2img.json (one, or two for NLVR2 pairs).
func (db *DB) Txt2Img(id string) []string { return imageFiles(db.txt2img[id]) }

// imageFiles lists the file names of an img_fname value: one string, or a list of strings (NLVR2 pairs).
func imageFiles(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Img2Txts returns the example ids of an image from img2txts.json.
func (db *DB) Img2Txts(imgFile string) []string {
	return append([]string(nil), db.img2txts[imgFile]...)
}

// Get decodes one example; the error names the directory and the id.
func (db *DB) Get(id string) (*Example, error) {
	var ex *Example
	found, err := db.store.Get(id, func(val []byte) error {
		var err error
		ex, err = decodeExample(id, val)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("txt_db %s: example %q: %w", db.dir, id, err)
	}
	if !found {
		return nil, fmt.Errorf("txt_db %s: no example %q", db.dir, id)
	}
	return ex, nil
}

// Close closes the LMDB environment.
func (db *DB) Close() error { return db.store.Close() }

// decodeExample decodes lz4.frame(msgpack(dict)).
func decodeExample(id string, val []byte) (*Example, error) {
	raw, err := io.ReadAll(lz4.NewReader(bytes.NewReader(val)))
	if err != nil {
		return nil, fmt.Errorf("lz4 frame: %w", err)
	}
	ex := &Example{ID: id}
	if err := msgpack.Unmarshal(raw, &ex.Raw); err != nil {
		return nil, fmt.Errorf("msgpack: %w", err)
	}
	ids, ok := ex.Raw["input_ids"].([]any)
	if !ok {
		return nil, fmt.Errorf("no input_ids list")
	}
	if ex.InputIDs, err = int32s(ids); err != nil {
		return nil, fmt.Errorf("input_ids: %w", err)
	}
	ex.ImageFile, _ = ex.Raw["img_fname"].(string)
	if t, ok := ex.Raw["target"].(map[string]any); ok {
		labels, lok := t["labels"].([]any)
		scores, sok := t["scores"].([]any)
		if !lok || !sok || len(labels) != len(scores) {
			return nil, fmt.Errorf("target: want equally long labels and scores lists, got %v", t)
		}
		ex.Target = &VQATarget{Scores: make([]float32, 0, len(scores))}
		if ex.Target.Labels, err = int32s(labels); err != nil {
			return nil, fmt.Errorf("target labels: %w", err)
		}
		for _, s := range scores {
			f, ok := toFloat(s)
			if !ok {
				return nil, fmt.Errorf("target score %v is not a number", s)
			}
			ex.Target.Scores = append(ex.Target.Scores, float32(f))
		}
	}
	return ex, nil
}

func int32s(vs []any) ([]int32, error) {
	out := make([]int32, len(vs))
	for i, v := range vs {
		f, ok := toFloat(v)
		if !ok || f != float64(int32(f)) {
			return nil, fmt.Errorf("element %d (%v) is not an int32", i, v)
		}
		out[i] = int32(f)
	}
	return out, nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// record is the dict stored for ex: its Raw fields overridden by input_ids, img_fname and target.
func (ex *Example) record() map[string]any {
	rec := make(map[string]any, len(ex.Raw)+3)
	for k, v := range ex.Raw {
		rec[k] = v
	}
	rec["input_ids"] = nonNil(ex.InputIDs)
	if ex.ImageFile != "" {
		rec["img_fname"] = ex.ImageFile
	}
	if ex.Target != nil {
		rec["target"] = map[string]any{"labels": nonNil(ex.Target.Labels), "scores": nonNil(ex.Target.Scores)}
	}
	return rec
}

// nonNil makes nil slices encode as empty msgpack arrays rather than nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Write writes a txt_db to dir: each example as lz4.frame(msgpack(record)) under its id, with meta.json,
// id2len.json (number of input ids), txt2img.json and img2txts.json (from img_fname: a string, or a list of
// strings for NLVR2 pairs in Raw). Records are encoded with sorted keys, so output is deterministic.
func Write(dir string, meta Meta, exs []Example) error {
	id2len := make(map[string]int, len(exs))
	txt2img := map[string]any{}
	img2txts := map[string][]string{}
	for _, ex := range exs {
		if ex.ID == "" {
			return fmt.Errorf("writing txt_db %s: example with an empty id", dir)
		}
		if _, dup := id2len[ex.ID]; dup {
			return fmt.Errorf("writing txt_db %s: example %q given twice", dir, ex.ID)
		}
		id2len[ex.ID] = len(ex.InputIDs)
		img := ex.record()["img_fname"]
		if img != nil {
			txt2img[ex.ID] = img
		}
		for _, im := range imageFiles(img) {
			img2txts[im] = append(img2txts[im], ex.ID)
		}
	}
	err := lmdbkv.Write(dir, len(exs), func(i int) (string, []byte, error) {
		v, err := encodeExample(&exs[i])
		if err != nil {
			return "", nil, fmt.Errorf("example %q: %w", exs[i].ID, err)
		}
		return exs[i].ID, v, nil
	})
	if err != nil {
		return err
	}
	for name, v := range map[string]any{"meta.json": meta, "id2len.json": id2len, "txt2img.json": txt2img,
		"img2txts.json": img2txts} {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
		}
	}
	return nil
}

func encodeExample(ex *Example) ([]byte, error) {
	var mp bytes.Buffer
	enc := msgpack.NewEncoder(&mp)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(ex.record()); err != nil {
		return nil, fmt.Errorf("msgpack: %w", err)
	}
	var out bytes.Buffer
	zw := lz4.NewWriter(&out)
	if _, err := zw.Write(mp.Bytes()); err != nil {
		return nil, fmt.Errorf("lz4 frame: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("lz4 frame: %w", err)
	}
	return out.Bytes(), nil
}
