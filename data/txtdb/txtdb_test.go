package txtdb

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/uniter-go/uniter/data/features/lmdbkv"
	"github.com/vmihailenco/msgpack/v5"
)

var wantMeta = Meta{CLS: 101, SEP: 102, MASK: 103, UNK: 100, VRange: [2]int32{106, 28996},
	Bert: "bert-base-cased", Toker: "bert-base-cased"}

// TestReadPythonFixture reads testdata/txt_db, written by lmdb + lz4.frame + msgpack (make_fixtures.py).
func TestReadPythonFixture(t *testing.T) {
	db, err := Open("testdata/txt_db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Meta() != wantMeta {
		t.Errorf("meta = %+v", db.Meta())
	}
	if ids := db.IDs(); !reflect.DeepEqual(ids, []string{"262146000", "458752000", "dev-850-0-0"}) {
		t.Fatalf("IDs = %v", ids)
	}
	vqa, err := db.Get("458752000")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(vqa.InputIDs, []int32{1184, 1110, 1142, 6307, 1678, 2205, 1194, 136}) ||
		vqa.ImageFile != "coco_train2014_000000458752.npz" ||
		!reflect.DeepEqual(vqa.Target, &VQATarget{Labels: []int32{12, 3101}, Scores: []float32{1, 0.3}}) {
		t.Errorf("VQA example = %+v, target %+v", vqa, vqa.Target)
	}
	if q, _ := vqa.Raw["question"].(string); q != "What is this photo taken looking through?" {
		t.Errorf("raw question = %v", vqa.Raw["question"])
	}
	if qid, ok := toFloat(vqa.Raw["question_id"]); !ok || qid != 458752000 {
		t.Errorf("raw question_id = %v", vqa.Raw["question_id"])
	}
	empty, err := db.Get("262146000")
	if err != nil {
		t.Fatal(err)
	}
	if empty.Target == nil || len(empty.Target.Labels) != 0 || len(empty.Target.Scores) != 0 {
		t.Errorf("empty VQA target = %+v", empty.Target)
	}
	nlvr, err := db.Get("dev-850-0-0")
	if err != nil {
		t.Fatal(err)
	}
	if nlvr.ImageFile != "" || nlvr.Target != nil || nlvr.InputIDs[5] != 28995 {
		t.Errorf("NLVR2 example = %+v", nlvr)
	}
	if n, ok := db.Len("dev-850-0-0"); !ok || n != 6 {
		t.Errorf("Len = %d, %v", n, ok)
	}
	if got := db.Txt2Img("dev-850-0-0"); !reflect.DeepEqual(got,
		[]string{"nlvr2_dev-850-0-img0.npz", "nlvr2_dev-850-0-img1.npz"}) {
		t.Errorf("Txt2Img = %v", got)
	}
	if got := db.Img2Txts("coco_train2014_000000458752.npz"); !reflect.DeepEqual(got, []string{"458752000"}) {
		t.Errorf("Img2Txts = %v", got)
	}
}

// readAll returns every example of a txt_db.
func readAll(t *testing.T, dir string) []Example {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exs []Example
	for _, id := range db.IDs() {
		ex, err := db.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, *ex)
	}
	return exs
}

