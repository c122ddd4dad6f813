package synthetic

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/metrics"
	"github.com/uniter-go/uniter/data/txtdb"
)

// smallTaskConfig is a quick config of a task for tests.
func smallTaskConfig(task string, train, val, test int) TaskConfig {
	c := DefaultTaskConfig(task)
	c.Train, c.Val, c.Test, c.Images = train, val, test, false
	c.Scenes.FeatureDim = 16
	return c
}

// writeTask writes a task dataset into a fresh directory and returns its layout and scenes by key.
func writeTask(t *testing.T, cfg TaskConfig) (TaskLayout, map[string]Scene) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), cfg.Task)
	if err := WriteTask(dir, cfg); err != nil {
		t.Fatal(err)
	}
	l := TaskLayout{Dir: dir, Task: cfg.Task}
	b, err := os.ReadFile(l.Scenes())
	if err != nil {
		t.Fatal(err)
	}
	var list []Scene
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	scenes := map[string]Scene{}
	for _, s := range list {
		scenes[s.Key] = s
	}
	return l, scenes
}

func openFeatures(t *testing.T, path string) features.Reader {
	t.Helper()
	r, err := features.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// has reports whether objs hold an object of the given attributes ("" matches any).
func has(objs []Object, size, color, shape string) bool {
	for _, o := range objs {
		if (size == "" || o.Size == size) && (color == "" || o.Color == color) && (shape == "" || o.Shape == shape) {
			return true
		}
	}
	return false
}

func TestRetrievalTask(t *testing.T) {
	cfg := smallTaskConfig(TaskRetrieval, 30, 10, 12)
	l, scenes := writeTask(t, cfg)
	store := openFeatures(t, l.ImgDB(SplitTest))
	object := regexp.MustCompile(`a (?:(small|large) )?(\w+) (\w+)`)
	for split, n := range map[string]int{SplitTrain: 30, SplitVal: 10, SplitTest: 12} {
		set, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: l.TxtDB(split), Features: store})
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != 5*n || len(set.ImageKeys()) != n {
			t.Fatalf("%s: %d captions of %d images, want %d of %d", split, set.Len(), len(set.ImageKeys()), 5*n, n)
		}
		for _, ex := range set.Examples {
			s, ok := scenes[ex.ImageKey]
			if !ok || s.Split != split {
				t.Fatalf("caption %s: image %s of split %q", ex.ID, ex.ImageKey, s.Split)
			}
			// The caption lists the scene's objects, each once.
			var named, have []string
			for _, m := range object.FindAllStringSubmatch(strings.TrimPrefix(ex.Text, "a scene with"), -1) {
				if m[1] != "" && !has(s.Objects, m[1], m[2], m[3]) {
					t.Errorf("caption %q: no %s %s %s in %s", ex.Text, m[1], m[2], m[3], ex.ImageKey)
				}
				named = append(named, m[2]+" "+m[3])
			}
			for _, o := range s.Objects {
				have = append(have, o.Color+" "+o.Shape)
			}
			slices.Sort(named)
			slices.Sort(have)
			if !slices.Equal(named, have) || len(ex.InputIDs) > 30 {
				t.Errorf("caption %q (%d pieces) lists %v, the scene holds %v", ex.Text, len(ex.InputIDs), named, have)
			}
		}
	}
}

// TestRetrievalEvaluationSplit generates the 1k-image × 5k-caption test split of the evaluation-speed
// measurement and checks its size.
func TestRetrievalEvaluationSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1,000 images")
	}
	cfg := DefaultTaskConfig(TaskRetrieval)
	cfg.Train, cfg.Val, cfg.Test, cfg.Images = 1, 1, 1000, false
	start := time.Now()
	l, _ := writeTask(t, cfg)
	t.Logf("1,000 images × 5 captions (64-d features) generated in %v", time.Since(start))
	db, err := txtdb.Open(l.TxtDB(SplitTest))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if len(db.IDs()) != 5000 {
		t.Errorf("%d test captions, want 5000", len(db.IDs()))
	}
}

var nlvr2Stmt = regexp.MustCompile(`^(the left image|the right image|both images|exactly one image|neither image) contains? a (\w+) (\w+)\.$`)

