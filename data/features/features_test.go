package features

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/uniter-go/uniter/data/pydata"
)

// expectedImage is one image of testdata/expected.json, written by testdata/make_fixtures.py.
type expectedImage struct {
	ImageID    string    `json:"image_id"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	NumBoxes   int       `json:"num_boxes"`
	Dim        int       `json:"dim"`
	NumClasses int       `json:"num_classes"`
	Features   []float32 `json:"features"`
	Boxes      []float32 `json:"boxes"`
	ClassProbs []float32 `json:"class_probs"`
	Pos7       []float32 `json:"pos7"` // UNITER's 7-d position vectors as numpy / ORIG's loader computes them
}

func loadExpected(t *testing.T) map[string]map[string]expectedImage {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]map[string]expectedImage
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

func (e expectedImage) features() *ImageFeatures {
	return &ImageFeatures{ImageID: e.ImageID, Width: e.Width, Height: e.Height, NumBoxes: e.NumBoxes, Dim: e.Dim,
		NumClasses: e.NumClasses, Features: e.Features, Boxes: e.Boxes, ClassProbs: e.ClassProbs}
}

// checkSame compares two images; tol is an absolute tolerance on every float (0 = bit-exact).
func checkSame(t *testing.T, what string, got, want *ImageFeatures, tol float64) {
	t.Helper()
	if got.ImageID != want.ImageID || got.Width != want.Width || got.Height != want.Height ||
		got.NumBoxes != want.NumBoxes || got.Dim != want.Dim || got.NumClasses != want.NumClasses {
		t.Fatalf("%s: header got %+v want %+v", what, header(got), header(want))
	}
	checkFloats(t, what+" features", got.Features, want.Features, tol)
	checkFloats(t, what+" boxes", got.Boxes, want.Boxes, tol)
	if (got.ClassProbs == nil) != (want.ClassProbs == nil) {
		t.Fatalf("%s: class probs presence got %v want %v", what, got.ClassProbs != nil, want.ClassProbs != nil)
	}
	checkFloats(t, what+" class probs", got.ClassProbs, want.ClassProbs, tol)
}

func header(f *ImageFeatures) ImageFeatures {
	h := *f
	h.Features, h.Boxes, h.ClassProbs = nil, nil, nil
	return h
}

func checkFloats(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > tol {
			t.Fatalf("%s[%d] = %v want %v (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// TestReadPythonFixtures reads stores written by numpy/lmdb/msgpack_numpy (make_fixtures.py) and checks every value.
func TestReadPythonFixtures(t *testing.T) {
	exp := loadExpected(t)
	stores := map[string]string{
		"img_db":            "testdata/img_db/feat_th0.2_max100_min10", // the LMDB itself, nbb file next to it
		"img_db_compressed": "testdata/img_db",                         // ORIG's img_dir: prefers _compressed
		"npz":               "testdata/npz",
		"tsv":               "testdata/features.tsv",
	}
	for kind, path := range stores {
		t.Run(kind, func(t *testing.T) {
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ids := r.IDs()
			if len(ids) != len(exp[kind]) {
				t.Fatalf("IDs %v, want the %d of expected.json", ids, len(exp[kind]))
			}
			for _, id := range ids {
				e, ok := exp[kind][id]
				if !ok {
					t.Fatalf("unexpected id %q", id)
				}
				got, err := r.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				checkSame(t, kind+"/"+id, got, e.features(), 0)
				// float16 norm_bb: ORIG's stored w,h differ from x2-x1, y2-y1 by float16 rounding.
				checkFloats(t, kind+"/"+id+" position", got.PositionFeatures(), e.Pos7, 1e-3)
			}
		})
	}
}

func TestImgDBHonoursNBBAndNPZSuffix(t *testing.T) {
	r, err := OpenImgDB("testdata/img_db/feat_th0.2_max100_min10")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The record holds 3 boxes; nbb_th0.2_max100_min10.json keeps 2. The txt_db names images with ".npz".
	f, err := r.Get("coco_val2014_000000000042.npz")
	if err != nil {
		t.Fatal(err)
	}
	if f.NumBoxes != 2 || len(f.Features) != 2*8 || len(f.ClassProbs) != 2*5 {
		t.Fatalf("got %d boxes (%d features), want the first 2 of 3", f.NumBoxes, len(f.Features))
	}
}

func TestPositionFeatures(t *testing.T) {
	f := &ImageFeatures{Width: 200, Height: 400, NumBoxes: 2, Boxes: []float32{10, 20, 110, 220, 10, 20, 110, 120}}
	checkFloats(t, "pos", f.PositionFeatures(), []float32{0.05, 0.05, 0.55, 0.55, 0.5, 0.5, 0.25,
		0.05, 0.05, 0.55, 0.3, 0.5, 0.25, 0.125}, 1e-7)
}

func testImages() []*ImageFeatures {
	mk := func(id string, n, d, c, w, h int) *ImageFeatures {
		f := &ImageFeatures{ImageID: id, Width: w, Height: h, NumBoxes: n, Dim: d, NumClasses: c}
		for i := 0; i < n*d; i++ {
			f.Features = append(f.Features, float32(math.Sin(float64(i)))*3)
		}
		for i := 0; i < n; i++ {
			x, y := float32(i*7%w), float32(i*11%h)
			f.Boxes = append(f.Boxes, x, y, x+float32(w)/3, y+float32(h)/4)
		}
		for i := 0; i < n*c; i++ {
			f.ClassProbs = append(f.ClassProbs, float32(i%c+1)/float32(c*(c+1)/2))
		}
		if c == 0 {
			f.NumClasses, f.ClassProbs = 0, nil
		}
		return f
	}
	return []*ImageFeatures{mk("coco_train2014_000000000009", 5, 16, 7, 640, 480), mk("synthetic_000012", 3, 16, 7, 100, 50)}
}

func TestNPZRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fs := testImages()
	fs[1].ClassProbs, fs[1].NumClasses = nil, 0
	for _, f := range fs {
		if err := WriteNPZ(filepath.Join(dir, f.ImageID+".npz"), f); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range fs {
		got, err := r.Get(f.ImageID)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, f.ImageID, got, f, 0)
	}
}

func TestTSVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.tsv")
	fs := testImages()
	if err := WriteTSV(path, fs); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ids := r.IDs(); len(ids) != 2 || ids[0] != fs[0].ImageID {
		t.Fatalf("IDs = %v", ids)
	}
	for _, f := range fs {
		got, err := r.Get(f.ImageID)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, f.ImageID, got, f, 0)
	}
}

// normalised is what an img_db returns for f: boxes divided by the image size, Width = Height = 1.
func normalised(f *ImageFeatures) *ImageFeatures {
	n := *f
	n.Width, n.Height = 1, 1
	pos := f.PositionFeatures()
	n.Boxes = nil
	for i := 0; i < f.NumBoxes; i++ {
		n.Boxes = append(n.Boxes, pos[7*i:7*i+4]...)
	}
	return &n
}

func TestImgDBRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fs := testImages()
	// Both variants into one ORIG img_dir, as ORIG keeps them; they share the nbb file.
	if err := WriteImgDB(dir, fs[:1], false); err != nil {
		t.Fatal(err)
	}
	if err := WriteImgDB(dir, fs, true); err != nil {
		t.Fatal(err)
	}
	var nbb map[string]int
	b, err := os.ReadFile(filepath.Join(dir, "nbb_th0.2_max100_min10.json"))
	if err == nil {
		err = json.Unmarshal(b, &nbb)
	}
	if err != nil || len(nbb) != 2 || nbb["coco_train2014_000000000009.npz"] != 5 {
		t.Fatalf("nbb file: %v, %v", nbb, err)
	}
	for _, sub := range []string{"feat_th0.2_max100_min10", "feat_th0.2_max100_min10_compressed"} {
		if _, err := os.Stat(filepath.Join(dir, sub, "lock.mdb")); err == nil {
			t.Errorf("writer left %s/lock.mdb", sub)
		}
	}
	for _, c := range []struct {
		path string
		n    int
	}{{filepath.Join(dir, "feat_th0.2_max100_min10"), 1}, {dir, 2}} {
		r, err := Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.IDs()) != c.n {
			t.Fatalf("%s: IDs %v, want %d", c.path, r.IDs(), c.n)
		}
		for _, f := range fs[:c.n] {
			got, err := r.Get(f.ImageID)
			if err != nil {
				t.Fatal(err)
			}
			// float16 storage: relative error ≤ 2^-11, values here ≤ 3.
			checkSame(t, f.ImageID, got, normalised(f), 3*math.Pow(2, -11))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Get(fs[0].ImageID); err == nil {
			t.Errorf("Get after Close succeeded")
		}
	}
}

func TestConcurrentGet(t *testing.T) {
	for _, path := range []string{"testdata/img_db/feat_th0.2_max100_min10", "testdata/npz", "testdata/features.tsv",
		"testdata/img_db/feat_th0.2_max100_min10_compressed"} {
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ids := r.IDs()
		var wg sync.WaitGroup
		errs := make(chan error, 8*50)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if _, err := r.Get(ids[(g+i)%len(ids)]); err != nil {
						errs <- err
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		r.Close()
	}
}

func TestMissingImageNamesStoreAndID(t *testing.T) {
	for _, path := range []string{"testdata/img_db", "testdata/npz", "testdata/features.tsv"} {
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Get("no_such_image")
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no_such_image") {
			t.Errorf("%s: error %v should name the store and the id", path, err)
		}
		r.Close()
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/npz/synthetic_000001.npz")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("truncated.npz", good[:len(good)/2])
	write("garbage.npz", []byte("not a zip"))
	r, err := OpenNPZDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"truncated", "garbage"} {
		_, err := r.Get(id)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, id+".npz")) {
			t.Errorf("%s: error %v should name the file", id, err)
		}
	}

	// Malformed TSV lines: wrong field count, bad base64, box bytes that do not match num_boxes.
	tsv := write("bad.tsv", []byte("1\t10\t10\t1\n2\t10\t10\t1\t!!!\tAAAA\n3\t10\t10\t2\tAAAAAAAAAAAAAAAAAAAAAA==\tAAAA\n"))
	tr, err := OpenTSV(tsv)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2", "3"} {
		if _, err := tr.Get(id); err == nil || !strings.Contains(err.Error(), tsv) || !strings.Contains(err.Error(), id) {
			t.Errorf("TSV line %s: error %v should name file and id", id, err)
		}
	}
	dup := write("dup.tsv", []byte("1\t10\t10\t0\t\t\n1\t10\t10\t0\t\t\n"))
	if _, err := OpenTSV(dup); err == nil || !strings.Contains(err.Error(), dup) {
		t.Errorf("duplicate TSV id: error %v", err)
	}

	// Inconsistent features on write.
	f := testImages()[0]
	f.Boxes = f.Boxes[:4]
	if err := WriteNPZ(filepath.Join(dir, "x.npz"), f); err == nil {
		t.Errorf("WriteNPZ accepted 1 box for 5 regions")
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("Open of a missing path succeeded")
	}
}

func TestFloat16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := pydata.F16ToF32(uint16(h))
		if f != f { // NaN: any quiet NaN back
			if b := pydata.F32ToF16(f); b&0x7c00 != 0x7c00 || b&0x3ff == 0 {
				t.Fatalf("NaN %#04x → %#04x", h, b)
			}
			continue
		}
		if back := pydata.F32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
	// Rounding to nearest even, overflow, underflow (values checked with numpy float16).
	cases := map[float32]uint16{
		1 + 1.0/2048:                  0x3c00, // tie → even (1.0)
		1 + 3.0/2048:                  0x3c02, // tie → even (1+2^-9)
		65504:                         0x7bff,
		65520:                         0x7c00, // rounds to inf
		float32(math.Pow(2, -25)):     0x0000, // tie between 0 and the smallest subnormal → 0
		float32(3 * math.Pow(2, -26)): 0x0001,
		-2.5:                          0xc100,
	}
	for f, want := range cases {
		if got := pydata.F32ToF16(f); got != want {
			t.Errorf("pydata.F32ToF16(%v) = %#04x want %#04x", f, got, want)
		}
	}
}

// pythonWithModules returns Debian's python3 when it can import the given modules, else skips the test.
func pythonWithModules(t *testing.T, modules ...string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).Run(); err != nil {
		t.Skipf("needs %s with %v (apt-get install python3-numpy python3-lmdb python3-msgpack "+
			"python3-msgpack-numpy): %v", py, modules, err)
	}
	return py
}

// TestPythonReadsGoOutput checks the Go writers against the reference readers: numpy, the bottom-up TSV decoding
// and ORIG's DetectFeatLmdb logic (testdata/read_with_python.py).
func TestPythonReadsGoOutput(t *testing.T) {
	py := pythonWithModules(t, "numpy", "lmdb", "msgpack", "msgpack_numpy")
	dir := t.TempDir()
	fs := testImages()
	npzDir, tsvPath, imgDir := filepath.Join(dir, "npz"), filepath.Join(dir, "f.tsv"), filepath.Join(dir, "img")
	if err := os.Mkdir(npzDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if err := WriteNPZ(filepath.Join(npzDir, f.ImageID+".npz"), f); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteTSV(tsvPath, fs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []bool{false, true} {
		if err := WriteImgDB(imgDir, fs, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ kind, path string }{{"npz", npzDir}, {"tsv", tsvPath}, {"img_db", imgDir},
		{"img_db_compressed", imgDir}} {
		out, err := exec.Command(py, "testdata/read_with_python.py", c.kind, c.path).Output()
		if err != nil {
			t.Fatalf("%s: python reader: %v", c.kind, err)
		}
		var got map[string]expectedImage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if len(got) != len(fs) {
			t.Fatalf("%s: python read %d images, want %d", c.kind, len(got), len(fs))
		}
		for _, f := range fs {
			g, ok := got[f.ImageID]
			if !ok {
				t.Fatalf("%s: python did not see %q", c.kind, f.ImageID)
			}
			if !strings.HasPrefix(c.kind, "img_db") {
				checkSame(t, c.kind+"/"+f.ImageID, g.features(), f, 0)
				continue
			}
			tol := 3 * math.Pow(2, -11) // float16 storage
			checkSame(t, c.kind+"/"+f.ImageID, g.features(), normalised(f), tol)
			checkFloats(t, c.kind+"/"+f.ImageID+" ORIG position vector", g.Pos7, f.PositionFeatures(), tol)
		}
	}
}

// TestCorruptBytesNeverPanic feeds every prefix and single-byte corruption of real records to the decoders.
func TestCorruptBytesNeverPanic(t *testing.T) {
	npz, err := os.ReadFile("testdata/npz/synthetic_000001.npz")
	if err != nil {
		t.Fatal(err)
	}
	store, err := lmdbkv.Open("testdata/img_db/feat_th0.2_max100_min10")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var mp []byte
	if _, err := store.Get("coco_val2014_000000000073.npz", func(v []byte) error {
		mp = bytes.Clone(v)
		return nil
	}); err != nil || mp == nil {
		t.Fatalf("fixture record: %v", err)
	}
	for _, rec := range [][]byte{npz, mp} {
		decode := func(b []byte) {
			if arrs, err := decodeImgDBValue(b); err == nil {
				fromArrays("x", arrs, 0)
			}
		}
		for n := 0; n < len(rec); n++ {
			decode(rec[:n])
			c := bytes.Clone(rec)
			c[n] ^= 0xff
			decode(c)
		}
	}
}

func TestMMFFeatures(t *testing.T) {
	py := pythonWithModules(t, "numpy", "lmdb")
	dir := t.TempDir()
	if out, err := exec.Command(py, "testdata/write_mmf_features.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("write_mmf_features.py: %v\n%s", err, out)
	}
	var want map[string]struct {
		Width, Height int
		NumBoxes      int       `json:"num_boxes"`
		Features      []float32 `json:"features"`
		Boxes         []float32 `json:"boxes"`
		ClassProbs    []float32 `json:"class_probs"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, store := range []string{"trainval2014.lmdb", "numeric.lmdb", "npy"} {
		r, err := Open(filepath.Join(dir, store))
		if err != nil {
			t.Fatal(err)
		}
		resolve := KeyResolver(r)
		for name, w := range want {
			// Annotation files name images by feature path, with or without a folder and ".npy".
			path := name + ".npy"
			if store == "npy" {
				path = "train2014/" + path
			}
			key, err := resolve(path)
			if err != nil {
				t.Fatalf("%s: %v", store, err)
			}
			f, err := r.Get(key)
			if err != nil {
				t.Fatalf("%s: %v", store, err)
			}
			wf := &ImageFeatures{ImageID: key, Width: w.Width, Height: w.Height, NumBoxes: w.NumBoxes, Dim: 8,
				NumClasses: 5, Features: w.Features, Boxes: w.Boxes, ClassProbs: w.ClassProbs}
			checkSame(t, store+" "+name, f, wf, 0)
		}
		if len(r.IDs()) != len(want) {
			t.Errorf("%s: %d ids, want %d", store, len(r.IDs()), len(want))
		}
		if _, err := resolve("COCO_train2014_000000000777.npy"); err == nil || !strings.Contains(err.Error(), "000000000777") {
			t.Errorf("%s: a missing image gave %v, want an error naming it", store, err)
		}
		r.Close()
	}
	bad, err := Open(filepath.Join(dir, "bad.lmdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	for key, wantMsg := range map[string]string{"no_bbox": "no boxes", "truncated": "truncated", "not_a_dict": "not a dict",
		"listed_only": "no record"} {
		_, err := bad.Get(key)
		if err == nil || !strings.Contains(err.Error(), wantMsg) || !strings.Contains(err.Error(), "bad.lmdb") ||
			!strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "\n") {
			t.Errorf("record %s: error %v, want one line naming the file, the key and %q", key, err, wantMsg)
		}
	}
	notStore := t.TempDir()
	os.WriteFile(filepath.Join(notStore, "readme.txt"), []byte("\x00\x01garbage\tmore\n"), 0o644)
	if _, err := Open(notStore); err == nil || !strings.Contains(err.Error(), "readme.txt") {
		t.Errorf("a directory of other files: %v, want an error saying what was found", err)
	}
	if _, err := Open(filepath.Join(notStore, "readme.txt")); err == nil || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("a file that is no store: %v, want an error saying what was found", err)
	}
}