// jsonOf renders a value as JSON so that records decoded with different integer widths compare equal.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	orig := readAll(t, "testdata/txt_db")
	built := Example{ID: "synthetic_7", InputIDs: []int32{2054, 3609, 2003, 1996, 9686}, ImageFile: "synthetic_000007.npz",
		Target: &VQATarget{Labels: []int32{4}, Scores: []float32{0.9}}}
	dir := filepath.Join(t.TempDir(), "txt_db")
	if err := Write(dir, wantMeta, append(orig, built)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock.mdb")); err == nil {
		t.Errorf("writer left a lock.mdb")
	}
	got := readAll(t, dir)
	if len(got) != len(orig)+1 {
		t.Fatalf("%d examples, want %d", len(got), len(orig)+1)
	}
	for i, o := range orig {
		g := got[i]
		if g.ID != o.ID || !reflect.DeepEqual(g.InputIDs, o.InputIDs) || g.ImageFile != o.ImageFile ||
			!reflect.DeepEqual(g.Target, o.Target) || jsonOf(t, g.Raw) != jsonOf(t, o.Raw) {
			t.Errorf("example %s: got %+v want %+v", o.ID, g, o)
		}
	}
	last := got[len(got)-1]
	if last.ID != built.ID || !reflect.DeepEqual(last.InputIDs, built.InputIDs) || last.ImageFile != built.ImageFile ||
		!reflect.DeepEqual(last.Target, built.Target) {
		t.Errorf("built example: got %+v", last)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Meta() != wantMeta || !reflect.DeepEqual(db.Txt2Img("dev-850-0-0"),
		[]string{"nlvr2_dev-850-0-img0.npz", "nlvr2_dev-850-0-img1.npz"}) ||
		!reflect.DeepEqual(db.Img2Txts("synthetic_000007.npz"), []string{"synthetic_7"}) {
		t.Errorf("side files: meta %+v, txt2img %v", db.Meta(), db.Txt2Img("dev-850-0-0"))
	}
	if n, _ := db.Len("synthetic_7"); n != 5 {
		t.Errorf("id2len = %d, want 5", n)
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	exs := readAll(t, "testdata/txt_db")
	var vals [2][]byte
	for i := range vals {
		v, err := encodeExample(&exs[1])
		if err != nil {
			t.Fatal(err)
		}
		vals[i] = v
	}
	if string(vals[0]) != string(vals[1]) {
		t.Errorf("two encodings of one example differ")
	}
}

// TestPythonReadsGoOutput reads a Go-written txt_db with ORIG's TxtLmdb logic (testdata/read_with_python.py).
func TestPythonReadsGoOutput(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import lmdb, msgpack, lz4.frame").Run(); err != nil {
		t.Skipf("needs %s with lmdb, msgpack, lz4 (apt-get install python3-lmdb python3-msgpack python3-lz4): %v",
			py, err)
	}
	exs := readAll(t, "testdata/txt_db")
	dir := filepath.Join(t.TempDir(), "txt_db")
	if err := Write(dir, wantMeta, exs); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/read_with_python.py", dir).Output()
	if err != nil {
		t.Fatalf("python reader: %v", err)
	}
	var got struct {
		Meta     Meta                      `json:"meta"`
		ID2Len   map[string]int            `json:"id2len"`
		Txt2Img  map[string]any            `json:"txt2img"`
		Img2Txts map[string][]string       `json:"img2txts"`
		Records  map[string]map[string]any `json:"records"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want, err := Open("testdata/txt_db")
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if got.Meta != wantMeta || !reflect.DeepEqual(got.ID2Len, want.id2len) ||
		jsonOf(t, got.Txt2Img) != jsonOf(t, want.txt2img) || !reflect.DeepEqual(got.Img2Txts, want.img2txts) {
		t.Errorf("side files read by python: %+v", got)
	}
	for _, ex := range exs {
		rec := got.Records[ex.ID]
		if jsonOf(t, rec["input_ids"]) != jsonOf(t, ex.InputIDs) || jsonOf(t, rec["img_fname"]) != jsonOf(t, ex.Raw["img_fname"]) {
			t.Errorf("%s: python read %v", ex.ID, rec)
		}
		if ex.Target == nil {
			if jsonOf(t, rec["target"]) != jsonOf(t, ex.Raw["target"]) {
				t.Errorf("%s: target %v want %v", ex.ID, rec["target"], ex.Raw["target"])
			}
			continue
		}
		tg, _ := rec["target"].(map[string]any)
		scores, _ := tg["scores"].([]any)
		if jsonOf(t, tg["labels"]) != jsonOf(t, ex.Target.Labels) || len(scores) != len(ex.Target.Scores) {
			t.Fatalf("%s: target %v want %+v", ex.ID, tg, ex.Target)
		}
		for i, s := range scores {
			if f, _ := s.(float64); math.Abs(f-float64(ex.Target.Scores[i])) > 1e-7 {
				t.Errorf("%s: score %d = %v want %v", ex.ID, i, s, ex.Target.Scores[i])
			}
		}
	}
}

func TestConcurrentGet(t *testing.T) {
	db, err := Open("testdata/txt_db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := db.IDs()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := db.Get(ids[(g+i)%len(ids)]); err != nil {
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
}

func TestBadInputs(t *testing.T) {
	db, err := Open("testdata/txt_db")
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Get("nope")
	if err == nil || !strings.Contains(err.Error(), "testdata/txt_db") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing id: %v", err)
	}
	db.Close()
	if _, err := db.Get("458752000"); err == nil {
		t.Errorf("Get after Close succeeded")
	}

	// Copy the fixture, then break one side file at a time.
	dir := t.TempDir()
	for _, name := range []string{"data.mdb", "meta.json", "id2len.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/txt_db", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := filepath.Join(dir, "meta.json")
	good, _ := os.ReadFile(meta)
	os.WriteFile(meta, []byte(`{"CLS": 101,`), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), meta) {
		t.Errorf("malformed meta.json: %v", err)
	}
	os.WriteFile(meta, good, 0o644)
	os.Remove(filepath.Join(dir, "id2len.json"))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "id2len.json") {
		t.Errorf("missing id2len.json: %v", err)
	}

	// Values that are not lz4(msgpack) or lack input_ids.
	bad := filepath.Join(t.TempDir(), "bad")
	vals := map[string][]byte{"garbage": []byte("not lz4")}
	mp, err := msgpack.Marshal(map[string]any{"img_fname": "x.npz"})
	if err != nil {
		t.Fatal(err)
	}
	var noIDs bytes.Buffer
	zw := lz4.NewWriter(&noIDs)
	zw.Write(mp)
	zw.Close()
	vals["no_ids"] = noIDs.Bytes()
	keys := []string{"garbage", "no_ids"}
	if err := lmdbkv.Write(bad, len(keys), func(i int) (string, []byte, error) {
		return keys[i], vals[keys[i]], nil
	}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bad, "meta.json"), good, 0o644)
	os.WriteFile(filepath.Join(bad, "id2len.json"), []byte(`{}`), 0o644)
	bdb, err := Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	for _, k := range keys {
		if _, err := bdb.Get(k); err == nil || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), bad) {
			t.Errorf("bad value %s: %v", k, err)
		}
	}
}