func TestNLVR2Task(t *testing.T) {
	cfg := smallTaskConfig(TaskNLVR2, 200, 10, 10)
	l, scenes := writeTask(t, cfg)
	set, err := dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: l.TxtDB(SplitTrain), Features: openFeatures(t, l.ImgDB(SplitTrain))})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 400 {
		t.Fatalf("%d statements, want 400", set.Len())
	}
	trues, checked := 0, 0
	for _, ex := range set.Examples {
		trues += int(ex.Label)
		objs := [2][]Object{scenes[ex.ImageKeys[0]].Objects, scenes[ex.ImageKeys[1]].Objects}
		if len(objs[0]) == 0 || len(objs[1]) == 0 || !strings.HasPrefix(ex.ImageKeys[0], "nlvr2_train-") {
			t.Fatalf("%s: images %v", ex.ID, ex.ImageKeys)
		}
		// Re-evaluate the statement independently of the generator.
		m := nlvr2Stmt.FindStringSubmatch(ex.Text)
		if m == nil {
			t.Fatalf("%s: statement %q", ex.ID, ex.Text)
		}
		checked++
		l, r := has(objs[0], "", m[2], m[3]), has(objs[1], "", m[2], m[3])
		truth := map[string]bool{"the left image": l, "the right image": r, "both images": l && r,
			"exactly one image": l != r, "neither image": !l && !r}[m[1]]
		if truth != (ex.Label == 1) {
			t.Errorf("%s: %q labelled %d (left %v, right %v)", ex.ID, ex.Text, ex.Label, l, r)
		}
	}
	if trues != 200 || checked != 400 {
		t.Errorf("%d of 400 statements true (want 200), %d re-checked", trues, checked)
	}
}

var veStmt = regexp.MustCompile(`^the (\w+) (\w+) is made of (\w+)\.$`)

func TestVETask(t *testing.T) {
	cfg := smallTaskConfig(TaskVE, 100, 10, 10)
	cfg.PerImage = 6
	l, scenes := writeTask(t, cfg)
	set, err := dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: l.TxtDB(SplitTrain), Features: openFeatures(t, l.ImgDB(SplitTrain)), NumAnswers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var counts [3]int
	for _, ex := range set.Examples {
		label := slices.Index(ex.Targets, 1)
		counts[label]++
		// Re-derive the label from the scene: the one object of that colour and shape is small (neutral), or large
		// and of the claimed material (entailment) or not (contradiction).
		m := veStmt.FindStringSubmatch(ex.Text)
		if m == nil {
			t.Fatalf("%s: hypothesis %q", ex.ID, ex.Text)
		}
		var named []Object
		for _, o := range scenes[ex.ImageKey].Objects {
			if o.Color == m[1] && o.Shape == m[2] {
				named = append(named, o)
			}
		}
		want := VENeutral
		switch {
		case len(named) != 1:
			t.Fatalf("%s: %q names %d objects", ex.ID, ex.Text, len(named))
		case named[0].Size == "large" && named[0].Material == m[3]:
			want = VEEntailment
		case named[0].Size == "large":
			want = VEContradiction
		}
		if label != want {
			t.Errorf("%s: %q about %+v labelled %s, want %s", ex.ID, ex.Text, named[0], dataset.VELabels[label], dataset.VELabels[want])
		}
	}
	if counts != [3]int{200, 200, 200} {
		t.Errorf("labels %v, want 200 each", counts)
	}
	// The detector shows the material of large objects only.
	f, err := openFeatures(t, l.ImgDB(SplitTrain)).Get(FeatureKey(1))
	if err != nil {
		t.Fatal(err)
	}
	s := scenes[FeatureKey(1)]
	det := newDetector(cfg.Scenes.DetectorSeed, cfg.Scenes.FeatureDim)
	for i, o := range s.Objects {
		p := o
		p.Material = Materials[1-indexOf(Materials, o.Material)]
		other := det.regionFeatures(cfg.Scenes, rand.New(rand.NewPCG(1, 1)), &Scene{Width: s.Width, Height: s.Height, Objects: []Object{p}})
		same := det.regionFeatures(cfg.Scenes, rand.New(rand.NewPCG(1, 1)), &Scene{Width: s.Width, Height: s.Height, Objects: []Object{o}})
		if differ := !slices.Equal(other.Features, same.Features); differ != (o.Size == "large") {
			t.Errorf("object %d (%s): features depend on the material: %v", i, o.Size, differ)
		}
	}
	if f.NumBoxes != len(s.Objects)+len(s.Background) {
		t.Errorf("%d regions for %d objects and %d background boxes", f.NumBoxes, len(s.Objects), len(s.Background))
	}
}