// FuzzMMFRecord checks that no LMDB value makes the MMF feature-record decoder panic, and that what it accepts is
// consistent. Seeds: testdata/fuzz/FuzzMMFRecord (records written by Python's pickle) and the one below.
func FuzzMMFRecord(f *testing.F) {
	rec := map[string]any{
		"features":     pydata.Float32Array("<f4", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		"bbox":         pydata.Float32Array("<f4", []int{2, 4}, []float32{0, 0, 5, 5, 1, 1, 9, 9}),
		"image_width":  640,
		"image_height": pydata.Int64Scalar(480),
		"num_boxes":    2,
		"cls_prob":     pydata.Float32Array("<f4", []int{2, 2}, []float32{0.5, 0.5, 0.1, 0.9}),
	}
	b, err := pydata.Pickle(rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, val []byte) {
		m, err := mmfRecord(val)
		if err != nil {
			return
		}
		img, err := fromArrays("k", m, 0)
		if err != nil {
			return
		}
		if err := img.validate(); err != nil {
			t.Fatalf("accepted an inconsistent image: %v", err)
		}
	})
}

// FuzzImgDBValue does the same for ORIG img_db values (msgpack-numpy dicts or .npz bytes).
func FuzzImgDBValue(f *testing.F) {
	img := &ImageFeatures{ImageID: "x", Width: 1, Height: 1, NumBoxes: 1, Dim: 2, Features: []float32{1, 2},
		Boxes: []float32{0, 0, 1, 1}}
	for _, compressed := range []bool{false, true} {
		v, err := encodeImgDBValue(img, compressed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, val []byte) {
		m, err := decodeImgDBValue(val)
		if err != nil {
			return
		}
		if img, err := fromArrays("k", m, 0); err == nil {
			if err := img.validate(); err != nil {
				t.Fatalf("accepted an inconsistent image: %v", err)
			}
		}
	})
}
