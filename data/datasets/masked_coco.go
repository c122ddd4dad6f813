package datasets

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

func init() { Register("masked_coco", openMaskedCOCO) }

// maskedCOCOConfig is dataset_config.masked_coco (experiments/config/defaults/datasets/masked_coco/defaults.yaml):
// COCO captions for pretraining and region features.
type maskedCOCOConfig struct {
	Common
	mmfKeys
	// Annotations lists the caption files of each split, relative to data_dir: Karpathy's dataset_*.json (the
	// splits of KarpathySplits) or COCO captions_*.json (every caption). Features lists its one feature store.
	Annotations    map[string][]string `json:"annotations"`
	KarpathySplits map[string][]string `json:"karpathy_splits"`
	Features       map[string][]string `json:"features"`
	// MMF's caption sampling for ITM; the runner draws ITM negatives with model_config.<model>.itm_neg_prob.
	TwoSentence             bool    `json:"two_sentence"`
	FalseCaption            bool    `json:"false_caption"`
	FalseCaptionProbability float64 `json:"false_caption_probability"`
}

// openMaskedCOCO reads COCO caption files and region features.
func openMaskedCOCO(name string, req Request) (d *Data, err error) {
	c := maskedCOCOConfig{Common: defaultCommon()}
	if err := req.Decode(&c); err != nil {
		return nil, err
	}
	if d, err = newData(name, KindCaptions, req, c.Common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.checkDataDir(req, c.DataDir); err != nil {
		return nil, err
	}
	if err := d.loadTokenizer(c.Common); err != nil {
		return nil, err
	}
	opened := map[string]features.Reader{}
	for _, split := range req.Splits {
		key := req.Section + ".annotations." + split
		files, err := d.splitFiles(key, c.Annotations[split], c.DataDir)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("dataset %s: %s lists no files", name, key)
		}
		store, storePath, err := d.splitStore(req.Section+".features."+split, c.Features[split], c.DataDir, opened)
		if err != nil {
			return nil, err
		}
		sets := make([]*dataset.Set, len(files))
		for i, f := range files {
			cc := dataset.CaptionsConfig{Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer}
			if strings.HasPrefix(filepath.Base(f), "dataset_") {
				cc.Karpathy, cc.Splits = f, c.KarpathySplits[split]
			} else {
				cc.Captions = f
			}
			if sets[i], err = dataset.LoadCaptions(cc); err != nil {
				return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
			}
		}
		if d.Splits[split], err = concat(sets, store, storePath, 0); err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
		}
	}
	return d, nil
}
