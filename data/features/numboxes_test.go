package features

import (
	"math"
	"strings"
	"testing"
)

func TestNumBoxes(t *testing.T) {
	// The nbb file keeps 2 of the 3 stored boxes of coco_val2014_000000000042 (make_fixtures.py).
	db, err := Open("testdata/img_db/feat_th0.2_max100_min10")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"coco_val2014_000000000042", "coco_val2014_000000000042.npz"} {
		if n, err := NumBoxes(db, id); n != 2 || err != nil {
			t.Errorf("img_db NumBoxes(%s) = %d, %v; want 2", id, n, err)
		}
	}
	if _, err := NumBoxes(db, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing image: %v", err)
	}
	npz, err := Open("testdata/npz")
	if err != nil {
		t.Fatal(err)
	}
	defer npz.Close()
	if n, err := NumBoxes(npz, "synthetic_000002"); n != 2 || err != nil {
		t.Errorf("npz NumBoxes = %d, %v; want 2", n, err)
	}
}

func TestImgDBNumBBRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fs := testImages()
	if err := WriteImgDBNumBB(dir, 4, fs, false); err == nil || !strings.Contains(err.Error(), "more than 4") {
		t.Fatalf("5 boxes into feat_numbb4: %v", err)
	}
	if err := WriteImgDBNumBB(dir, 100, fs, true); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir) // ORIG's img_dir holding feat_numbb100_compressed/
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range fs {
		got, err := r.Get(f.ImageID)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, f.ImageID, got, normalised(f), 3*math.Pow(2, -11))
		if n, err := NumBoxes(r, f.ImageID); n != f.NumBoxes || err != nil {
			t.Errorf("NumBoxes(%s) = %d, %v; want %d", f.ImageID, n, err, f.NumBoxes)
		}
	}
}
