package features

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/uniter-go/uniter/data/pydata"
)

// Resolver is implemented by stores whose keys differ from the feature names annotation files give (MMF's
// feature_path, e.g. "COCO_train2014_000000000009.npy"); Resolve finds the key of a name as the store's reader
// in MMF does.
type Resolver interface {
	Resolve(name string) (key string, err error)
}

// mmfKeysKey is the LMDB key under which MMF's feature LMDBs hold the pickled list of image keys.
const mmfKeysKey = "keys"

// mmfLMDB reads MMF's feature LMDB (tools/scripts/features/lmdb_conversion.py; MMF
// mmf/datasets/databases/readers/feature_readers.py LMDBFeatureReader).
type mmfLMDB struct {
	path  string
	store *lmdbkv.Store
	ids   []string // keys of the pickled key list, sorted
	has   map[string]bool
}

// OpenMMFLMDB opens an MMF feature LMDB: a directory holding data.mdb or the LMDB data file itself (MMF opens
// both, with subdir = isdir(path)). Its "keys" record is a pickled list of the image keys (bytes); each key's
// record is a pickled dict with "features" [N,D], "bbox" [N,4] pixels, "image_width", "image_height",
// "num_boxes" and optionally "cls_prob" [N,C], "objects", "feature_path".
func OpenMMFLMDB(path string) (Reader, error) {
	store, err := lmdbkv.Open(path)
	if err != nil {
		return nil, err
	}
	r := &mmfLMDB{path: path, store: store, has: map[string]bool{}}
	found, err := store.Get(mmfKeysKey, func(val []byte) error {
		v, err := pydata.Unpickle(val)
		if err != nil {
			return err
		}
		keys, ok := pydata.Elements(v)
		if !ok {
			return fmt.Errorf("holds a %s, not a list of keys", pydata.TypeName(v))
		}
		for i, k := range keys {
			s, ok := pydata.AsString(k)
			if !ok {
				return fmt.Errorf("item %d is a %s, not a key", i, pydata.TypeName(k))
			}
			if !r.has[s] {
				r.has[s] = true
				r.ids = append(r.ids, s)
			}
		}
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("no %q record (not an MMF feature LMDB)", mmfKeysKey)
	}
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("opening MMF feature LMDB %s: key %q: %w", path, mmfKeysKey, err)
	}
	slices.Sort(r.ids)
	return r, nil
}

// Resolve implements Resolver with MMF's LMDBFeatureReader rule: drop ".npy" and everything after it; if the
// part after the last "_" is an integer whose decimal form is a key, that is the key (COCO image ids); otherwise
// the whole name is.
func (r *mmfLMDB) Resolve(name string) (string, error) {
	split, _, _ := strings.Cut(name, ".npy")
	tried := []string{}
	if n, err := strconv.ParseInt(strings.TrimSpace(split[strings.LastIndex(split, "_")+1:]), 10, 64); err == nil {
		key := strconv.FormatInt(n, 10)
		if r.has[key] {
			return key, nil
		}
		tried = append(tried, key)
	}
	if r.has[split] {
		return split, nil
	}
	tried = append(tried, split)
	return "", fmt.Errorf("MMF feature LMDB %s: no image for feature path %q (tried keys %q)", r.path, name, tried)
}

// Get implements Reader; imageID is a key or a feature path (see Resolve).
func (r *mmfLMDB) Get(imageID string) (*ImageFeatures, error) {
	key := imageID
	if !r.has[key] {
		var err error
		if key, err = r.Resolve(imageID); err != nil {
			return nil, err
		}
	}
	var f *ImageFeatures
	found, err := r.store.Get(key, func(val []byte) error {
		rec, err := mmfRecord(val)
		if err != nil {
			return err
		}
		f, err = fromArrays(key, rec, 0)
		return err
	})
	if err == nil && !found {
		err = fmt.Errorf("listed in %q but has no record", mmfKeysKey)
	}
	if err != nil {
		return nil, fmt.Errorf("MMF feature LMDB %s: key %q: %w", r.path, key, err)
	}
	return f, nil
}

// mmfRecord decodes one pickled feature dict.
func mmfRecord(val []byte) (map[string]any, error) {
	v, err := pydata.Unpickle(val)
	if err != nil {
		return nil, err
	}
	return stringDict(v)
}