// TestTextOnlyCeiling measures what the text alone tells: the majority training label of each exact statement,
// applied to the test statements (unseen statements get the overall majority). It must stay near chance, so that
// the tasks need the images.
func TestTextOnlyCeiling(t *testing.T) {
	for _, c := range []struct {
		task       string
		chance, at float64
	}{{TaskNLVR2, 0.5, 0.56}, {TaskVE, 1.0 / 3, 0.39}} {
		cfg := smallTaskConfig(c.task, 1000, 10, 300)
		l, _ := writeTask(t, cfg)
		labels := func(split string) (texts []string, ys []int) {
			db, err := txtdb.Open(l.TxtDB(split))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, id := range db.IDs() {
				ex, _ := db.Get(id)
				y := 0
				if c.task == TaskVE {
					y = int(ex.Target.Labels[0])
				} else if f, _ := ex.NLVR2(); f.Target == 1 {
					y = 1
				}
				texts, ys = append(texts, fmt.Sprint(ex.InputIDs)), append(ys, y)
			}
			return texts, ys
		}
		trX, trY := labels(SplitTrain)
		byText := map[string][3]int{}
		for i, x := range trX {
			v := byText[x]
			v[trY[i]]++
			byText[x] = v
		}
		teX, teY := labels(SplitTest)
		hits := 0
		for i, x := range teX {
			v, best := byText[x], 0
			for k := range v {
				if v[k] > v[best] {
					best = k
				}
			}
			if best == teY[i] {
				hits++
			}
		}
		acc := float64(hits) / float64(len(teX))
		t.Logf("%s: text-only accuracy %.3f on %d test texts (chance %.3f), %d distinct training texts", c.task, acc, len(teX),
			c.chance, len(byText))
		if acc > c.at {
			t.Errorf("%s: the text alone gives %.3f accuracy, above %.2f", c.task, acc, c.at)
		}
	}
}

