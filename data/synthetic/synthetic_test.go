package synthetic

import (
	"bytes"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/data/coco"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

// smallConfig is a quick config for tests.
func smallConfig() Config {
	cfg := DefaultConfig()
	cfg.NumImages = 40
	cfg.FeatureDim = 16
	cfg.LowDataPercents = []int{10, 50}
	return cfg
}

func generate(t testing.TB, cfg Config) *Dataset {
	t.Helper()
	ds, err := Generate(cfg)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return ds
}

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministicFiles(t *testing.T) {
	cfg := smallConfig()
	write := func(seed int64, format string) map[string][]byte {
		cfg.Seed = seed
		dir := t.TempDir()
		if err := generate(t, cfg).Write(dir, format); err != nil {
			t.Fatal(err)
		}
		return readTree(t, dir)
	}
	for _, format := range []string{FormatNPZ, FormatImgDB, FormatTSV} {
		a, b := write(1, format), write(1, format)
		if len(a) < cfg.NumImages+10 || len(a) != len(b) {
			t.Fatalf("%s: same seed wrote %d and %d files", format, len(a), len(b))
		}
		for name, content := range a {
			if !bytes.Equal(content, b[name]) {
				t.Errorf("%s, same seed: %s differs", format, name)
			}
		}
	}
	a, b := write(1, FormatNPZ), write(2, FormatNPZ)
	for _, name := range []string{"questions/v2_OpenEnded_mscoco_train_questions.json", "features/synthetic_000001.npz",
		"images/synthetic_000001.png", "annotations/captions_train.json"} {
		if len(a[name]) == 0 || bytes.Equal(a[name], b[name]) {
			t.Errorf("seeds 1 and 2 wrote the same %s (%d bytes)", name, len(a[name]))
		}
	}
}

func TestDetectorSharedAcrossSeeds(t *testing.T) {
	// The projection depends on the detector seed only: with no noise, an object with the same attributes and box
	// gets the same feature whatever the dataset seed.
	a, b := newDetector(5, 32), newDetector(5, 32)
	if !reflect.DeepEqual(a.rows, b.rows) {
		t.Fatal("same detector seed gave different projections")
	}
	if reflect.DeepEqual(a.rows, newDetector(6, 32).rows) {
		t.Fatal("different detector seeds gave the same projection")
	}
}

// evalQuestion answers a question by parsing its text and looking at the scene, independently of the generator.
func evalQuestion(t *testing.T, q string, objs []Object) (answer, answerType string) {
	t.Helper()
	count := func(match func(Object) bool) int {
		n := 0
		for _, o := range objs {
			if match(o) {
				n++
			}
		}
		return n
	}
	unique := func(match func(Object) bool) Object {
		var found []Object
		for _, o := range objs {
			if match(o) {
				found = append(found, o)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%q: %d objects match the reference, want 1", q, len(found))
		}
		return found[0]
	}
	if m := regexp.MustCompile(`^how many (\w+) objects are there\?$`).FindStringSubmatch(q); m != nil {
		return strconv.Itoa(count(func(o Object) bool { return o.Color == m[1] })), AnswerTypeNumber
	}
	if m := regexp.MustCompile(`^how many (\w+)s are there\?$`).FindStringSubmatch(q); m != nil {
		return strconv.Itoa(count(func(o Object) bool { return o.Shape == m[1] })), AnswerTypeNumber
	}
	if m := regexp.MustCompile(`^what color is the (\w+) (\w+)\?$`).FindStringSubmatch(q); m != nil {
		return unique(func(o Object) bool { return o.Size == m[1] && o.Shape == m[2] }).Color, AnswerTypeOther
	}
	if m := regexp.MustCompile(`^what shape is the (\w+) object\?$`).FindStringSubmatch(q); m != nil {
		return unique(func(o Object) bool { return o.Color == m[1] }).Shape, AnswerTypeOther
	}
	if m := regexp.MustCompile(`^is there a (\w+) (\w+)\?$`).FindStringSubmatch(q); m != nil {
		if count(func(o Object) bool { return o.Color == m[1] && o.Shape == m[2] }) > 0 {
			return "yes", AnswerTypeYesNo
		}
		return "no", AnswerTypeYesNo
	}
	if m := regexp.MustCompile(`^what is the color of the object to the (left|right) of the (\w+) (\w+)\?$`).FindStringSubmatch(q); m != nil {
		ref := unique(func(o Object) bool { return o.Color == m[2] && o.Shape == m[3] })
		cx := func(o Object) float32 { return (o.Box[0] + o.Box[2]) / 2 }
		return unique(func(o Object) bool {
			if m[1] == "left" {
				return cx(o) < cx(ref)
			}
			return cx(o) > cx(ref)
		}).Color, AnswerTypeOther
	}
	t.Fatalf("question %q matches no template", q)
	return "", ""
}

func TestAnswersMatchScenes(t *testing.T) {
	cfg := smallConfig()
	cfg.NumImages = 150
	ds := generate(t, cfg)
	byID := map[int64]Scene{}
	for _, s := range ds.Scenes {
		byID[s.ImageID] = s
	}
	types := map[string]int{}
	answers := map[string]int{}
	total := 0
	for _, split := range Splits {
		qs, anns := ds.Questions[split].Questions, ds.Annotations[split].Annotations
		if len(qs) != len(anns) {
			t.Fatalf("%s: %d questions, %d annotations", split, len(qs), len(anns))
		}
		for i, q := range qs {
			a := anns[i]
			s := byID[q.ImageID]
			if s.Split != split || a.QuestionID != q.QuestionID || a.ImageID != q.ImageID {
				t.Fatalf("%s question %d: ids or split mismatch (%+v vs %+v, scene split %s)", split, i, q, a, s.Split)
			}
			want, wantType := evalQuestion(t, q.Question, s.Objects)
			if a.MultipleChoiceAnswer != want || a.AnswerType != wantType {
				t.Errorf("%q on image %d: got %q (%s), the scene says %q (%s)", q.Question, q.ImageID,
					a.MultipleChoiceAnswer, a.AnswerType, want, wantType)
			}
			if !strings.HasPrefix(q.Question, a.QuestionType+" ") {
				t.Errorf("%q: question type %q is not its prefix", q.Question, a.QuestionType)
			}
			agree := 0
			for j, h := range a.Answers {
				if h.AnswerID != j+1 {
					t.Errorf("%q: answer %d has id %d", q.Question, j, h.AnswerID)
				}
				if _, ok := ds.Answers.Index(h.Answer); !ok {
					t.Errorf("%q: human answer %q not in the vocabulary", q.Question, h.Answer)
				}
				if h.Answer == want {
					agree++
				}
			}
			if len(a.Answers) != 10 || agree < cfg.MinAgree {
				t.Errorf("%q: %d answers, %d agree with the truth (want 10, >= %d)", q.Question, len(a.Answers), agree, cfg.MinAgree)
			}
			types[a.QuestionType]++
			if a.AnswerType == AnswerTypeYesNo {
				answers[a.MultipleChoiceAnswer]++
			}
			total++
		}
	}
	if total < cfg.NumImages*cfg.QuestionsPerImage*9/10 {
		t.Errorf("%d questions for %d images, want about %d per image", total, cfg.NumImages, cfg.QuestionsPerImage)
	}
	for _, qt := range []string{"how many", "what color is the", "what shape is the", "is there a", "what is the color of the"} {
		if types[qt] < total/20 {
			t.Errorf("question type %q: %d of %d questions", qt, types[qt], total)
		}
	}
	if yes, no := answers["yes"], answers["no"]; math.Abs(float64(yes-no)) > 0.2*float64(yes+no) {
		t.Errorf("yes/no unbalanced: %d yes, %d no", yes, no)
	}
}

func TestScenesAndRegions(t *testing.T) {
	cfg := smallConfig()
	ds := generate(t, cfg)
	for i, s := range ds.Scenes {
		f := ds.Features[i]
		if n := len(s.Objects); n < cfg.MinObjects || n > cfg.MaxObjects {
			t.Errorf("%s: %d objects", s.Key, n)
		}
		if f.ImageID != s.Key || f.NumBoxes != len(s.Objects)+cfg.BackgroundRegions || f.Dim != cfg.FeatureDim ||
			len(f.Features) != f.NumBoxes*f.Dim || len(f.ClassProbs) != f.NumBoxes*cfg.NumClasses {
			t.Fatalf("%s: features %s with %d boxes, dim %d, %d values, %d class probs", s.Key, f.ImageID,
				f.NumBoxes, f.Dim, len(f.Features), len(f.ClassProbs))
		}
		for j, o := range s.Objects {
			if o.Box[0] < 0 || o.Box[1] < 0 || o.Box[2] > float32(s.Width) || o.Box[3] > float32(s.Height) {
				t.Errorf("%s object %d: box %v outside the image", s.Key, j, o.Box)
			}
			if overlaps(o.Box, s.Objects[:j]) {
				t.Errorf("%s object %d overlaps an earlier object", s.Key, j)
			}
			if !slices.Equal(f.Boxes[4*j:4*j+4], o.Box[:]) {
				t.Errorf("%s region %d: box %v, object box %v", s.Key, j, f.Boxes[4*j:4*j+4], o.Box)
			}
		}
		for r := range f.NumBoxes {
			row := f.ClassProbs[r*cfg.NumClasses : (r+1)*cfg.NumClasses]
			var sum float64
			for _, p := range row {
				sum += float64(p)
			}
			want := backgroundClassID
			if r < len(s.Objects) {
				want = classID(indexOf(Shapes, s.Objects[r].Shape), indexOf(Colors, s.Objects[r].Color))
			}
			if math.Abs(sum-1) > 1e-5 || argmax(row) != want {
				t.Errorf("%s region %d: class probs sum %g, argmax %d, want 1 and %d", s.Key, r, sum, argmax(row), want)
			}
			for _, v := range f.Features[r*f.Dim : (r+1)*f.Dim] {
				if v < 0 {
					t.Fatalf("%s region %d: negative feature %g after ReLU", s.Key, r, v)
				}
			}
		}
		caps := ds.Captions[s.Split].CaptionsByImage()[s.ImageID]
		if len(caps) != cfg.CaptionsPerImage || len(slices.Compact(slices.Sorted(slices.Values(caps)))) != len(caps) {
			t.Errorf("%s: captions %q, want %d distinct", s.Key, caps, cfg.CaptionsPerImage)
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestCaptionRelations(t *testing.T) {
	ds := generate(t, smallConfig())
	leftOf := regexp.MustCompile(`^a (\w+) (\w+) (\w+) to the left of a (\w+) (\w+) (\w+)\.$`)
	checked := 0
	for _, s := range ds.Scenes {
		for _, c := range ds.Captions[s.Split].CaptionsByImage()[s.ImageID] {
			m := leftOf.FindStringSubmatch(c)
			if m == nil {
				continue
			}
			ok := false
			for _, a := range s.Objects {
				for _, b := range s.Objects {
					ok = ok || (describe(a) == strings.Join(m[1:4], " ") && describe(b) == strings.Join(m[4:7], " ") &&
						a.centerX() <= b.centerX() && a != b)
				}
			}
			if !ok {
				t.Errorf("%s: caption %q does not hold", s.Key, c)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no left-of caption generated")
	}
}

func TestRoundTrip(t *testing.T) {
	cfg := smallConfig()
	cfg.NumImages = 12
	ds := generate(t, cfg)
	for _, format := range []string{FormatNPZ, FormatImgDB, FormatTSV} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			if err := ds.Write(dir, format); err != nil {
				t.Fatal(err)
			}
			l := Layout{Dir: dir}
			for _, split := range Splits {
				qf, err := vqa.ReadQuestions(l.Questions(split))
				if err != nil {
					t.Fatal(err)
				}
				af, err := vqa.ReadAnnotations(l.Annotations(split))
				if err != nil {
					t.Fatal(err)
				}
				cf, err := coco.ReadCaptions(l.Captions(split))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(qf, ds.Questions[split]) || !reflect.DeepEqual(af, ds.Annotations[split]) ||
					!reflect.DeepEqual(cf, ds.Captions[split]) {
					t.Errorf("%s: files read back differ from the generated data", split)
				}
			}
			lowQ, lowA := ds.LowData(50)
			qf, err := vqa.ReadQuestions(l.Questions(LowDataSplit(50)))
			if err != nil {
				t.Fatal(err)
			}
			af, err := vqa.ReadAnnotations(l.Annotations(LowDataSplit(50)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(qf, lowQ) || !reflect.DeepEqual(af, lowA) {
				t.Error("low-data split read back differs")
			}
			kf, err := coco.ReadKarpathy(l.Karpathy())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(kf, ds.Karpathy()) {
				t.Error("Karpathy file read back differs")
			}
			vocab, err := vqa.ReadAnswerVocab(l.Answers())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(vocab, ds.Answers) {
				t.Error("answer vocabulary read back differs")
			}
			r, err := features.Open(l.Features(format))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if len(r.IDs()) != len(ds.Features) {
				t.Fatalf("%d feature records, want %d", len(r.IDs()), len(ds.Features))
			}
			for _, want := range ds.Features {
				got, err := r.Get(want.ImageID)
				if err != nil {
					t.Fatal(err)
				}
				compareFeatures(t, got, want)
			}
		})
	}
}

// compareFeatures checks a feature record read back: exact, or to float16 precision where the format stores
// halves (img_db). img_db keeps only normalised boxes (read back with a 1×1 image size), so there the 7-d position
// vectors are compared. The class distributions may be absent from formats that do not carry them.
func compareFeatures(t *testing.T, got, want *features.ImageFeatures) {
	t.Helper()
	normalised := got.Width == 1 && got.Height == 1
	if got.ImageID != want.ImageID || got.NumBoxes != want.NumBoxes || got.Dim != want.Dim ||
		(!normalised && (got.Width != want.Width || got.Height != want.Height)) {
		t.Fatalf("%s: read back %s %dx%d with %d boxes of dim %d", want.ImageID, got.ImageID, got.Width, got.Height,
			got.NumBoxes, got.Dim)
	}
	near := func(what string, a, b []float32) {
		if len(a) != len(b) {
			t.Fatalf("%s %s: %d values, want %d", want.ImageID, what, len(a), len(b))
		}
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-3*math.Max(1, math.Abs(float64(b[i]))) {
				t.Fatalf("%s %s[%d] = %g, want %g", want.ImageID, what, i, a[i], b[i])
			}
		}
	}
	near("features", got.Features, want.Features)
	near("positions", got.PositionFeatures(), want.PositionFeatures())
	if !normalised {
		near("boxes", got.Boxes, want.Boxes)
	}
	if got.ClassProbs != nil {
		near("class probs", got.ClassProbs, want.ClassProbs)
	}
}

func TestEveryQuestionHasFeaturesAndImage(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := generate(t, cfg).Write(dir, FormatNPZ); err != nil {
		t.Fatal(err)
	}
	l := Layout{Dir: dir}
	r, err := features.Open(l.Features(FormatNPZ))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for _, split := range Splits {
		qf, err := vqa.ReadQuestions(l.Questions(split))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qf.Questions {
			if _, err := r.Get(FeatureKey(q.ImageID)); err != nil {
				t.Errorf("question %d: %v", q.QuestionID, err)
			}
			if _, err := os.Stat(l.Image(FeatureKey(q.ImageID))); err != nil {
				t.Errorf("question %d: %v", q.QuestionID, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no questions written")
	}
}

func TestImagesShowObjects(t *testing.T) {
	cfg := smallConfig()
	cfg.NumImages = 10
	ds := generate(t, cfg)
	dir := t.TempDir()
	if err := ds.Write(dir, FormatNPZ); err != nil {
		t.Fatal(err)
	}
	for _, s := range ds.Scenes {
		b, err := os.ReadFile(Layout{Dir: dir}.Image(s.Key))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", s.Key, err)
		}
		if img.Bounds().Dx() != s.Width || img.Bounds().Dy() != s.Height {
			t.Fatalf("%s: image %v, want %dx%d", s.Key, img.Bounds(), s.Width, s.Height)
		}
		inside := 0
		for _, o := range s.Objects {
			want := palette[indexOf(Colors, o.Color)]
			x1, y1, x2, y2 := int(o.Box[0]), int(o.Box[1]), int(o.Box[2]), int(o.Box[3])
			// The centre pixel and the middle third of the box's bottom half are inside every shape.
			for y := (y1 + y2) / 2; y < y2-(y2-y1)/6; y++ {
				for x := x1 + (x2-x1)/3; x < x2-(x2-x1)/3; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(bl>>8) != want.B {
						t.Fatalf("%s %s %s at (%d,%d): pixel %v, want %v", s.Key, o.Color, o.Shape, x, y, img.At(x, y), want)
					}
					inside++
				}
			}
			// The box corner is outside a sphere, cylinder or cone and inside a cube.
			r, g, bl, _ := img.At(x1, y1).RGBA()
			isBackground := uint8(r>>8) == backgroundColor.R && uint8(g>>8) == backgroundColor.G && uint8(bl>>8) == backgroundColor.B
			if isBackground != (o.Shape != "cube") {
				t.Errorf("%s %s: top-left corner pixel %v", s.Key, o.Shape, img.At(x1, y1))
			}
		}
		if inside == 0 {
			t.Fatalf("%s: no pixel checked", s.Key)
		}
	}
}

func TestColorLinearlyRecoverable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumImages = 200
	cfg.NumClasses = 0
	ds := generate(t, cfg)
	centroids := make([][]float64, len(Colors))
	counts := make([]int, len(Colors))
	for c := range centroids {
		centroids[c] = make([]float64, cfg.FeatureDim)
	}
	type example struct {
		feat  []float32
		color int
	}
	var test []example
	for i, s := range ds.Scenes {
		for j, o := range s.Objects {
			e := example{ds.Features[i].Features[j*cfg.FeatureDim : (j+1)*cfg.FeatureDim], indexOf(Colors, o.Color)}
			if s.Split != SplitTrain {
				test = append(test, e)
				continue
			}
			counts[e.color]++
			for k, v := range e.feat {
				centroids[e.color][k] += float64(v)
			}
		}
	}
	for c := range centroids {
		for k := range centroids[c] {
			centroids[c][k] /= float64(counts[c])
		}
	}
	correct := 0
	for _, e := range test {
		best, bestDist := -1, math.Inf(1)
		for c, cen := range centroids {
			var d float64
			for k, v := range e.feat {
				d += (float64(v) - cen[k]) * (float64(v) - cen[k])
			}
			if d < bestDist {
				best, bestDist = c, d
			}
		}
		if best == e.color {
			correct++
		}
	}
	acc := float64(correct) / float64(len(test))
	t.Logf("nearest-centroid colour accuracy %.4f on %d held-out objects (D=%d)", acc, len(test), cfg.FeatureDim)
	if len(test) < 100 || acc < 0.95 {
		t.Errorf("colour accuracy %.4f on %d objects, want > 0.95", acc, len(test))
	}
}

func TestLowData(t *testing.T) {
	ds := generate(t, smallConfig())
	train := ds.Questions[SplitTrain].Questions
	for _, p := range []int{1, 10, 50, 100} {
		qf, af := ds.LowData(p)
		want := max(1, len(train)*p/100)
		if len(qf.Questions) != want || len(af.Annotations) != want || qf.DataSubtype != LowDataSplit(p) {
			t.Errorf("%d%%: %d questions, %d annotations, subtype %s; want %d", p, len(qf.Questions), len(af.Annotations), qf.DataSubtype, want)
		}
		if !slices.Equal(qf.Questions, train[:want]) {
			t.Errorf("%d%%: not a prefix of the training questions", p)
		}
	}
	if ds.Questions[SplitTrain].DataSubtype != SplitTrain {
		t.Error("LowData changed the train split")
	}
}

func TestSplits(t *testing.T) {
	cfg := smallConfig()
	cfg.NumImages = 100
	ds := generate(t, cfg)
	got := map[string]int{}
	for _, s := range ds.Scenes {
		got[s.Split]++
	}
	if got[SplitTrain] != 80 || got[SplitVal] != 10 || got[SplitTest] != 10 {
		t.Errorf("split sizes %v, want 80/10/10", got)
	}
	for _, split := range Splits {
		if n := len(ds.Captions[split].Images); n != got[split] {
			t.Errorf("%s: %d caption images, want %d", split, n, got[split])
		}
	}
}

func TestEnsureDataset(t *testing.T) {
	cfg := smallConfig()
	cfg.NumImages = 8
	dir := filepath.Join(t.TempDir(), "synth")
	if err := EnsureDataset(dir, cfg); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDataset(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("EnsureDataset regenerated an up-to-date dataset")
	}
	cfg.NumImages = 9
	if err := EnsureDataset(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("EnsureDataset kept a dataset with another config")
	}
	if _, err := os.Stat(Layout{Dir: dir}.Image(FeatureKey(9))); err != nil {
		t.Fatalf("regenerated dataset lacks image 9: %v", err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("dataset directory: %v, %v", st, err)
	}

	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDataset(foreign, cfg); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("EnsureDataset on a foreign directory: %v, want a refusal", err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "config.json"), []byte(`{"lr": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDataset(foreign, cfg); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("EnsureDataset on a foreign config.json: %v, want a refusal", err)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"num_images":          func(c *Config) { c.NumImages = 0 },
		"max_objects":         func(c *Config) { c.MaxObjects = 2 },
		"do not fit":          func(c *Config) { c.MaxObjects = 40 },
		"num_colors":          func(c *Config) { c.NumColors = 9 },
		"num_classes":         func(c *Config) { c.NumClasses = 20 },
		"min_agree":           func(c *Config) { c.MinAgree = 5 },
		"train_fraction":      func(c *Config) { c.ValFraction = 0.5 },
		"low_data_percents":   func(c *Config) { c.LowDataPercents = []int{0} },
		"feature_format":      func(c *Config) { c.FeatureFormat = "hdf5" },
		"image size":          func(c *Config) { c.ImageWidth = 32 },
		"questions_per_image": func(c *Config) { c.QuestionsPerImage = 1000 },
	} {
		cfg := DefaultConfig()
		mutate(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: Validate() = %v", name, err)
		}
		if _, err := Generate(cfg); err == nil {
			t.Errorf("%s: Generate accepted an invalid config", name)
		}
	}
	if err := generate(t, smallConfig()).Write(t.TempDir(), "hdf5"); err == nil {
		t.Error("Write accepted format hdf5")
	}
}

// BenchmarkGenerate measures the generation of the 2,000-image, 20,000-question, D=2048 dataset in memory.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.NumImages, cfg.FeatureDim = 2000, 2048
	for b.Loop() {
		if _, err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
