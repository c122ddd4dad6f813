package synthetic

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/txtdb"
)

// The synthetic downstream tasks, written in ORIG UNITER's preprocessed formats (txt_db + img_db).
const (
	TaskRetrieval = "itr"     // image-text retrieval: captions of scenes (ORIG itm_*.db)
	TaskNLVR2     = "nlvr2"   // statements about a pair of scenes, true or false (ORIG nlvr2_*.db)
	TaskVE        = "ve"      // hypotheses entailed, contradicted or neither by a scene (ORIG ve_*.db)
	TaskRefCOCO   = "refcoco" // expressions that pick one object of a scene (ORIG refcoco_*.db)
)

// Tasks lists the synthetic downstream tasks.
var Tasks = []string{TaskRetrieval, TaskNLVR2, TaskVE, TaskRefCOCO}

// TaskConfig fixes a synthetic downstream-task dataset: the same TaskConfig gives byte-identical txt_dbs and
// img_dbs.
type TaskConfig struct {
	Task string `json:"task"` // one of Tasks
	// Scenes holds the scene and detector settings: Seed, DetectorSeed, MinObjects, MaxObjects, NumShapes,
	// NumColors, ImageWidth, ImageHeight, FeatureDim, NumClasses, FeatureNoise and BackgroundRegions are used, its
	// other fields (questions, captions, splits, feature format) are not.
	Scenes Config `json:"scenes"`
	// Train, Val and Test are the sizes of the splits: images (itr, ve, refcoco) or image pairs (nlvr2).
	Train int `json:"train"`
	Val   int `json:"val"`
	Test  int `json:"test"`
	// PerImage is the number of texts per image or pair: captions (itr), hypotheses (ve: a multiple of 3, one
	// third per label), statements (nlvr2: even, half true), referred objects (refcoco: at most, fewer when a
	// scene has fewer objects that an expression picks out).
	PerImage int `json:"per_image"`
	// SentencesPerRef is the number of expressions per referred object (refcoco only).
	SentencesPerRef int `json:"sentences_per_ref,omitempty"`
	// Images also renders every scene to images/<key>.png.
	Images bool `json:"images"`
}

// DefaultTaskConfig returns the default synthetic dataset of a task: scenes of DefaultConfig with 64-d features
// and 37 detector classes (experiments/synthetic/tiny_model.yaml), sized to train a small UNITER on 2 CPU cores.
func DefaultTaskConfig(task string) TaskConfig {
	scenes := DefaultConfig()
	scenes.FeatureDim, scenes.NumClasses = 64, 37
	c := TaskConfig{Task: task, Scenes: scenes, Train: 2000, Val: 200, Test: 200, Images: true}
	switch task {
	case TaskRetrieval:
		// Captions list every object: at most 5 keep them under 30 word pieces.
		c.PerImage, c.Scenes.MaxObjects = 5, 5
	case TaskNLVR2:
		c.Train, c.PerImage = 3000, 2
	case TaskVE:
		c.PerImage = 3
	case TaskRefCOCO:
		c.PerImage, c.SentencesPerRef = 3, 1
	}
	return c
}

// Validate reports every inconsistent setting.
func (c TaskConfig) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Task == TaskRetrieval || c.Task == TaskNLVR2 || c.Task == TaskVE || c.Task == TaskRefCOCO,
		"task %q not one of %v", c.Task, Tasks)
	check(c.Train >= 1 && c.Val >= 1 && c.Test >= 1, "split sizes train %d, val %d, test %d must be ≥ 1", c.Train, c.Val, c.Test)
	check(c.Train+c.Val+c.Test < 100_000, "%d images do not fit the image ids", c.Train+c.Val+c.Test)
	check(c.PerImage >= 1 && c.PerImage < 100, "per_image %d not in [1, 100)", c.PerImage)
	check(c.Task != TaskVE || c.PerImage%3 == 0, "ve: per_image %d is not a multiple of 3", c.PerImage)
	check(c.Task != TaskNLVR2 || c.PerImage%2 == 0, "nlvr2: per_image %d is not even", c.PerImage)
	check(c.Task != TaskRefCOCO || (c.SentencesPerRef >= 1 && c.SentencesPerRef <= 9),
		"refcoco: sentences_per_ref %d not in [1, 9]", c.SentencesPerRef)
	check(c.Task != TaskRetrieval || c.Scenes.MinObjects >= 2, "itr: min_objects %d < 2", c.Scenes.MinObjects)
	if err := c.Scenes.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("synthetic %s config: %w", c.Task, err)
	}
	return nil
}

