package synthetic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/data/coco"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

// generatorName marks the config.json of a directory written by this package.
const generatorName = "github.com/uniter-go/uniter/data/synthetic"

// generatorVersion changes whenever the generator's output for a given Config changes, so that EnsureDataset
// regenerates datasets written by an older generator.
const generatorVersion = 1

// storedConfig is the content of config.json.
type storedConfig struct {
	Generator string `json:"generator"`
	Version   int    `json:"version"`
	Config    Config `json:"config"`
}

// Layout names the files of a dataset directory (see the package documentation). The VQA and COCO paths take
// a split name, so the same code reads the real VQA v2 files with split "train2014" laid out the same way.
type Layout struct{ Dir string }

// Config is the generator config the directory was written from.
func (l Layout) Config() string { return filepath.Join(l.Dir, "config.json") }

// Scenes is the JSON list of the scenes (objects and background boxes).
func (l Layout) Scenes() string { return filepath.Join(l.Dir, "scenes.json") }

// Answers is the answer vocabulary, one answer per line.
func (l Layout) Answers() string { return filepath.Join(l.Dir, "answers.txt") }

// Questions is the VQA v2 questions file of a split.
func (l Layout) Questions(split string) string {
	return filepath.Join(l.Dir, "questions", "v2_OpenEnded_mscoco_"+split+"_questions.json")
}

// Annotations is the VQA v2 annotations file of a split.
func (l Layout) Annotations(split string) string {
	return filepath.Join(l.Dir, "annotations", "v2_mscoco_"+split+"_annotations.json")
}

// Captions is the COCO captions file of a split.
func (l Layout) Captions(split string) string {
	return filepath.Join(l.Dir, "annotations", "captions_"+split+".json")
}

// Karpathy is the Karpathy-style split file holding the captions of every split.
func (l Layout) Karpathy() string { return filepath.Join(l.Dir, "annotations", "dataset_coco.json") }

// Features is the feature store of a format, to be opened with features.Open: the directory features/ for npz
// and imgdb, the file features.tsv for tsv.
func (l Layout) Features(format string) string {
	if format == FormatTSV {
		return filepath.Join(l.Dir, "features.tsv")
	}
	return filepath.Join(l.Dir, "features")
}

// Image is the rendered PNG of the image with the given feature key.
func (l Layout) Image(key string) string { return filepath.Join(l.Dir, "images", key+".png") }

// configJSON is the exact content of config.json for cfg.
func configJSON(cfg Config) ([]byte, error) {
	b, err := json.MarshalIndent(storedConfig{Generator: generatorName, Version: generatorVersion, Config: cfg}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding synthetic config: %w", err)
	}
	return append(b, '\n'), nil
}

// Write writes the dataset under dir (created if missing) with the features in format (FormatNPZ, FormatImgDB
// or FormatTSV); config.json, written last, records the config with that format. Files of an earlier dataset in
// dir are overwritten but not removed: EnsureDataset replaces a dataset as a whole.
func (ds *Dataset) Write(dir string, format string) error {
	cfg := ds.Config
	cfg.FeatureFormat = format
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	l := Layout{Dir: dir}
	for _, sub := range []string{"questions", "annotations", "images"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
	}
	if err := ds.Answers.Write(l.Answers()); err != nil {
		return err
	}
	for _, split := range Splits {
		if err := writeVQA(l, ds.Questions[split], ds.Annotations[split]); err != nil {
			return err
		}
		if err := coco.WriteCaptions(l.Captions(split), ds.Captions[split]); err != nil {
			return err
		}
	}
	for _, p := range cfg.LowDataPercents {
		qf, af := ds.LowData(p)
		if err := writeVQA(l, qf, af); err != nil {
			return err
		}
	}
	if err := coco.WriteKarpathy(l.Karpathy(), ds.Karpathy()); err != nil {
		return err
	}
	if err := writeJSONFile(l.Scenes(), ds.Scenes); err != nil {
		return err
	}
	if err := ds.writeFeatures(l.Features(format), format); err != nil {
		return err
	}
	if err := ds.writeImages(l); err != nil {
		return err
	}
	b, err := configJSON(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.Config(), b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", l.Config(), err)
	}
	return nil
}

// writeVQA writes the questions and annotations of one split, named by the files' data subtype.
func writeVQA(l Layout, qf *vqa.QuestionFile, af *vqa.AnnotationFile) error {
	if err := vqa.WriteQuestions(l.Questions(qf.DataSubtype), qf); err != nil {
		return err
	}
	return vqa.WriteAnnotations(l.Annotations(af.DataSubtype), af)
}

// writeFeatures writes the feature store at path.
func (ds *Dataset) writeFeatures(path, format string) error {
	switch format {
	case FormatImgDB:
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return features.WriteImgDB(path, ds.Features, false)
	case FormatTSV:
		return features.WriteTSV(path, ds.Features)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	for _, f := range ds.Features {
		if err := features.WriteNPZ(filepath.Join(path, f.ImageID+".npz"), f); err != nil {
			return err
		}
	}
	return nil
}

// writeImages renders every scene to images/<key>.png.
func (ds *Dataset) writeImages(l Layout) error { return writePNGs(ds.Scenes, l.Image) }

// writePNGs renders every scene to path(key).
func writePNGs(scenes []Scene, path func(key string) string) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	var buf bytes.Buffer
	for i := range scenes {
		s := &scenes[i]
		buf.Reset()
		p := path(s.Key)
		if err := enc.Encode(&buf, render(s)); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return nil
}

// writeJSONFile writes v as indented JSON.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// EnsureDataset makes dir hold the dataset of cfg, written with cfg.FeatureFormat. It only reads config.json when
// the dataset is already there, so it is cheap to call on every start. Otherwise it generates the dataset into a
// temporary sibling directory and then replaces dir with it; it refuses to replace a non-empty directory that was
// not written by this package.
func EnsureDataset(dir string, cfg Config) error {
	want, err := configJSON(cfg)
	if err != nil {
		return err
	}
	return ensureDir(dir, want, func(tmp string) error {
		ds, err := Generate(cfg)
		if err != nil {
			return err
		}
		return ds.Write(tmp, cfg.FeatureFormat)
	})
}

// ensureDir makes dir hold what write writes, unless its config.json already reads want: write fills a temporary
// sibling directory (ending with config.json = want), which then replaces dir.
func ensureDir(dir string, want []byte, write func(tmp string) error) error {
	configPath := filepath.Join(dir, "config.json")
	have, err := os.ReadFile(configPath)
	if err == nil && bytes.Equal(have, want) {
		return nil
	}
	if err := checkReplaceable(dir, have, err); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("generating %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("generating %s: %w", dir, err)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("generating %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	return nil
}

// checkReplaceable accepts a missing or empty dir, or one whose config.json (content have, read error readErr)
// was written by this package.
func checkReplaceable(dir string, have []byte, readErr error) error {
	if readErr == nil {
		var st storedConfig
		if json.Unmarshal(have, &st) == nil && st.Generator == generatorName {
			return nil
		}
		return fmt.Errorf("refusing to replace %s: its config.json was not written by %s", dir, generatorName)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	return fmt.Errorf("refusing to replace %s: not empty and holds no synthetic dataset config.json (%w)", dir, readErr)
}
