package features

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/uniter-go/uniter/data/pydata"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/vmihailenco/msgpack/v5"
)

// imgDB reads ORIG UNITER's img_db (DetectFeatLmdb).
type imgDB struct {
	store *lmdbkv.Store
	ids   []string          // image ids (keys without ".npz"), sorted
	keys  map[string]string // image id → LMDB key
	nbb   map[string]int    // LMDB key → number of boxes kept; nil: all boxes
	fixed int               // > 0: every image keeps at most this many boxes (feat_numbb<N>)
	nbbOf string            // path of the nbb file, for messages
}

// ORIG's LMDB directory names: feat_th<conf>_max<max>_min<min>[_compressed], feat_numbb<N>[_compressed],
// all[_compressed].
var (
	thName    = regexp.MustCompile(`^feat_th([0-9.]+)_max(\d+)_min(\d+)(_compressed)?$`)
	numbbName = regexp.MustCompile(`^feat_numbb(\d+)(_compressed)?$`)
	allName   = regexp.MustCompile(`^all(_compressed)?$`)
)

// defaultLMDBs are the LMDB names ORIG opens with its default arguments (conf_th 0.2, max_bb 100, min_bb 10,
// compress True), in its order of preference.
var defaultLMDBs = []string{"feat_th0.2_max100_min10_compressed", "feat_th0.2_max100_min10"}

// keysKey is the bookkeeping record ORIG's "all" LMDBs hold (a JSON list of the image keys); it is no image.
const keysKey = "__keys__"

// isImgDBName reports whether name is an ORIG img_db LMDB directory name.
func isImgDBName(name string) bool {
	return thName.MatchString(name) || numbbName.MatchString(name) || allName.MatchString(name)
}

