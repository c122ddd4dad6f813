package dataset_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

// origDir holds the ORIG-format fixtures written by data/txtdb/testdata/make_orig_fixtures.py.
const origDir = "../txtdb/testdata/orig"

func openImgDB(t *testing.T, name string) features.Reader {
	t.Helper()
	r, err := features.Open(filepath.Join(origDir, "img", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func txtDB(name string) string { return filepath.Join(origDir, "txt", name) }

func TestLoadTxtDBRetrieval(t *testing.T) {
	set, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("itm_flickr30k_test.db"), Features: openImgDB(t, "flickr30k")})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 5 || !reflect.DeepEqual(set.ImageKeys(),
		[]string{"flickr30k_000000001", "flickr30k_000000002", "flickr30k_000000003"}) {
		t.Fatalf("%d examples, images %v", set.Len(), set.ImageKeys())
	}
	ex, _ := set.Example(3)
	if ex.ID != "201" || ex.ImageKey != "flickr30k_000000002" || ex.Text != "caption 201" || ex.QuestionID != 201 ||
		!reflect.DeepEqual(ex.InputIDs, []int32{6363, 1919, 119}) || ex.Targets != nil {
		t.Errorf("example 3 = %+v", ex)
	}
	// The nbb file keeps 3 of the 5 stored boxes of image 1.
	if n, err := set.NumBoxes("flickr30k_000000001"); n != 3 || err != nil {
		t.Errorf("NumBoxes = %d, %v", n, err)
	}
	// ORIG's max_txt_len keeps captions of at most that many pieces.
	short, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("itm_flickr30k_test.db"), Features: openImgDB(t, "flickr30k"),
		MaxTextLen: 3})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ex := range short.Examples {
		ids = append(ids, ex.ID)
	}
	if !reflect.DeepEqual(ids, []string{"101", "201"}) {
		t.Errorf("max_txt_len 3 keeps %v", ids)
	}
}

func TestLoadTxtDBVisualEntailment(t *testing.T) {
	set, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("ve_dev.db"), Features: openImgDB(t, "flickr30k"), NumAnswers: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"2248275918.jpg#2r1c": {1, 0, 0}, "2248275918.jpg#2r1e": {0, 1, 0},
		"3141613533.jpg#0r2n": {0, 0, 1}}
	for _, ex := range set.Examples {
		if !reflect.DeepEqual(ex.Targets, want[ex.ID]) || ex.QuestionID != -1 {
			t.Errorf("%s: targets %v, question id %d", ex.ID, ex.Targets, ex.QuestionID)
		}
	}
	if _, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("ve_dev.db"), Features: openImgDB(t, "flickr30k"),
		NumAnswers: 2}); err == nil || !strings.Contains(err.Error(), "label 2") || !strings.Contains(err.Error(), "3141613533.jpg#0r2n") {
		t.Errorf("label 2 of 2 answers: %v", err)
	}
	if _, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("ve_dev.db"), Features: openImgDB(t, "nlvr2_dev"),
		FeaturesPath: "nlvr2 feats"}); err == nil || !strings.Contains(err.Error(), "nlvr2 feats") {
		t.Errorf("images missing from the store: %v", err)
	}
	if _, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB("nlvr2_dev.db"), Features: openImgDB(t, "nlvr2_dev")}); err == nil ||
		!strings.Contains(err.Error(), "not one image file") {
		t.Errorf("NLVR2 pairs as single-image examples: %v", err)
	}
}

func TestLoadNLVR2(t *testing.T) {
	set, err := dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: txtDB("nlvr2_dev.db"), Features: openImgDB(t, "nlvr2_dev")})
	if err != nil {
		t.Fatal(err)
	}
	want := []dataset.PairExample{
		{ID: "dev-850-0-0", Text: "There are two dogs.", InputIDs: []int32{1247, 1132, 1160, 6363, 119},
			ImageKeys: [2]string{"nlvr2_dev-850-0-img0", "nlvr2_dev-850-0-img1"}, Label: 1},
		{ID: "dev-850-0-1", Text: "One image shows exactly one dog.", InputIDs: []int32{1448, 3077, 2196, 2839, 1141, 3676, 119},
			ImageKeys: [2]string{"nlvr2_dev-850-0-img0", "nlvr2_dev-850-0-img1"}, Label: 0},
		{ID: "dev-851-2-0", Text: "The left image has a cat.", InputIDs: []int32{1109, 1286, 3077, 1144, 170, 5855, 119},
			ImageKeys: [2]string{"nlvr2_dev-851-2-img0", "nlvr2_dev-851-2-img1"}, Label: -1},
	}
	if !reflect.DeepEqual(set.Examples, want) {
		t.Errorf("examples = %+v", set.Examples)
	}
	// The compressed img_db's nbb file keeps 4 of the 6 boxes of the right image of dev-851-2.
	f, err := set.Features("nlvr2_dev-851-2-img1")
	if err != nil || f.NumBoxes != 4 || f.Dim != 8 {
		t.Fatalf("features: %+v, %v", f, err)
	}
	if n, err := set.NumBoxes("nlvr2_dev-851-2-img1"); n != 4 || err != nil {
		t.Errorf("NumBoxes = %d, %v", n, err)
	}
	if _, err := dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: txtDB("nlvr2_dev.db"), Features: openImgDB(t, "flickr30k"),
		FeaturesPath: "flickr"}); err == nil || !strings.Contains(err.Error(), "nlvr2_dev-850-0-img0") ||
		!strings.Contains(err.Error(), "flickr") {
		t.Errorf("pair images missing: %v", err)
	}
	if _, err := dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: txtDB("ve_dev.db"), Features: openImgDB(t, "flickr30k")}); err == nil ||
		!strings.Contains(err.Error(), "pair") {
		t.Errorf("single images as NLVR2: %v", err)
	}
}

