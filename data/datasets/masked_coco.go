package datasets

import (
	"path/filepath"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
)

func init() { register("masked_coco", openMaskedCOCO) }

// maskedCOCOConfig is dataset_config.masked_coco (experiments/config/defaults/datasets/masked_coco/defaults.yaml):
// COCO captions for pretraining and region features.
type maskedCOCOConfig struct {
	common
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
func openMaskedCOCO(name string, req Request) (*Data, error) {
	c := maskedCOCOConfig{common: defaultCommon()}
	return openFiles(name, KindCaptions, req, &c, &c.common, func(d *Data) error {
		return d.readSplits(req, c.DataDir, "annotations", c.Annotations, c.Features, 0,
			func(split string, _ int, file string, store features.Reader, storePath string) (*dataset.Set, error) {
				cc := dataset.CaptionsConfig{Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer}
				if strings.HasPrefix(filepath.Base(file), "dataset_") {
					cc.Karpathy, cc.Splits = file, c.KarpathySplits[split]
				} else {
					cc.Captions = file
				}
				return dataset.LoadCaptions(cc)
			})
	})
}