// splitSizes returns the splits with their sizes, in order.
func (c TaskConfig) splitSizes() []struct {
	name string
	n    int
} {
	return []struct {
		name string
		n    int
	}{{SplitTrain, c.Train}, {SplitVal, c.Val}, {SplitTest, c.Test}}
}

// TaskLayout names the files of a synthetic task directory, in ORIG's layout (/txt, /img):
//
//	DIR/config.json                     generator, version and TaskConfig (EnsureTask compares it)
//	DIR/txt_db/<db>_<split>.db/         txt_db per split: itm_synthetic, nlvr2, ve, refcoco
//	DIR/img_db/<name>/                  img_db: synthetic (itr, ve: all splits), nlvr2_<split>,
//	                                    re_coco_gt and re_coco_det (refcoco: all splits)
//	DIR/scenes.json                     the scenes: objects (shape, color, size, pixel box), background boxes
//	DIR/images/<key>.png                the rendered scenes (TaskConfig.Images)
type TaskLayout struct {
	Dir  string
	Task string
}

// Config is the generator config the directory was written from.
func (l TaskLayout) Config() string { return filepath.Join(l.Dir, "config.json") }

// TxtDB is the txt_db of a split.
func (l TaskLayout) TxtDB(split string) string {
	db := map[string]string{TaskRetrieval: "itm_synthetic", TaskNLVR2: "nlvr2", TaskVE: "ve", TaskRefCOCO: "refcoco"}[l.Task]
	return filepath.Join(l.Dir, "txt_db", db+"_"+split+".db")
}

// ImgDB is the img_db of a split's images: for refcoco the ground-truth regions, one per object.
func (l TaskLayout) ImgDB(split string) string {
	switch l.Task {
	case TaskNLVR2:
		return filepath.Join(l.Dir, "img_db", "nlvr2_"+split)
	case TaskRefCOCO:
		return filepath.Join(l.Dir, "img_db", "re_coco_gt")
	}
	return filepath.Join(l.Dir, "img_db", "synthetic")
}

// RefDetImgDB is the refcoco img_db of detector regions (jittered object boxes and background proposals).
func (l TaskLayout) RefDetImgDB() string { return filepath.Join(l.Dir, "img_db", "re_coco_det") }

// Scenes is the JSON list of the scenes of every split (objects with their boxes, background boxes), keyed by
// their feature key (refcoco: the ground-truth key).
func (l TaskLayout) Scenes() string { return filepath.Join(l.Dir, "scenes.json") }

// Image is the rendered PNG of the image with the given feature key.
func (l TaskLayout) Image(key string) string { return filepath.Join(l.Dir, "images", key+".png") }

// storedTaskConfig is the content of a task directory's config.json.
type storedTaskConfig struct {
	Generator string     `json:"generator"`
	Version   int        `json:"version"`
	Task      TaskConfig `json:"task_config"`
}

// taskConfigJSON is the exact content of config.json for cfg.
func taskConfigJSON(cfg TaskConfig) ([]byte, error) {
	b, err := json.MarshalIndent(storedTaskConfig{Generator: generatorName, Version: generatorVersion, Task: cfg}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding synthetic task config: %w", err)
	}
	return append(b, '\n'), nil
}

