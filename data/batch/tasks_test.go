package batch

import (
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

// origTokens are the bert-base-cased ids of the fixtures' meta.json.
var origTokens = TokenIDs{CLS: 101, SEP: 102, MASK: 103, RandLo: 106, RandHi: 28996}

func openStore(t *testing.T, name string) features.Reader {
	t.Helper()
	r, err := features.Open(filepath.Join(origDir, "img", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// wantText is row's expected text: [CLS] pieces [SEP] then padding.
func checkText(t *testing.T, bt *Batch, row int, pieces []int32, tok TokenIDs) {
	t.Helper()
	Lt := bt.TextLen
	want := make([]int32, Lt)
	mask := make([]float32, Lt)
	want[0] = tok.CLS
	copy(want[1:], pieces)
	want[len(pieces)+1] = tok.SEP
	for i := range len(pieces) + 2 {
		mask[i] = 1
	}
	if got := bt.InputIDs[row*Lt : (row+1)*Lt]; !slices.Equal(got, want) {
		t.Errorf("row %d: input ids %v, want %v", row, got, want)
	}
	if got := bt.TxtMask[row*Lt : (row+1)*Lt]; !slices.Equal(got, mask) {
		t.Errorf("row %d: text mask %v, want %v", row, got, mask)
	}
}

// checkRegions checks that the regions of f sit in row from slot offset on, with token type typeID when the batch
// has types, and returns the slot after them.
func checkRegions(t *testing.T, bt *Batch, row, offset int, typeID int32, f *features.ImageFeatures) int {
	t.Helper()
	D, Nr := bt.FeatDim, bt.NumRegions
	pos := f.PositionFeatures()
	for k := range f.NumBoxes {
		r := row*Nr + offset + k
		if !slices.Equal(bt.ImgFeat[r*D:(r+1)*D], f.Features[k*D:(k+1)*D]) ||
			!slices.Equal(bt.ImgPos[r*posDim:(r+1)*posDim], pos[k*posDim:(k+1)*posDim]) || bt.ImgMask[r] != 1 {
			t.Fatalf("row %d slot %d: not region %d of %s", row, offset+k, k, f.ImageID)
		}
		if bt.ImgTypeIDs != nil && bt.ImgTypeIDs[r] != typeID {
			t.Fatalf("row %d slot %d: type %d, want %d", row, offset+k, bt.ImgTypeIDs[r], typeID)
		}
	}
	return offset + f.NumBoxes
}

// checkPadding checks that the region slots of row from offset on are empty.
func checkPadding(t *testing.T, bt *Batch, row, offset int) {
	t.Helper()
	D, Nr := bt.FeatDim, bt.NumRegions
	for s := offset; s < Nr; s++ {
		r := row*Nr + s
		if bt.ImgMask[r] != 0 || slices.ContainsFunc(bt.ImgFeat[r*D:(r+1)*D], func(v float32) bool { return v != 0 }) ||
			(bt.ImgTypeIDs != nil && bt.ImgTypeIDs[r] != 0) {
			t.Fatalf("row %d slot %d is not padding", row, s)
		}
	}
}

func TestNLVR2Batches(t *testing.T) {
	store := openStore(t, "nlvr2_dev")
	set, err := dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: filepath.Join(origDir, "txt", "nlvr2_dev.db"), Features: store})
	if err != nil {
		t.Fatal(err)
	}
	img := func(key string) *features.ImageFeatures {
		f, err := store.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ex0, ex2 := set.Examples[0], set.Examples[2] // regions: dev-850-0 3 and 5, dev-851-2 3 and 4 (nbb files)

	paired, err := NewNLVR2Builder(set, NLVR2Paired, 8, origTokens)
	if err != nil {
		t.Fatal(err)
	}
	sizes, err := paired.Sizes()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ExampleSize{Tokens: 2*5 + 3 + 5, Text: 7, Regions: 5}); sizes[0] != want || paired.RowsPerExample() != 2 {
		t.Errorf("paired size %+v, want %+v", sizes[0], want)
	}
	bt, err := paired.Build(Plan{Indices: []int{0, 2}, Shape: Shape{Rows: 6, TextLen: 10, NumRegions: 6}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bt.Task != TaskNLVR2Paired || !slices.Equal(bt.Labels, []int32{1, -1, 0}) ||
		!slices.Equal(bt.ExampleOK, []bool{true, true, true, true, false, false}) ||
		!slices.Equal(bt.ExampleIDs, []string{"dev-850-0-0", "dev-850-0-0", "dev-851-2-0", "dev-851-2-0", "", ""}) ||
		!slices.Equal(bt.ImageIDs, []string{"nlvr2_dev-850-0-img0", "nlvr2_dev-850-0-img1", "nlvr2_dev-851-2-img0",
			"nlvr2_dev-851-2-img1", "", ""}) {
		t.Errorf("paired batch: labels %v ok %v ids %v images %v", bt.Labels, bt.ExampleOK, bt.ExampleIDs, bt.ImageIDs)
	}
	for e, ex := range []dataset.PairExample{ex0, ex2} {
		for k := range 2 {
			row := 2*e + k
			checkText(t, bt, row, ex.InputIDs, origTokens)
			checkPadding(t, bt, row, checkRegions(t, bt, row, 0, int32(k+1), img(ex.ImageKeys[k])))
		}
	}
	checkPadding(t, bt, 4, 0)

	triplet, err := NewNLVR2Builder(set, NLVR2Triplet, 8, origTokens)
	if err != nil {
		t.Fatal(err)
	}
	if sizes, _ := triplet.Sizes(); sizes[2] != (ExampleSize{Tokens: 7 + 3 + 4, Text: 9, Regions: 7}) {
		t.Errorf("triplet size %+v", sizes[2])
	}
	bt, err = triplet.Build(Plan{Indices: []int{2, 0}, Shape: Shape{Rows: 2, TextLen: 9, NumRegions: 9}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bt.Task != TaskNLVR2Triplet || !slices.Equal(bt.Labels, []int32{-1, 1}) || bt.ImageIDs[0] != "nlvr2_dev-851-2-img0" {
		t.Errorf("triplet batch: labels %v images %v", bt.Labels, bt.ImageIDs)
	}
	for row, ex := range []dataset.PairExample{ex2, ex0} {
		checkText(t, bt, row, ex.InputIDs, origTokens)
		end := checkRegions(t, bt, row, 0, 1, img(ex.ImageKeys[0]))
		checkPadding(t, bt, row, checkRegions(t, bt, row, end, 2, img(ex.ImageKeys[1])))
	}
	if _, err := triplet.Build(Plan{Indices: []int{0, 1, 2}, Shape: Shape{Rows: 2, TextLen: 9, NumRegions: 9}}, nil); err == nil {
		t.Errorf("3 examples in 2 rows: no error")
	}
	if _, err := paired.Build(Plan{Indices: []int{0}, Shape: Shape{Rows: 3, TextLen: 9, NumRegions: 9}}, nil); err == nil {
		t.Errorf("odd rows for the paired layout: no error")
	}
}

// retrievalSet is a caption set of 12 images with 3 captions each (text lengths 1..9, 2..13 regions).
func retrievalSet(t *testing.T) *dataset.Set {
	return newSource(t, spec{images: 12, perImage: 3, dim: 4, boxes: func(i int) int { return 2 + i }, textLen: func(j int) int { return 1 + j%9 }})
}

func TestRetrievalBatches(t *testing.T) {
	set := retrievalSet(t)
	caption := func(id string) *dataset.Example {
		i := slices.IndexFunc(set.Examples, func(ex dataset.Example) bool { return ex.ID == id })
		return &set.Examples[i]
	}
	for _, c := range []struct {
		sampling         RetrievalSampling
		group            int
		negImgs, negTxts int
	}{{RetrievalRandom, 5, 2, 2}, {RetrievalHardFromText, 5, 4, 0}, {RetrievalHardFromImage, 5, 0, 4}, {RetrievalHardBoth, 10, 4, 4}} {
		negs := max(c.negImgs, c.negTxts)
		b, err := NewRetrievalBuilder(set, c.sampling, negs, 4, testTokens)
		if err != nil {
			t.Fatal(err)
		}
		if b.RowsPerExample() != c.group {
			t.Fatalf("sampling %d: %d rows per example", c.sampling, b.RowsPerExample())
		}
		sizes, err := b.Sizes()
		if err != nil {
			t.Fatal(err)
		}
		if sizes[4] != (ExampleSize{Tokens: 5 + 3, Text: 11, Regions: 13}) {
			t.Errorf("size %+v", sizes[4])
		}
		idx := []int{4, 30, 7}
		plan := Plan{Indices: idx, Shape: Shape{Rows: 4 * c.group, TextLen: 11, NumRegions: 13}}
		bt, err := b.Build(plan, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if bt.Task != TaskRetrieval || bt.GroupSize != c.group {
			t.Fatalf("task %s group %d", bt.Task, bt.GroupSize)
		}
		for e, i := range idx {
			ex := &set.Examples[i]
			rows := make([]int, c.group)
			for k := range rows {
				rows[k] = e*c.group + k
			}
			// The positive first.
			if bt.ExampleIDs[rows[0]] != ex.ID || bt.ImageIDs[rows[0]] != ex.ImageKey {
				t.Errorf("group %d: first row (%s, %s), want the positive (%s, %s)", e, bt.ExampleIDs[rows[0]],
					bt.ImageIDs[rows[0]], ex.ID, ex.ImageKey)
			}
			negImgs := map[string]bool{}
			negTxts := map[string]bool{}
			for k, r := range rows[1:] {
				other := caption(bt.ExampleIDs[r])
				if c.sampling == RetrievalHardBoth && k+1 == c.group/2 {
					// The image pool starts with the positive again, after the text pool's negative images.
					if other.ID != ex.ID || bt.ImageIDs[r] != ex.ImageKey || len(negImgs) != c.negImgs || len(negTxts) != 0 {
						t.Errorf("group %d: image pool starts with (%s, %s) after %d negative images", e, other.ID, bt.ImageIDs[r], len(negImgs))
					}
					continue
				}
				switch {
				case bt.ExampleIDs[r] == ex.ID && bt.ImageIDs[r] != ex.ImageKey:
					negImgs[bt.ImageIDs[r]] = true
				case bt.ImageIDs[r] == ex.ImageKey && other.ImageKey != ex.ImageKey:
					negTxts[other.ID] = true
				default:
					t.Errorf("group %d row %d: (%s, %s) is no negative of (%s, %s)", e, r, other.ID, bt.ImageIDs[r], ex.ID, ex.ImageKey)
				}
				checkText(t, bt, r, other.InputIDs, testTokens)
				f, _ := set.Features(bt.ImageIDs[r])
				checkPadding(t, bt, r, checkRegions(t, bt, r, 0, 1, f))
			}
			if len(negImgs) != c.negImgs || len(negTxts) != c.negTxts {
				t.Errorf("sampling %d group %d: %d distinct negative images and %d captions, want %d and %d", c.sampling, e,
					len(negImgs), len(negTxts), c.negImgs, c.negTxts)
			}
		}
		for r := 3 * c.group; r < 4*c.group; r++ {
			if bt.ExampleOK[r] || bt.ExampleIDs[r] != "" {
				t.Errorf("padding row %d in use", r)
			}
		}
		again, _ := b.Build(plan, rand.New(rand.NewPCG(1, 2)))
		other, _ := b.Build(plan, rand.New(rand.NewPCG(3, 2)))
		if !reflect.DeepEqual(bt, again) || reflect.DeepEqual(bt.ImageIDs, other.ImageIDs) && reflect.DeepEqual(bt.ExampleIDs, other.ExampleIDs) {
			t.Errorf("sampling %d: negatives are not a function of the generator", c.sampling)
		}
		if c.sampling == RetrievalHardFromText {
			hard, err := bt.SelectRows([]int{0, 3, 1})
			if err != nil {
				t.Fatal(err)
			}
			if hard.Size != 3 || hard.GroupSize != 3 || !slices.Equal(hard.ImageIDs, []string{bt.ImageIDs[0], bt.ImageIDs[3], bt.ImageIDs[1]}) {
				t.Errorf("selected rows: %+v", hard.ImageIDs)
			}
			f, _ := set.Features(bt.ImageIDs[3])
			checkText(t, hard, 1, set.Examples[4].InputIDs, testTokens)
			checkPadding(t, hard, 1, checkRegions(t, hard, 1, 0, 1, f))
			if _, err := bt.SelectRows([]int{0, 99}); err == nil {
				t.Errorf("row 99 selected")
			}
		}
	}
	// Negatives are uniform over the other images: every other image of image 0's caption is drawn.
	b, _ := NewRetrievalBuilder(set, RetrievalHardFromText, 10, 4, testTokens)
	drawn := map[string]int{}
	for s := range uint64(200) {
		bt, _ := b.Build(Plan{Indices: []int{0}, Shape: Shape{Rows: 11, TextLen: 11, NumRegions: 13}}, rand.New(rand.NewPCG(s, 0)))
		for _, k := range bt.ImageIDs[1:] {
			drawn[k]++
		}
	}
	for i := 1; i < 12; i++ {
		if n := drawn[imageKey(i)]; n < 140 || n > 220 { // 200·10/11 ≈ 182
			t.Errorf("image %d drawn %d times in 200 pools of 10 of 11", i, n)
		}
	}
	if drawn[imageKey(0)] != 0 {
		t.Errorf("own image drawn as a negative")
	}
	if _, err := NewRetrievalBuilder(set, RetrievalRandom, 12, 4, testTokens); err == nil || !strings.Contains(err.Error(), "11 other images") {
		t.Errorf("12 negatives of 11 images: %v", err)
	}
}

func TestSampleExcluding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ n, total int }{{3, 100}, {9, 10}, {5, 10}} {
		got := sampleExcluding(rng, c.n, c.total, func(v int) bool { return v%10 == 0 }, (c.total+9)/10)
		seen := map[int]bool{}
		for _, v := range got {
			if v%10 == 0 || v < 0 || v >= c.total || seen[v] {
				t.Fatalf("%+v: drew %v", c, got)
			}
			seen[v] = true
		}
		if len(got) != c.n && c.total-(c.total+9)/10 >= c.n {
			t.Errorf("%+v: %d values", c, len(got))
		}
	}
}

func TestRetrievalEval(t *testing.T) {
	set := retrievalSet(t)
	// 36 captions in batches of at most 16 pairs: 3 chunks of 12 captions per image.
	e, err := NewRetrievalEval(set, 4, testTokens, 16, ShapeBuckets{Text: []int{4, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if e.NumPairs() != 36*12 || e.NumTexts() != 36 || e.NumBatches() != 3*12 || e.Images[0] != imageKey(0) || e.Images[11] != imageKey(11) {
		t.Fatalf("%d pairs in %d batches, images %v", e.NumPairs(), e.NumBatches(), e.Images)
	}
	ti := e.TextImages()
	seen := make([]int, e.NumPairs())
	for k := range e.NumBatches() {
		bt, err := e.Batch(k)
		if err != nil {
			t.Fatal(err)
		}
		j := k / 3
		// One image per batch: its regions exactly (2+j); the chunk's longest caption incl. [CLS]/[SEP] rounded
		// up to a bucket, or kept beyond the largest (8).
		longest := 0
		for r := range bt.Size {
			longest = max(longest, len(set.Examples[bt.PairTexts[r]].InputIDs)+2)
		}
		wantText := map[bool]int{true: 8, false: longest}[longest <= 8]
		if longest <= 4 {
			wantText = 4
		}
		if bt.Size != 12 || bt.NumRegions != 2+j || bt.TextLen != wantText {
			t.Fatalf("batch %d: %d rows, shape %d×%d, want 12 rows, %d×%d", k, bt.Size, bt.TextLen, bt.NumRegions, wantText, 2+j)
		}
		for r := range bt.Size {
			i := int(bt.PairTexts[r])
			if int(bt.PairImages[r]) != j || !bt.ExampleOK[r] {
				t.Fatalf("batch %d row %d: image %d, want %d", k, r, bt.PairImages[r], j)
			}
			seen[i*12+j]++
			ex := &set.Examples[i]
			f, _ := set.Features(e.Images[j])
			checkText(t, bt, r, ex.InputIDs, testTokens)
			checkPadding(t, bt, r, checkRegions(t, bt, r, 0, 1, f))
			if (e.Images[j] == ex.ImageKey) != (ti[i] == j) || bt.ExampleIDs[r] != ex.ID {
				t.Fatalf("TextImages[%d] = %d, caption of %s", i, ti[i], ex.ImageKey)
			}
		}
	}
	for p, n := range seen {
		if n != 1 {
			t.Fatalf("pair %d scored %d times", p, n)
		}
	}
	if _, err := e.Batch(e.NumBatches()); err == nil {
		t.Errorf("batch past the end: no error")
	}
	// 36 captions in batches of at most 10 are 4 chunks of 9, at most 35 two of 18, at most 6 six of 6: no padding;
	// at most 8 are 5 chunks of 8, the last holding 4 captions and 4 padding rows.
	for _, c := range []struct{ rows, size, padding int }{{10, 9, 0}, {35, 18, 0}, {6, 6, 0}, {8, 8, 4}} {
		e, _ := NewRetrievalEval(set, 4, testTokens, c.rows, ShapeBuckets{})
		bt, _ := e.Batch(e.NumBatches() - 1)
		pad := 0
		for r := range bt.Size {
			if !bt.ExampleOK[r] {
				pad++
				if bt.PairTexts[r] != -1 || bt.PairImages[r] != -1 || bt.ImgMask[r*bt.NumRegions] != 0 {
					t.Errorf("padding row %d in use", r)
				}
			}
		}
		if bt.Size != c.size || pad != c.padding {
			t.Errorf("at most %d rows: batches of %d with %d padding rows, want %d and %d", c.rows, bt.Size, pad, c.size, c.padding)
		}
	}
	// A query longer than every caption of the split (13 pieces, beyond the largest bucket), with the images from 7 on:
	// a batch of at most 12 images holds the last 5.
	query := []int32{7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	q, err := e.QueryBatch(query, 7)
	if err != nil {
		t.Fatal(err)
	}
	if q.Size != 5 || q.TextLen != 15 || q.NumRegions != 13 {
		t.Fatalf("query batch of %d rows, shape %d×%d", q.Size, q.TextLen, q.NumRegions)
	}
	for r := range q.Size {
		f, _ := set.Features(e.Images[7+r])
		checkText(t, q, r, query, testTokens)
		checkPadding(t, q, r, checkRegions(t, q, r, 0, 1, f))
		if q.PairImages[r] != int32(7+r) || q.PairTexts[r] != -1 || !q.ExampleOK[r] {
			t.Errorf("query row %d: image %d, text %d", r, q.PairImages[r], q.PairTexts[r])
		}
	}
	if _, err := e.QueryBatch(query, 12); err == nil {
		t.Errorf("query past the last image: no error")
	}
}

func TestRefBatches(t *testing.T) {
	for _, gt := range []bool{true, false} {
		name := map[bool]string{true: "re_coco_gt", false: "re_coco_det"}[gt]
		store := openStore(t, name)
		set, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: filepath.Join(origDir, "txt", "refcoco_val.db"), Features: store,
			GroundTruth: gt})
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewRefBuilder(set, 8, origTokens)
		if err != nil {
			t.Fatal(err)
		}
		sizes, err := b.Sizes()
		if err != nil {
			t.Fatal(err)
		}
		nb := map[bool]int{true: 3, false: 4}[gt] // regions of image 42
		if sizes[0] != (ExampleSize{Tokens: 4 + nb, Text: 6, Regions: nb}) {
			t.Errorf("%s: size %+v", name, sizes[0])
		}
		bt, err := b.Build(Plan{Indices: []int{2, 0, 3}, Shape: Shape{Rows: 4, TextLen: 6, NumRegions: 5}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantLabels := []int32{0, 1, 1, 0} // brown dog = ann 1002 = region 0; man on the left = 1001 = region 1; person right = 2002 = region 1
		if !gt {
			wantLabels = []int32{-1, -1, -1, 0}
		}
		if !slices.Equal(bt.Labels, wantLabels) || !slices.Equal(bt.ExampleIDs, []string{"80", "70", "90", ""}) {
			t.Errorf("%s: labels %v ids %v", name, bt.Labels, bt.ExampleIDs)
		}
		for r, idx := range []int{2, 0, 3} {
			ex := &set.Examples[idx]
			f, _ := store.Get(ex.ImageKey)
			checkText(t, bt, r, ex.InputIDs, origTokens)
			checkPadding(t, bt, r, checkRegions(t, bt, r, 0, 1, f))
			for k := range bt.NumRegions {
				if want := float32(map[bool]float32{true: 0, false: 1}[k < f.NumBoxes]); bt.ObjMask[r*5+k] != want {
					t.Errorf("%s row %d: obj mask %v", name, r, bt.ObjMask[r*5:r*5+5])
				}
			}
			if got := bt.TargetBoxes[4*r : 4*r+4]; !near(got, ex.TargetBox[:], 0) {
				t.Errorf("%s row %d: target box %v, want %v", name, r, got, ex.TargetBox)
			}
		}
		// Row 0 is "brown dog" in image 42 (640×480): with ground-truth regions region 0 is annotation 1002,
		// [300.5, 40.25, 120, 90]; the detector's last real region is the gt box of 1002 shifted by (+4, -3, +6, +2)
		// in xyxy, i.e. [304.5, 37.25, 122, 95] in xywh; float16 norm_bb rounds to about 0.3 px.
		region := map[bool][]float32{true: bt.RegionBoxes[0:4], false: bt.RegionBoxes[2*4 : 3*4]}[gt]
		want := map[bool][]float64{true: {300.5, 40.25, 120, 90}, false: {304.5, 37.25, 122, 95}}[gt]
		if !near(region, want, 0.35) {
			t.Errorf("%s: region box %v, want %v", name, region, want)
		}
	}
}

// near reports whether got and want agree within tol element-wise.
func near(got []float32, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol {
			return false
		}
	}
	return true
}

func TestPlannedVisualEntailment(t *testing.T) {
	store := openStore(t, "flickr30k")
	set, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: filepath.Join(origDir, "txt", "ve_dev.db"), Features: store, NumAnswers: 3})
	if err != nil {
		t.Fatal(err)
	}
	sizes, err := SourceSizes(set)
	if err != nil {
		t.Fatal(err)
	}
	// Image 1 keeps 3 boxes (nbb), image 3 keeps 2.
	want := []ExampleSize{{Tokens: 5 + 3, Text: 7, Regions: 3}, {Tokens: 5 + 3, Text: 7, Regions: 3}, {Tokens: 7 + 2, Text: 9, Regions: 2}}
	if !reflect.DeepEqual(sizes, want) {
		t.Errorf("sizes %+v", sizes)
	}
	cfg := DefaultConfig()
	cfg.FeatDim, cfg.NumAnswers, cfg.Tokens = 8, 3, origTokens
	b, err := NewBuilder(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := b.BuildPlan(TaskVE)(Plan{Indices: []int{2, 0}, Shape: Shape{Rows: 4, TextLen: 9, NumRegions: 3}}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if bt.Task != TaskVE || bt.Size != 4 || bt.TextLen != 9 || bt.NumRegions != 3 ||
		!slices.Equal(bt.Targets, []float32{0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}) ||
		!slices.Equal(bt.ExampleIDs, []string{"3141613533.jpg#0r2n", "2248275918.jpg#2r1c", "", ""}) {
		t.Errorf("VE batch: %s %d×%d×%d targets %v ids %v", bt.Task, bt.Size, bt.TextLen, bt.NumRegions, bt.Targets, bt.ExampleIDs)
	}
	f, _ := store.Get("flickr30k_000000003")
	checkText(t, bt, 0, set.Examples[2].InputIDs, origTokens)
	checkPadding(t, bt, 0, checkRegions(t, bt, 0, 0, 1, f))
}