// findImgDBLMDB returns the LMDB directory of an ORIG img_dir: the only subdirectory with an img_db name that
// holds a data.mdb, or with several, the first of ORIG's defaults present.
func findImgDBLMDB(imgDir string) (string, error) {
	entries, err := os.ReadDir(imgDir)
	if err != nil {
		return "", fmt.Errorf("opening img_db %s: %w", imgDir, err)
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() && isImgDBName(e.Name()) {
			if _, err := os.Stat(filepath.Join(imgDir, e.Name(), "data.mdb")); err == nil {
				found = append(found, e.Name())
			}
		}
	}
	if len(found) == 1 {
		return filepath.Join(imgDir, found[0]), nil
	}
	for _, d := range defaultLMDBs {
		if slices.Contains(found, d) {
			return filepath.Join(imgDir, d), nil
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("opening img_db %s: no LMDB (data.mdb) here nor in a feat_th*/feat_numbb*/all subdirectory",
			imgDir)
	}
	return "", fmt.Errorf("opening img_db %s: several LMDBs %v; open one of them directly", imgDir, found)
}

// OpenImgDB opens an ORIG img_db. dir is either ORIG's img_dir (e.g. /img/coco_train2014, holding the LMDB
// feat_th0.2_max100_min10[_compressed]/ and nbb_th0.2_max100_min10.json) or the LMDB directory itself, whose
// nbb file is then looked up next to it (ORIG's layout) and, failing that, inside it. As in ORIG
// (DetectFeatLmdb), only the first nbb boxes of an image are returned; feat_numbb<N> stores keep N; without an
// nbb file every box is returned. Values may be msgpack dicts of msgpack-numpy arrays or .npz bytes
// ("_compressed"); the format is detected per record. Get accepts the id with or without ".npz".
func OpenImgDB(dir string) (Reader, error) {
	lmdbDir := dir
	if _, err := os.Stat(filepath.Join(dir, "data.mdb")); err != nil {
		if lmdbDir, err = findImgDBLMDB(dir); err != nil {
			return nil, err
		}
	}
	r := &imgDB{keys: map[string]string{}}
	name := filepath.Base(filepath.Clean(lmdbDir))
	if m := numbbName.FindStringSubmatch(name); m != nil {
		r.fixed, _ = strconv.Atoi(m[1])
	}
	if m := thName.FindStringSubmatch(name); m != nil {
		nbbName := fmt.Sprintf("nbb_th%s_max%s_min%s.json", m[1], m[2], m[3])
		for _, p := range []string{filepath.Join(filepath.Dir(filepath.Clean(lmdbDir)), nbbName),
			filepath.Join(lmdbDir, nbbName)} {
			if b, err := os.ReadFile(p); err == nil {
				if err := json.Unmarshal(b, &r.nbb); err != nil {
					return nil, fmt.Errorf("reading %s: %w", p, err)
				}
				r.nbbOf = p
				break
			}
		}
	}
	var err error
	if r.store, err = lmdbkv.Open(lmdbDir); err != nil {
		return nil, err
	}
	keys, err := r.store.Keys()
	if err != nil {
		r.store.Close()
		return nil, err
	}
	for _, k := range keys {
		if k == keysKey {
			continue
		}
		id := trimNPZ(k)
		if _, dup := r.keys[id]; dup {
			r.store.Close()
			return nil, fmt.Errorf("img_db %s: image %q stored under two keys", lmdbDir, id)
		}
		r.keys[id] = k
		r.ids = append(r.ids, id)
	}
	sort.Strings(r.ids)
	return r, nil
}

// Get implements Reader.
func (r *imgDB) Get(imageID string) (*ImageFeatures, error) {
	id := trimNPZ(imageID)
	key, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("img_db %s: no image %q", r.store.Dir(), imageID)
	}
	maxBoxes := r.fixed
	if r.nbb != nil {
		n, ok := r.nbb[key]
		if !ok {
			return nil, fmt.Errorf("img_db %s: image %q (key %q) missing from %s", r.store.Dir(), id, key, r.nbbOf)
		}
		if n <= 0 {
			return nil, fmt.Errorf("img_db %s: image %q has %d boxes in %s", r.store.Dir(), id, n, r.nbbOf)
		}
		maxBoxes = n
	}
	var f *ImageFeatures
	_, err := r.store.Get(key, func(val []byte) error {
		arrs, err := decodeImgDBValue(val)
		if err != nil {
			return err
		}
		f, err = fromArrays(id, arrs, maxBoxes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("img_db %s: image %q: %w", r.store.Dir(), id, err)
	}
	return f, nil
}

// IDs implements Reader.
func (r *imgDB) IDs() []string { return append([]string(nil), r.ids...) }

// Close implements Reader.
func (r *imgDB) Close() error { return r.store.Close() }

// decodeImgDBValue decodes one img_db value: .npz bytes (zip magic "PK") or a msgpack dict whose arrays are
// msgpack-numpy encoded ({nd: true, type: "<f2", shape: [...], data: bytes}). The arrays are copied out of val.
func decodeImgDBValue(val []byte) (map[string]any, error) {
	if bytes.HasPrefix(val, []byte("PK")) {
		arrs, err := pydata.ReadNPZ(bytes.NewReader(val), int64(len(val)))
		return anyValues(arrs), err
	}
	var m map[string]any
	if err := msgpack.Unmarshal(val, &m); err != nil {
		return nil, fmt.Errorf("decoding msgpack: %w", err)
	}
	arrs := make(map[string]any, len(m))
	for k, v := range m {
		a, err := msgpackNumpyArray(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if a != nil {
			arrs[k] = a
		}
	}
	return arrs, nil
}

// msgpackNumpyArray decodes a msgpack-numpy ndarray or numpy scalar; it returns nil for values that are neither.
func msgpackNumpyArray(v any) (*pydata.Array, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	nd, ok := m["nd"].(bool)
	if !ok {
		return nil, nil
	}
	dtype, ok := asString(m["type"])
	if !ok {
		return nil, fmt.Errorf("msgpack-numpy value without a dtype string")
	}
	data, ok := m["data"].([]byte)
	if !ok {
		if s, isStr := m["data"].(string); isStr {
			data = []byte(s)
		} else {
			return nil, fmt.Errorf("msgpack-numpy value without data bytes")
		}
	}
	dtype = pydata.CanonicalDtype(dtype)
	shape := []int{}
	if nd {
		dims, ok := m["shape"].([]any)
		if !ok {
			return nil, fmt.Errorf("msgpack-numpy array without a shape")
		}
		for _, d := range dims {
			n, ok := asInt(d)
			if !ok {
				return nil, fmt.Errorf("msgpack-numpy shape %v is not a list of integers", dims)
			}
			shape = append(shape, n)
		}
	}
	a, err := pydata.NewArray(dtype, shape, bytes.Clone(data))
	if err != nil {
		return nil, fmt.Errorf("msgpack-numpy array: %w", err)
	}
	return a, nil
}

func asString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case uint64:
		return int(n), n <= 1<<31
	}
	return 0, false
}

// WriteImgDB writes images as an ORIG img_db in the layout DetectFeatLmdb(dir, compress=compressed) opens with
// its defaults: the LMDB dir/feat_th0.2_max100_min10[_compressed]/, keyed "<ImageID>.npz", and the name → number
// of boxes file dir/nbb_th0.2_max100_min10.json (every box kept; entries of images already listed there are
// kept). Values hold float16 "features" [N,D], "norm_bb" [N,6] ([x1,y1,x2,y2,w,h] normalised; ORIG's loader
// appends the area), "conf" [N] (the highest non-background class probability, 1 without ClassProbs) and
// "soft_labels" [N,C] when ClassProbs is set, as msgpack dicts of msgpack-numpy arrays or, when compressed, as
// deflated .npz bytes (np.savez_compressed). Read back, boxes are the normalised ones with Width = Height = 1,
// in float16 precision.
func WriteImgDB(dir string, fs []*ImageFeatures, compressed bool) error {
	lmdbDir := filepath.Join(dir, defaultLMDBs[1])
	if compressed {
		lmdbDir = filepath.Join(dir, defaultLMDBs[0])
	}
	nbbPath := filepath.Join(dir, defaultNBBFile)
	nbb := map[string]int{}
	if b, err := os.ReadFile(nbbPath); err == nil {
		if err := json.Unmarshal(b, &nbb); err != nil {
			return fmt.Errorf("reading %s: %w", nbbPath, err)
		}
	}
	for _, f := range fs {
		nbb[f.ImageID+".npz"] = f.NumBoxes
	}
	if err := writeImgDBLMDB(lmdbDir, fs, compressed); err != nil {
		return err
	}
	b, err := json.Marshal(nbb)
	if err != nil {
		return fmt.Errorf("writing %s: %w", nbbPath, err)
	}
	if err := os.WriteFile(nbbPath, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", nbbPath, err)
	}
	return nil
}

// WriteImgDBNumBB writes images as the img_db DetectFeatLmdb(dir, conf_th=-1, num_bb=numBB, compress=compressed)
// opens: the LMDB dir/feat_numbb<numBB>[_compressed]/ without an nbb file (ORIG's RefCOCO features use
// conf_th -1, num_bb 100). Every image keeps all its boxes, at most numBB. Values are as WriteImgDB writes them.
func WriteImgDBNumBB(dir string, numBB int, fs []*ImageFeatures, compressed bool) error {
	lmdbDir := filepath.Join(dir, fmt.Sprintf("feat_numbb%d", numBB))
	if compressed {
		lmdbDir += "_compressed"
	}
	for _, f := range fs {
		if f.NumBoxes > numBB {
			return fmt.Errorf("writing img_db %s: image %q has %d boxes, more than %d", lmdbDir, f.ImageID, f.NumBoxes, numBB)
		}
	}
	return writeImgDBLMDB(lmdbDir, fs, compressed)
}

// writeImgDBLMDB writes the LMDB of an img_db: each image under "<ImageID>.npz".
func writeImgDBLMDB(lmdbDir string, fs []*ImageFeatures, compressed bool) error {
	seen := map[string]bool{}
	for _, f := range fs {
		if err := f.validate(); err != nil {
			return fmt.Errorf("writing img_db %s: %w", lmdbDir, err)
		}
		if seen[f.ImageID] {
			return fmt.Errorf("writing img_db %s: image %q given twice", lmdbDir, f.ImageID)
		}
		seen[f.ImageID] = true
	}
	return lmdbkv.Write(lmdbDir, len(fs), func(i int) (string, []byte, error) {
		v, err := encodeImgDBValue(fs[i], compressed)
		if err != nil {
			return "", nil, fmt.Errorf("image %q: %w", fs[i].ImageID, err)
		}
		return fs[i].ImageID + ".npz", v, nil
	})
}

// defaultNBBFile is the nbb file of ORIG's default thresholds.
const defaultNBBFile = "nbb_th0.2_max100_min10.json"

// imgDBKeys is the key order of the values WriteImgDB writes.
var imgDBKeys = []string{"features", "norm_bb", "conf", "soft_labels"}

func encodeImgDBValue(f *ImageFeatures, compressed bool) ([]byte, error) {
	conf := make([]float32, f.NumBoxes)
	for i := range conf {
		conf[i] = 1
		if f.ClassProbs != nil && f.NumClasses > 1 {
			row := f.ClassProbs[i*f.NumClasses : (i+1)*f.NumClasses]
			conf[i] = row[1]
			for _, p := range row[2:] {
				conf[i] = max(conf[i], p)
			}
		}
	}
	arrs := map[string]*pydata.Array{
		"features": pydata.Float32Array("<f2", []int{f.NumBoxes, f.Dim}, f.Features),
		"norm_bb":  pydata.Float32Array("<f2", []int{f.NumBoxes, 6}, f.normBB()),
		"conf":     pydata.Float32Array("<f2", []int{f.NumBoxes}, conf),
	}
	keys := imgDBKeys[:3]
	if f.ClassProbs != nil {
		arrs["soft_labels"] = pydata.Float32Array("<f2", []int{f.NumBoxes, f.NumClasses}, f.ClassProbs)
		keys = imgDBKeys
	}
	var buf bytes.Buffer
	if compressed {
		if err := pydata.EncodeNPZ(&buf, keys, arrs, true); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	enc := msgpack.NewEncoder(&buf)
	if err := enc.EncodeMapLen(len(keys)); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := enc.EncodeString(k); err != nil {
			return nil, err
		}
		if err := encodeMsgpackNumpy(enc, arrs[k]); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// encodeMsgpackNumpy writes an array as msgpack-numpy does: a map with binary keys nd, type, kind, shape, data.
func encodeMsgpackNumpy(enc *msgpack.Encoder, a *pydata.Array) error {
	err := enc.EncodeMapLen(5)
	put := func(key string, val func() error) {
		if err == nil {
			err = enc.EncodeBytes([]byte(key))
		}
		if err == nil {
			err = val()
		}
	}
	put("nd", func() error { return enc.EncodeBool(true) })
	put("type", func() error { return enc.EncodeString(a.Dtype) })
	put("kind", func() error { return enc.EncodeBytes([]byte{}) })
	put("shape", func() error {
		err := enc.EncodeArrayLen(len(a.Shape))
		for _, d := range a.Shape {
			if err == nil {
				err = enc.EncodeInt(int64(d))
			}
		}
		return err
	})
	put("data", func() error { return enc.EncodeBytes(a.Data) })
	return err
}