// EnsureTask makes dir hold the synthetic dataset of cfg, as EnsureDataset does for the VQA dataset: a directory
// already written from cfg is left alone (only config.json is read), anything else written by this package is
// regenerated and replaced.
func EnsureTask(dir string, cfg TaskConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	want, err := taskConfigJSON(cfg)
	if err != nil {
		return err
	}
	return ensureDir(dir, want, func(tmp string) error { return WriteTask(tmp, cfg) })
}

// WriteTask generates the dataset of cfg into dir (created if missing), config.json last.
func WriteTask(dir string, cfg TaskConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	w := &taskWriter{cfg: cfg, layout: TaskLayout{Dir: dir, Task: cfg.Task}, tok: tokenizer.BertBaseUncased(),
		det: newDetector(cfg.Scenes.DetectorSeed, cfg.Scenes.FeatureDim)}
	var err error
	switch cfg.Task {
	case TaskRetrieval:
		err = w.writeRetrieval()
	case TaskNLVR2:
		err = w.writeNLVR2()
	case TaskVE:
		err = w.writeVE()
	case TaskRefCOCO:
		err = w.writeRefCOCO()
	}
	if err != nil {
		return fmt.Errorf("writing synthetic %s to %s: %w", cfg.Task, dir, err)
	}
	b, err := taskConfigJSON(cfg)
	if err == nil {
		err = os.WriteFile(w.layout.Config(), b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", w.layout.Config(), err)
	}
	return nil
}

// taskWriter holds what every task generator needs.
type taskWriter struct {
	cfg    TaskConfig
	layout TaskLayout
	tok    *tokenizer.Tokenizer
	det    *detector
}

// Random streams of one image of a task: separate from the VQA dataset's streams.
const (
	taskStreamScene = iota
	taskStreamFeatures
	taskStreamText
	taskStreamMaterial
	numTaskStreams
)

// stream returns the random stream k of image (or pair) id.
func (w *taskWriter) stream(id int64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(w.cfg.Scenes.Seed)^0x7461736b, uint64(id)*numTaskStreams+uint64(k))) // "task"
}

// scene draws the scene of image id with its key.
func (w *taskWriter) scene(id int64, key, split string) (Scene, error) {
	s, err := newScene(w.cfg.Scenes, w.stream(id, taskStreamScene), id, split)
	s.Key = key
	return s, err
}

// meta returns the meta.json of the txt_dbs: the special ids and random-token range of the tokenizer.
func (w *taskWriter) meta() txtdb.Meta {
	lo, hi := w.tok.VRange()
	return txtdb.Meta{CLS: w.tok.CLS(), SEP: w.tok.SEP(), MASK: w.tok.MASK(), UNK: w.tok.UNK(), VRange: [2]int32{lo, hi},
		Bert: "bert-base-uncased", Toker: "bert-base-uncased"}
}

// writeTxtDB writes the txt_db of a split, plus extra side files (name → value, written as name.json).
func (w *taskWriter) writeTxtDB(split string, exs []txtdb.Example, extra map[string]any) error {
	dir := w.layout.TxtDB(split)
	if err := txtdb.Write(dir, w.meta(), exs); err != nil {
		return err
	}
	for name, v := range extra {
		if err := writeJSONFile(filepath.Join(dir, name+".json"), v); err != nil {
			return err
		}
	}
	return nil
}

// writeImgDB writes images as an ORIG img_db (msgpack values, the nbb file of ORIG's default thresholds).
func writeImgDB(dir string, fs []*features.ImageFeatures) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	return features.WriteImgDB(dir, fs, false)
}

// writeScenes writes scenes.json and, when the config asks for images, renders the scenes.
func (w *taskWriter) writeScenes(scenes []Scene) error {
	if err := writeJSONFile(w.layout.Scenes(), scenes); err != nil {
		return err
	}
	if !w.cfg.Images {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(w.layout.Dir, "images"), 0o755); err != nil {
		return fmt.Errorf("writing images: %w", err)
	}
	return writePNGs(scenes, w.layout.Image)
}
