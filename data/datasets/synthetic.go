package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/vqa"
)

func init() {
	register("synthetic_vqa", openSynthetic)
	register("synthetic_captions", openSynthetic)
}

// syntheticCaptionsConfig is dataset_config.synthetic_captions
// (experiments/config/defaults/datasets/synthetic_captions/defaults.yaml): the generator's configuration by its
// keys; data_dir caches the generated files.
type syntheticCaptionsConfig struct {
	common
	synthetic.Config
}

// syntheticVQAConfig is dataset_config.synthetic_vqa (experiments/config/defaults/datasets/synthetic_vqa/defaults.yaml).
type syntheticVQAConfig struct {
	syntheticCaptionsConfig
	// LowDataFraction is the fraction of the training questions used (the generator's low-data subset); 1 = all.
	LowDataFraction float64 `json:"low_data_fraction"`
}

// openSynthetic generates (once, cached under data_dir) the synthetic dataset and reads it as real data: VQA
// questions (synthetic_vqa) or COCO captions (synthetic_captions) over npz region features.
func openSynthetic(name string, req Request) (d *Data, err error) {
	c := syntheticVQAConfig{syntheticCaptionsConfig{defaultCommon(), synthetic.DefaultConfig()}, 1}
	kind := KindVQA
	if name == "synthetic_captions" {
		kind = KindCaptions
		err = req.Decode(&c.syntheticCaptionsConfig)
	} else {
		err = req.Decode(&c)
	}
	if err != nil {
		return nil, err
	}
	gen, trainFile := c.Config, synthetic.SplitTrain
	if c.LowDataFraction < 1 {
		p := max(1, int(math.Round(c.LowDataFraction*100)))
		if !slices.Contains(gen.LowDataPercents, p) {
			gen.LowDataPercents = append(slices.Clone(gen.LowDataPercents), p)
		}
		trainFile = synthetic.LowDataSplit(p)
	}
	if d, err = newData(name, kind, req, c.common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.loadTokenizer(c.common); err != nil {
		return nil, err
	}
	if gen.FeatureDim != req.FeatDim {
		return nil, fmt.Errorf("config key %s.feature_dim: %d differs from the model's img_dim %d", req.Section, gen.FeatureDim, req.FeatDim)
	}
	if err := gen.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", req.Section, err)
	}
	b, _ := json.Marshal(gen)
	sum := sha256.Sum256(b)
	l := synthetic.Layout{Dir: filepath.Join(c.DataDir, "synthetic-"+hex.EncodeToString(sum[:6]))}
	if err := synthetic.EnsureDataset(l.Dir, gen); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	d.imagePath = func(key string) string {
		p := l.Image(key)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		return p
	}
	storePath := l.Features(gen.FeatureFormat)
	store, err := d.openStore(storePath, map[string]features.Reader{})
	if err != nil {
		return nil, err
	}
	if kind == KindVQA {
		if d.Answers, err = vqa.ReadAnswerVocab(l.Answers()); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
	}
	for _, split := range req.Splits {
		var set *dataset.Set
		if kind == KindVQA {
			file := split
			if split == SplitTrain {
				file = trainFile
			}
			set, err = dataset.LoadVQA(dataset.VQAConfig{
				Questions: l.Questions(file), Annotations: l.Annotations(file), AnswerVocab: d.Answers,
				Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer, ImageKeyFormat: synthetic.FeatureKeyFormat,
			})
		} else {
			set, err = dataset.LoadCaptions(dataset.CaptionsConfig{
				Captions: l.Captions(split), Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer,
				ImageKeyFormat: synthetic.FeatureKeyFormat,
			})
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
		}
		d.Splits[split] = set
	}
	return d, nil
}