func TestRefCOCOTask(t *testing.T) {
	cfg := smallTaskConfig(TaskRefCOCO, 150, 10, 10)
	l, scenes := writeTask(t, cfg)
	gtStore, detStore := openFeatures(t, l.ImgDB(SplitTrain)), openFeatures(t, l.RefDetImgDB())
	gt, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: l.TxtDB(SplitTrain), Features: gtStore, GroundTruth: true})
	if err != nil {
		t.Fatal(err)
	}
	det, err := dataset.LoadRefExp(dataset.RefConfig{TxtDB: l.TxtDB(SplitTrain), Features: detStore})
	if err != nil {
		t.Fatal(err)
	}
	if gt.Len() < 300 || gt.Len() != det.Len() {
		t.Fatalf("%d sentences (gt), %d (det)", gt.Len(), det.Len())
	}
	colorShape := regexp.MustCompile(`^the (\w+) (\w+)$`)
	var chanceGT, chanceDet, detectable float64
	checked := 0
	for i := range gt.Examples {
		ex := &gt.Examples[i]
		s := scenes[ex.ImageKey]
		f, err := gt.Features(ex)
		if err != nil {
			t.Fatal(err)
		}
		// The referred region's box is the annotation's box (float16 normalised coordinates).
		b := f.Boxes[4*ex.Target : 4*ex.Target+4]
		W, H := float32(ex.ImageWidth), float32(ex.ImageHeight)
		got := [4]float64{float64(b[0] * W), float64(b[1] * H), float64((b[2] - b[0]) * W), float64((b[3] - b[1]) * H)}
		if metrics.BoxIoU(got, ex.TargetBox) < 0.95 {
			t.Errorf("sentence %s: region %d box %v, annotation %v", ex.ID, ex.Target, got, ex.TargetBox)
		}
		// "the <color> <shape>" names exactly one object of the scene: the referred one.
		if m := colorShape.FindStringSubmatch(ex.Text); m != nil && slices.Contains(Colors, m[1]) && slices.Contains(Shapes, m[2]) {
			checked++
			n := 0
			for _, o := range s.Objects {
				if o.Color == m[1] && o.Shape == m[2] {
					n++
					box := [4]float64{float64(o.Box[0]), float64(o.Box[1]), float64(o.Box[2] - o.Box[0]), float64(o.Box[3] - o.Box[1])}
					if box != ex.TargetBox {
						t.Errorf("sentence %s %q: the %s %s is at %v, target %v", ex.ID, ex.Text, m[1], m[2], box, ex.TargetBox)
					}
				}
			}
			if n != 1 {
				t.Errorf("sentence %s %q names %d objects", ex.ID, ex.Text, n)
			}
		}
		chanceGT += 1 / float64(f.NumBoxes)
		df, err := det.Features(&det.Examples[i])
		if err != nil {
			t.Fatal(err)
		}
		good := 0
		for k := range df.NumBoxes {
			d := df.Boxes[4*k : 4*k+4]
			box := [4]float64{float64(d[0] * W), float64(d[1] * H), float64((d[2] - d[0]) * W), float64((d[3] - d[1]) * H)}
			if metrics.RefCorrect(box, ex.TargetBox) {
				good++
			}
		}
		chanceDet += float64(good) / float64(df.NumBoxes)
		if good > 0 {
			detectable++
		}
	}
	n := float64(gt.Len())
	t.Logf("%d sentences: chance %.3f with ground-truth regions, %.3f with detector regions; %.3f of targets detected "+
		"(IoU > 0.5)", gt.Len(), chanceGT/n, chanceDet/n, detectable/n)
	if checked < 30 || detectable/n < 0.9 || chanceDet/n > chanceGT/n {
		t.Errorf("%d re-checked, %.3f detectable, chance det %.3f vs gt %.3f", checked, detectable/n, chanceDet/n, chanceGT/n)
	}
	var refs []map[string]any
	b, _ := os.ReadFile(filepath.Join(l.TxtDB(SplitTrain), "refs.json"))
	if err := json.Unmarshal(b, &refs); err != nil || len(refs) != len(gt.Refs) {
		t.Errorf("refs.json: %d refs, %v", len(refs), err)
	}
}

func TestTaskDeterministicAndEnsure(t *testing.T) {
	for _, task := range Tasks {
		cfg := smallTaskConfig(task, 6, 2, 2)
		a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
		if err := WriteTask(a, cfg); err != nil {
			t.Fatal(err)
		}
		if err := EnsureTask(b, cfg); err != nil {
			t.Fatal(err)
		}
		if fa, fb := readTree(t, a), readTree(t, b); !reflect.DeepEqual(fa, fb) || len(fa) < 10 {
			t.Errorf("%s: two writes differ (%d and %d files)", task, len(fa), len(fb))
		}
		// EnsureTask leaves a dataset of the same config alone and regenerates on a change.
		marker := filepath.Join(b, "marker")
		os.WriteFile(marker, nil, 0o644)
		if err := EnsureTask(b, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("%s: EnsureTask regenerated an up-to-date dataset", task)
		}
		cfg.Scenes.Seed++
		if err := EnsureTask(b, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%s: EnsureTask kept a dataset of another config", task)
		}
	}
	bad := smallTaskConfig(TaskVE, 1, 1, 1)
	bad.PerImage = 4
	if err := WriteTask(t.TempDir(), bad); err == nil || !strings.Contains(err.Error(), "multiple of 3") {
		t.Errorf("ve with 4 hypotheses per image: %v", err)
	}
	bad = smallTaskConfig("vcr", 1, 1, 1)
	if err := EnsureTask(t.TempDir(), bad); err == nil || !strings.Contains(err.Error(), "vcr") {
		t.Errorf("unknown task: %v", err)
	}
}