func TestLoadRefExp(t *testing.T) {
	gt, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: txtDB("refcoco_val.db"), Features: openImgDB(t, "re_coco_gt"),
		GroundTruth: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gt.Refs, [][]int{{0, 1}, {2}, {3}}) || gt.Len() != 4 {
		t.Fatalf("refs %v, %d sentences", gt.Refs, gt.Len())
	}
	want := dataset.RefExample{ID: "80", Text: "brown dog", InputIDs: []int32{3058, 3676}, RefID: 8, AnnID: 1002, ImageID: 42,
		ImageKey: "visual_grounding_coco_gt_000000000042", Target: 0, TargetBox: [4]float64{300.5, 40.25, 120, 90},
		ImageWidth: 640, ImageHeight: 480, NumAnnotations: 3}
	if ex, _ := gt.Example(2); !reflect.DeepEqual(*ex, want) {
		t.Errorf("sentence 80 = %+v", *ex)
	}
	// Image 42's regions are ann_ids [1002, 1001, 1003]: "man on the left" (ann 1001) is region 1.
	if ex, _ := gt.Example(0); ex.ID != "70" || ex.Target != 1 {
		t.Errorf("sentence 70 = %+v", ex)
	}
	if ex, _ := gt.Example(3); ex.Target != 1 || ex.ImageKey != "visual_grounding_coco_gt_000000000073" {
		t.Errorf("sentence 90 = %+v", ex)
	}
	ex, _ := gt.Example(0)
	f, err := gt.Features(ex)
	if err != nil || f.NumBoxes != 3 {
		t.Fatalf("gt features: %v, %v", f, err)
	}
	// Region 1 is annotation 1001's box [10, 20, 100, 200] (xywh) of a 640×480 image, normalised, in float16.
	if got := f.Boxes[4:8]; !near(got, []float32{10.0 / 640, 20.0 / 480, 110.0 / 640, 220.0 / 480}, 1e-3) {
		t.Errorf("region 1 box = %v", got)
	}
	if c := gt.Categories[18]; c == nil || c.Name != "dog" {
		t.Errorf("category 18 = %+v", c)
	}

	det, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: txtDB("refcoco_val.db"), Features: openImgDB(t, "re_coco_det"),
		MaxTextLen: 3})
	if err != nil {
		t.Fatal(err)
	}
	// ORIG keeps sentences of fewer than max_txt_len pieces: "man on the left" (4) is dropped.
	if !reflect.DeepEqual(det.Refs, [][]int{{0}, {1}, {2}}) || det.Examples[0].ID != "71" ||
		det.Examples[0].ImageKey != "visual_grounding_det_coco_000000000042" || det.GroundTruth {
		t.Errorf("detector set: refs %v, first %+v", det.Refs, det.Examples[0])
	}
	if f, err := det.Features(&det.Examples[0]); err != nil || f.NumBoxes != 4 {
		t.Errorf("det features: %v, %v", f, err)
	}
	// Detector features posing as ground truth: 4 regions for 3 annotations.
	bad, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: txtDB("refcoco_val.db"), Features: renamed(t, openImgDB(t, "re_coco_det")),
		FeaturesPath: "det-as-gt", GroundTruth: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Features(&bad.Examples[0]); err == nil || !strings.Contains(err.Error(), "4 regions but 3 annotations") ||
		!strings.Contains(err.Error(), "det-as-gt") {
		t.Errorf("region count check: %v", err)
	}
	if _, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: txtDB("refcoco_val.db"), Features: openImgDB(t, "re_coco_det"),
		GroundTruth: true, FeaturesPath: "det"}); err == nil || !strings.Contains(err.Error(), "visual_grounding_coco_gt_000000000042") {
		t.Errorf("gt keys in a det store: %v", err)
	}
}

func TestRefEpochOrder(t *testing.T) {
	set, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: txtDB("refcoco_val.db"), Features: openImgDB(t, "re_coco_gt"),
		GroundTruth: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for seed := range uint64(20) {
		order := set.EpochOrder(rand.New(rand.NewPCG(seed, 1)))
		sorted := slices.Sorted(slices.Values(order))
		if !reflect.DeepEqual(sorted, []int{0, 1, 2, 3}) {
			t.Fatalf("order %v is not a permutation", order)
		}
		// The two sentences of ref 7 (examples 0 and 1) stay together and in order.
		i := slices.Index(order, 0)
		if i == len(order)-1 || order[i+1] != 1 {
			t.Errorf("order %v splits ref 7", order)
		}
		seen[fmt.Sprint(order)] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct orders of 3 refs over 20 seeds, want all 6", len(seen))
	}
}

// near reports whether a and b have equal lengths and differ by at most tol element-wise.
func near(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// renamed copies the images of a RefCOCO detector store under the ground-truth keys.
func renamed(t *testing.T, r features.Reader) features.Reader {
	t.Helper()
	var fs []*features.ImageFeatures
	for _, id := range r.IDs() {
		f, err := r.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		f.ImageID = strings.Replace(id, "visual_grounding_det_coco_", "visual_grounding_coco_gt_", 1)
		fs = append(fs, f)
	}
	m, err := dataset.NewMemFeatures(fs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
