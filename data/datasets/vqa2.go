package datasets

import (
	"fmt"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

func init() { register("vqa2", openVQA2) }

// vqa2Config is dataset_config.vqa2 (experiments/config/defaults/datasets/vqa2/defaults.yaml): the official VQA v2
// question and annotation files, an answer vocabulary and region features.
type vqa2Config struct {
	common
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
func openVQA2(name string, req Request) (*Data, error) {
	c := vqa2Config{common: defaultCommon()}
	return openFiles(name, KindVQA, req, &c, &c.common, func(d *Data) (err error) {
		if d.Answers, err = vqa.ReadAnswerVocab(resolvePath(c.DataDir, c.AnswerVocab)); err != nil {
			return fmt.Errorf("dataset %s: answer vocabulary: %w", name, err)
		}
		anns := map[string][]string{}
		for _, split := range req.Splits {
			key := req.Section + ".annotations." + split
			if anns[split], err = d.splitFiles(key, c.Annotations[split], c.DataDir); err != nil {
				return err
			}
			if n, q := len(anns[split]), len(c.Questions[split]); n != 0 && n != q {
				return fmt.Errorf("dataset %s: %s has %d files for %d question files", name, key, n, q)
			}
		}
		return d.readSplits(req, c.DataDir, "questions", c.Questions, c.Features, d.Answers.Len(),
			func(split string, i int, file string, store features.Reader, storePath string) (*dataset.Set, error) {
				vc := dataset.VQAConfig{Questions: file, AnswerVocab: d.Answers, Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer}
				if len(anns[split]) > 0 {
					vc.Annotations = anns[split][i]
				}
				return dataset.LoadVQA(vc)
			})
	})
}
