package datasets

import (
	"fmt"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

func init() { Register("vqa2", openVQA2) }

// vqa2Config is dataset_config.vqa2 (experiments/config/defaults/datasets/vqa2/defaults.yaml): the official VQA v2
// question and annotation files, an answer vocabulary and region features.
type vqa2Config struct {
	Common
	mmfKeys
	// Questions, Annotations and Features list the files of each split, relative to data_dir; a split may have
	// several question files (with as many annotation files, or none) and has one feature store.
	Questions   map[string][]string `json:"questions"`
	Annotations map[string][]string `json:"annotations"`
	Features    map[string][]string `json:"features"`
	// AnswerVocab is the answer vocabulary file, one answer per line.
	AnswerVocab string `json:"answer_vocab"`
}

// mmfKeys are keys of MMF's dataset configurations that the readers do not use; they are accepted so that MMF's
// YAML files load unchanged.
type mmfKeys struct {
	ZooRequirements    []string `json:"zoo_requirements"`
	UseImages          bool     `json:"use_images"`
	UseFeatures        bool     `json:"use_features"`
	ReturnFeaturesInfo bool     `json:"return_features_info"`
	MaxFeatures        int      `json:"max_features"`
	Processors         any      `json:"processors"`
}

// openVQA2 reads VQA v2 questions and annotations, the answer vocabulary and region features.
func openVQA2(name string, req Request) (d *Data, err error) {
	c := vqa2Config{Common: defaultCommon()}
	if err := req.Decode(&c); err != nil {
		return nil, err
	}
	if d, err = newData(name, KindVQA, req, c.Common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.checkDataDir(req, c.DataDir); err != nil {
		return nil, err
	}
	if err := d.loadTokenizer(c.Common); err != nil {
		return nil, err
	}
	if d.Answers, err = vqa.ReadAnswerVocab(resolvePath(c.DataDir, c.AnswerVocab)); err != nil {
		return nil, fmt.Errorf("dataset %s: answer vocabulary: %w", name, err)
	}
	opened := map[string]features.Reader{}
	for _, split := range req.Splits {
		qKey, aKey := req.Section+".questions."+split, req.Section+".annotations."+split
		qs, err := d.splitFiles(qKey, c.Questions[split], c.DataDir)
		if err != nil {
			return nil, err
		}
		if len(qs) == 0 {
			return nil, fmt.Errorf("dataset %s: %s lists no files", name, qKey)
		}
		anns, err := d.splitFiles(aKey, c.Annotations[split], c.DataDir)
		if err != nil {
			return nil, err
		}
		if len(anns) != 0 && len(anns) != len(qs) {
			return nil, fmt.Errorf("dataset %s: %s has %d files for %d question files", name, aKey, len(anns), len(qs))
		}
		store, storePath, err := d.splitStore(req.Section+".features."+split, c.Features[split], c.DataDir, opened)
		if err != nil {
			return nil, err
		}
		sets := make([]*dataset.Set, len(qs))
		for i, q := range qs {
			vc := dataset.VQAConfig{Questions: q, AnswerVocab: d.Answers, Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer}
			if len(anns) > 0 {
				vc.Annotations = anns[i]
			}
			if sets[i], err = dataset.LoadVQA(vc); err != nil {
				return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
			}
		}
		if d.Splits[split], err = concat(sets, store, storePath, d.Answers.Len()); err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
		}
	}
	return d, nil
}
