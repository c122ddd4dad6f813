package dataset

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/uniter-go/uniter/data/coco"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
)

// CaptionsConfig names the inputs of a caption dataset (MMF masked_coco / ORIG coco pretraining data): either a
// COCO captions file or Karpathy's split file with the splits to keep.
type CaptionsConfig struct {
	Captions     string               // COCO captions JSON (captions_train2014.json); exclusive with Karpathy
	Karpathy     string               // Karpathy's dataset_coco.json; exclusive with Captions
	Splits       []string             // Karpathy splits to keep, e.g. {"train", "restval"}; required with Karpathy
	Features     features.Reader      // region features of the images (not closed by the dataset)
	FeaturesPath string               // names the feature store in error messages
	Tokenizer    *tokenizer.Tokenizer // caption tokenizer
	// ImageKeyFormat maps a COCO image id to its feature key, as VQAConfig.ImageKeyFormat; "{subset}" becomes the
	// image's COCO subset (from file_name "COCO_<subset>_<id>.jpg", or Karpathy's filepath).
	ImageKeyFormat string
}

// caption is one caption before tokenization.
type caption struct {
	id      int64
	imageID int64
	subset  string
	text    string
}

// LoadCaptions reads a caption dataset: one example per caption, with its tokenized text and its image key.
func LoadCaptions(cfg CaptionsConfig) (*Set, error) {
	if cfg.Features == nil || cfg.Tokenizer == nil {
		return nil, fmt.Errorf("loading captions: features and tokenizer are required")
	}
	var (
		caps []caption
		src  string
		err  error
	)
	switch {
	case (cfg.Captions == "") == (cfg.Karpathy == ""):
		return nil, fmt.Errorf("loading captions: give exactly one of a COCO captions file and a Karpathy file (got %q, %q)",
			cfg.Captions, cfg.Karpathy)
	case cfg.Captions != "":
		src = cfg.Captions
		caps, err = cocoCaptions(cfg.Captions)
	default:
		src = cfg.Karpathy
		caps, err = karpathyCaptions(cfg.Karpathy, cfg.Splits)
	}
	if err != nil {
		return nil, fmt.Errorf("loading captions: %w", err)
	}
	if len(caps) == 0 {
		return nil, fmt.Errorf("loading captions: %s has no captions (splits %q)", src, cfg.Splits)
	}
	format, err := resolveKeyFormat(cfg.ImageKeyFormat, cfg.Features, cfg.FeaturesPath, caps[0].subset, caps[0].imageID)
	if err != nil {
		return nil, fmt.Errorf("loading captions %s: caption %d: %w", src, caps[0].id, err)
	}
	exs := make([]Example, len(caps))
	seen := make(map[int64]bool, len(caps))
	for i, c := range caps {
		if seen[c.id] {
			return nil, fmt.Errorf("loading captions: %s: caption id %d used twice", src, c.id)
		}
		seen[c.id] = true
		exs[i] = Example{
			ID:       strconv.FormatInt(c.id, 10),
			ImageID:  c.imageID,
			ImageKey: imageKey(format, c.subset, c.imageID),
			Text:     c.text,
			InputIDs: cfg.Tokenizer.Encode(c.text),
		}
	}
	set, err := newSet(exs, cfg.Features, cfg.FeaturesPath, 0, func(ex *Example) string {
		return fmt.Sprintf("caption %s (image %d)", ex.ID, ex.ImageID)
	})
	if err != nil {
		return nil, fmt.Errorf("loading captions %s: %w", src, err)
	}
	return set, nil
}

// cocoCaptions reads the captions of a COCO captions file; every caption's image must be listed in its images.
func cocoCaptions(file string) ([]caption, error) {
	cf, err := coco.ReadCaptions(file)
	if err != nil {
		return nil, err
	}
	subsets := make(map[int64]string, len(cf.Images))
	for _, im := range cf.Images {
		subsets[im.ID] = cocoSubset(im.FileName)
	}
	caps := make([]caption, len(cf.Annotations))
	for i, a := range cf.Annotations {
		subset, ok := subsets[a.ImageID]
		if !ok {
			return nil, fmt.Errorf("%s: caption %d is about image %d, which is not in its images list", file, a.ID, a.ImageID)
		}
		caps[i] = caption{id: a.ID, imageID: a.ImageID, subset: subset, text: a.Caption}
	}
	return caps, nil
}

// cocoSubset returns the subset of a COCO file name ("COCO_val2014_000000000042.jpg" → "val2014"), or "".
func cocoSubset(fileName string) string {
	parts := strings.Split(strings.TrimSuffix(fileName, path.Ext(fileName)), "_")
	if len(parts) == 3 && parts[0] == "COCO" {
		return parts[1]
	}
	return ""
}

// karpathyCaptions reads the sentences of the images of Karpathy's file that belong to one of splits.
func karpathyCaptions(file string, splits []string) ([]caption, error) {
	if len(splits) == 0 {
		return nil, fmt.Errorf("%s: no Karpathy splits selected (train, restval, val, test)", file)
	}
	kf, err := coco.ReadKarpathy(file)
	if err != nil {
		return nil, err
	}
	var caps []caption
	for _, im := range kf.Images {
		if !slices.Contains(splits, im.Split) {
			continue
		}
		for _, s := range im.Sentences {
			caps = append(caps, caption{id: s.SentID, imageID: im.CocoID, subset: im.FilePath, text: s.Raw})
		}
	}
	return caps, nil
}
