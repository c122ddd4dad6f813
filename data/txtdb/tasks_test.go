package txtdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/features"
)

// origDir holds the downstream-task txt_dbs written by testdata/make_orig_fixtures.py.
const origDir = "testdata/orig/txt"

func openDB(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func get(t *testing.T, db *DB, id string) *Example {
	t.Helper()
	ex, err := db.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func TestRetrievalFixture(t *testing.T) {
	db := openDB(t, filepath.Join(origDir, "itm_flickr30k_test.db"))
	if !reflect.DeepEqual(db.IDs(), []string{"100", "101", "200", "201", "300"}) {
		t.Fatalf("IDs = %v", db.IDs())
	}
	ex := get(t, db, "200")
	if ex.ImageFile != "flickr30k_000000002.npz" || !reflect.DeepEqual(ex.ImageFiles(), []string{ex.ImageFile}) ||
		!reflect.DeepEqual(ex.InputIDs, []int32{1160, 6363, 1132, 1919, 1107, 170, 2754, 119}) {
		t.Errorf("example 200 = %+v", ex)
	}
	if got := db.Img2Txts("flickr30k_000000001.npz"); !reflect.DeepEqual(got, []string{"100", "101"}) {
		t.Errorf("Img2Txts = %v", got)
	}
	if got := db.Txt2Img("300"); !reflect.DeepEqual(got, []string{"flickr30k_000000003.npz"}) {
		t.Errorf("Txt2Img = %v", got)
	}
}

func TestVisualEntailmentFixture(t *testing.T) {
	db := openDB(t, filepath.Join(origDir, "ve_dev.db"))
	for id, label := range map[string]int32{"2248275918.jpg#2r1c": 0, "2248275918.jpg#2r1e": 1, "3141613533.jpg#0r2n": 2} {
		ex := get(t, db, id)
		if !reflect.DeepEqual(ex.Target, &VQATarget{Labels: []int32{label}, Scores: []float32{1}}) {
			t.Errorf("%s: target %+v, want label %d", id, ex.Target, label)
		}
	}
}

func TestNLVR2Fixture(t *testing.T) {
	db := openDB(t, filepath.Join(origDir, "nlvr2_dev.db"))
	if !reflect.DeepEqual(db.IDs(), []string{"dev-850-0-0", "dev-850-0-1", "dev-851-2-0"}) {
		t.Fatalf("IDs = %v (the example with a missing image must have been dropped by prepro)", db.IDs())
	}
	want := map[string]NLVR2Fields{
		"dev-850-0-0": {ImageFiles: [2]string{"nlvr2_dev-850-0-img0.npz", "nlvr2_dev-850-0-img1.npz"}, Target: 1},
		"dev-850-0-1": {ImageFiles: [2]string{"nlvr2_dev-850-0-img0.npz", "nlvr2_dev-850-0-img1.npz"}, Target: 0},
		"dev-851-2-0": {ImageFiles: [2]string{"nlvr2_dev-851-2-img0.npz", "nlvr2_dev-851-2-img1.npz"}, Target: -1},
	}
	for id, w := range want {
		ex := get(t, db, id)
		got, err := ex.NLVR2()
		if err != nil || got != w {
			t.Errorf("%s: NLVR2() = %+v, %v; want %+v", id, got, err, w)
		}
	}
	if s, _ := get(t, db, "dev-850-0-1").Raw["sentence"].(string); s != "One image shows exactly one dog." {
		t.Errorf("raw sentence = %q", s)
	}
	if db.Meta().CLS != 101 || db.Meta().VRange != [2]int32{106, 28996} {
		t.Errorf("meta = %+v", db.Meta())
	}
}

func TestRefFixture(t *testing.T) {
	dir := filepath.Join(origDir, "refcoco_val.db")
	db := openDB(t, dir)
	ri, err := ReadRefInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Refs) != 3 || ri.Refs[0].RefID != 7 || !reflect.DeepEqual(ri.Refs[0].SentIDs, []int64{70, 71}) ||
		ri.Refs[2].ImageID != 73 {
		t.Errorf("refs = %+v", ri.Refs)
	}
	if im := ri.Images[42]; im == nil || !reflect.DeepEqual(im.AnnIDs, []int64{1002, 1001, 1003}) || im.Width != 640 ||
		im.Height != 480 {
		t.Errorf("image 42 = %+v", im)
	}
	if a := ri.Annotations[1002]; a == nil || a.BBox != [4]float64{300.5, 40.25, 120, 90} || a.CategoryID != 18 {
		t.Errorf("annotation 1002 = %+v", a)
	}
	if c := ri.Categories[18]; c == nil || c.Name != "dog" {
		t.Errorf("category 18 = %+v", c)
	}
	f, err := get(t, db, "80").Ref()
	want := RefFields{SentID: 80, RefID: 8, AnnID: 1002, ImageID: 42, Sent: "brown dog", BBox: [4]float64{300.5, 40.25, 120, 90}}
	if err != nil || f != want {
		t.Errorf("Ref() = %+v, %v; want %+v", f, err, want)
	}
	if ex := get(t, db, "80"); ex.ImageFile != "visual_grounding_coco_gt_000000000042.npz" {
		t.Errorf("img_fname = %q", ex.ImageFile)
	}
	ids, err := ri.SentIDs(db, []int{2, 0, 1}, -1)
	if err != nil || !reflect.DeepEqual(ids, []string{"90", "70", "71", "80"}) {
		t.Errorf("SentIDs(all) = %v, %v", ids, err)
	}
	// ORIG keeps sentences strictly shorter than max_txt_len: "man on the left" has 4 pieces.
	ids, err = ri.SentIDs(db, []int{0, 1, 2}, 4)
	if err != nil || !reflect.DeepEqual(ids, []string{"71", "80", "90"}) {
		t.Errorf("SentIDs(max 4) = %v, %v", ids, err)
	}
}

func TestFieldErrors(t *testing.T) {
	db := openDB(t, filepath.Join(origDir, "itm_flickr30k_test.db"))
	ex := get(t, db, "100")
	if _, err := ex.NLVR2(); err == nil || !strings.Contains(err.Error(), "img_fname") || !strings.Contains(err.Error(), "100") {
		t.Errorf("NLVR2 of a retrieval record: %v", err)
	}
	if _, err := ex.Ref(); err == nil || !strings.Contains(err.Error(), "100") {
		t.Errorf("Ref of a retrieval record: %v", err)
	}
	bad := &Example{ID: "x", Raw: map[string]any{"img_fname": []any{"a.npz", "b.npz"}, "target": int8(3)}}
	if _, err := bad.NLVR2(); err == nil || !strings.Contains(err.Error(), "target") {
		t.Errorf("NLVR2 target 3: %v", err)
	}
	ref := &Example{ID: "y", Raw: map[string]any{"sent_id": int8(1), "ref_id": int16(2), "ann_id": int32(3), "image_id": int64(4), "sent": "s",
		"bbox": []any{1.0, 2.0, 3.0}}}
	if _, err := ref.Ref(); err == nil || !strings.Contains(err.Error(), "bbox") {
		t.Errorf("Ref with a 3-number bbox: %v", err)
	}
	dir := t.TempDir()
	for _, name := range []string{"refs.json", "images.json", "annotations.json", "categories.json"} {
		b, err := os.ReadFile(filepath.Join(origDir, "refcoco_val.db", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "images.json" {
			b = []byte(`[]`)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	if _, err := ReadRefInfo(dir); err == nil || !strings.Contains(err.Error(), "images.json") {
		t.Errorf("refs without their images: %v", err)
	}
	os.Remove(filepath.Join(dir, "categories.json"))
	if _, err := ReadRefInfo(dir); err == nil || !strings.Contains(err.Error(), "categories.json") {
		t.Errorf("missing categories.json: %v", err)
	}
}

// TestOrigFixturesRegenerate runs make_orig_fixtures.py again and checks that the committed fixtures are what it
// writes: every txt_db record, side file and img_db value decodes to the same content.
func TestOrigFixturesRegenerate(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import lmdb, msgpack, msgpack_numpy, numpy, lz4.frame").Run(); err != nil {
		t.Skipf("needs %s with lmdb, msgpack, msgpack_numpy, numpy, lz4: %v", py, err)
	}
	out := filepath.Join(t.TempDir(), "orig")
	cmd := exec.Command(py, "make_orig_fixtures.py", out)
	cmd.Dir = "testdata"
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_orig_fixtures.py: %v\n%s", err, b)
	}
	for _, name := range []string{"itm_flickr30k_test.db", "ve_dev.db", "nlvr2_dev.db", "refcoco_val.db"} {
		want, got := readAll(t, filepath.Join(origDir, name)), readAll(t, filepath.Join(out, "txt", name))
		if jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("%s: regenerated records differ:\n got %s\nwant %s", name, jsonOf(t, got), jsonOf(t, want))
		}
		entries, _ := os.ReadDir(filepath.Join(origDir, name))
		for _, e := range entries {
			if filepath.Ext(e.Name()) != ".json" {
				continue
			}
			a, _ := os.ReadFile(filepath.Join(origDir, name, e.Name()))
			b, err := os.ReadFile(filepath.Join(out, "txt", name, e.Name()))
			if err != nil || string(a) != string(b) {
				t.Errorf("%s/%s: regenerated side file differs (%v)", name, e.Name(), err)
			}
		}
	}
	for _, name := range []string{"flickr30k", "nlvr2_dev", "re_coco_gt", "re_coco_det"} {
		want, got := readImages(t, filepath.Join("testdata/orig/img", name)), readImages(t, filepath.Join(out, "img", name))
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("img_db %s: regenerated images differ (%d vs %d images)", name, len(got), len(want))
		}
	}
}

// readImages returns every image of an img_db as the features reader decodes it.
func readImages(t *testing.T, dir string) []*features.ImageFeatures {
	t.Helper()
	r, err := features.OpenImgDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*features.ImageFeatures
	for _, id := range r.IDs() {
		f, err := r.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}