// stringDict converts a dict with string keys.
func stringDict(v any) (map[string]any, error) {
	d, ok := v.(*pydata.Dict)
	if !ok {
		return nil, fmt.Errorf("holds a %s, not a dict", pydata.TypeName(v))
	}
	out := make(map[string]any, d.Len())
	for _, k := range d.Keys() {
		s, ok := pydata.AsString(k)
		if !ok {
			continue
		}
		out[s], _ = d.Get(k)
	}
	return out, nil
}

// IDs implements Reader.
func (r *mmfLMDB) IDs() []string { return append([]string(nil), r.ids...) }

// Close implements Reader.
func (r *mmfLMDB) Close() error { return r.store.Close() }

// npyDir reads MMF's per-image .npy features: <name>.npy holds the features [N,D] (or a dict with "features" and
// the info), <name>_info.npy a 0-d object array holding the info dict (bbox, image_width, image_height,
// num_boxes, objects, cls_prob), as lmdb_conversion.py extract writes them.
type npyDir struct {
	dir string
	ids []string // paths relative to dir without ".npy", sorted
	has map[string]bool
}

// OpenNPYDir opens a directory tree of MMF per-image .npy feature files (see npyDir).
func OpenNPYDir(dir string) (Reader, error) {
	r := &npyDir{dir: dir, has: map[string]bool{}}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() && strings.HasSuffix(p, ".npy") && !strings.HasSuffix(p, "_info.npy") {
			rel, _ := filepath.Rel(dir, p)
			id := strings.TrimSuffix(filepath.ToSlash(rel), ".npy")
			r.ids = append(r.ids, id)
			r.has[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening .npy feature directory %s: %w", dir, err)
	}
	if len(r.ids) == 0 {
		return nil, fmt.Errorf("opening .npy feature directory %s: no .npy feature files", dir)
	}
	slices.Sort(r.ids)
	return r, nil
}

// Resolve implements Resolver: the feature path without ".npy".
func (r *npyDir) Resolve(name string) (string, error) {
	id := strings.TrimSuffix(name, ".npy")
	if !r.has[id] {
		return "", fmt.Errorf(".npy feature directory %s: no file %s.npy", r.dir, id)
	}
	return id, nil
}

// Get implements Reader.
func (r *npyDir) Get(imageID string) (*ImageFeatures, error) {
	id, err := r.Resolve(imageID)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(r.dir, filepath.FromSlash(id)+".npy")
	feat, err := pydata.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{"features": feat}
	if feat.Dtype == pydata.ObjectDtype { // a dict holding the features and the info
		if feat.Size() != 1 {
			return nil, fmt.Errorf("reading %s: object array of shape %v, want one dict", path, feat.Shape)
		}
		if rec, err = stringDict(feat.Objects[0]); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	infoPath := filepath.Join(r.dir, filepath.FromSlash(id)+"_info.npy")
	if _, err := os.Stat(infoPath); err == nil {
		info, err := pydata.ReadNPY(infoPath)
		if err != nil {
			return nil, err
		}
		if info.Dtype != pydata.ObjectDtype || info.Size() != 1 {
			return nil, fmt.Errorf("reading %s: %v is not a 0-d object array holding a dict", infoPath, info)
		}
		m, err := stringDict(info.Objects[0])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", infoPath, err)
		}
		for k, v := range m {
			if k != "features" {
				rec[k] = v
			}
		}
	}
	f, err := fromArrays(id, rec, 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s (and its _info.npy): %w", path, err)
	}
	return f, nil
}

// IDs implements Reader.
func (r *npyDir) IDs() []string { return append([]string(nil), r.ids...) }

// Close implements Reader.
func (r *npyDir) Close() error { return nil }

// KeyResolver returns a function giving the key under which r holds the image an annotation names: through the
// store's Resolver when it has one, else the name itself with a ".npy"/".npz" suffix dropped, which must be one of
// r's IDs.
func KeyResolver(r Reader) func(name string) (string, error) {
	if res, ok := r.(Resolver); ok {
		return res.Resolve
	}
	ids := r.IDs()
	return func(name string) (string, error) {
		key := strings.TrimSuffix(strings.TrimSuffix(name, ".npy"), ".npz")
		if _, found := slices.BinarySearch(ids, key); !found {
			return "", fmt.Errorf("no image %q in the feature store", key)
		}
		return key, nil
	}
}
