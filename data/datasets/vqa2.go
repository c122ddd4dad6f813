package datasets

import (
	"fmt"
	"os"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/imdb"
	"github.com/uniter-go/uniter/data/vqa"
)

func init() { register("vqa2", openVQA2) }

// vqa2Config is dataset_config.vqa2 (experiments/config/defaults/datasets/vqa2/defaults.yaml): MMF's layout (imdb
// annotation databases, an answer vocabulary, feature LMDBs), or the official VQA v2 question and annotation files.
type vqa2Config struct {
	common
	mmfKeys
	// Annotations and Features list the files of each split, relative to data_dir: MMF annotation databases (imdb
	// .npy, .json, .jsonl) or, when Questions lists the split's official questions files, as many official
	// annotation files (or none); a split has one feature store.
	Questions   map[string][]string `json:"questions"`
	Annotations map[string][]string `json:"annotations"`
	Features    map[string][]string `json:"features"`
	// AnswerVocab is the answer vocabulary file, one answer per line (MMF's answers_vqa.txt).
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
	// Images lists MMF's raw image directories (read only with use_images, which UNITER does not use).
	Images map[string][]string `json:"images"`
}

// openVQA2 reads VQA v2 questions and annotations (MMF's annotation databases, or the official VQA files when
// questions lists any), the answer vocabulary and region features.
func openVQA2(name string, req Request) (*Data, error) {
	c := vqa2Config{common: defaultCommon()}
	return openFiles(name, KindVQA, req, &c, &c.common, func(d *Data) (err error) {
		official := false
		for _, qs := range c.Questions {
			official = official || len(qs) > 0
		}
		vocabPath := resolvePath(c.DataDir, c.AnswerVocab)
		if official {
			d.Answers, err = vqa.ReadAnswerVocab(vocabPath)
		} else {
			d.Answers, err = vqa.ReadMMFAnswerVocab(vocabPath)
		}
		if err != nil {
			return fmt.Errorf("dataset %s: answer vocabulary: %w", name, err)
		}
		if official {
			return d.readOfficialVQA(req, c)
		}
		return d.readSplits(req, c.DataDir, "annotations", c.Annotations, c.Features, d.Answers.Len(),
			func(split string, _ int, file string, store features.Reader, storePath string) (*dataset.Set, error) {
				return d.readMMFVQA(req, c, split, file, store, storePath)
			})
	})
}

// readMMFVQA reads one MMF annotation database of a split.
func (d *Data) readMMFVQA(req Request, c vqa2Config, split, file string, store features.Reader, storePath string) (*dataset.Set, error) {
	if err := expectMMF(file, req.Section+".annotations."+split, req.Section+".questions."+split); err != nil {
		return nil, err
	}
	set, stats, err := dataset.LoadMMFVQA(dataset.MMFConfig{Annotations: file, AnswerVocab: d.Answers,
		Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer})
	if err != nil {
		return nil, err
	}
	if stats.NoAnswerInVocab > 0 {
		fmt.Fprintf(os.Stderr, "dataset %s split %s: %d of %d questions of %s (the first: question_id %d) have no "+
			"answer in %s; they keep all-zero targets, as MMF trains them\n", d.Name, split, stats.NoAnswerInVocab,
			set.Len(), file, stats.FirstNoAnswer, c.AnswerVocab)
	}
	return set, nil
}

// expectMMF checks that an annotation file is an MMF annotation database, saying in one line what it is otherwise.
func expectMMF(path, key, questionsKey string) error {
	format, err := imdb.Sniff(path)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	switch format {
	case imdb.NPY, imdb.JSON, imdb.JSONL:
		return nil
	case imdb.VQAAnnotations:
		return fmt.Errorf("%s: %s is an %s; list its questions file under %s", key, path, format, questionsKey)
	}
	return fmt.Errorf("%s: %s is a %s, not an MMF annotation database", key, path, format)
}

// readOfficialVQA reads the official VQA v2 question files of every split, each with its annotation file (or none).
func (d *Data) readOfficialVQA(req Request, c vqa2Config) (err error) {
	anns := map[string][]string{}
	for _, split := range req.Splits {
		key := req.Section + ".annotations." + split
		if anns[split], err = d.splitFiles(key, c.Annotations[split], c.DataDir); err != nil {
			return err
		}
		if n, q := len(anns[split]), len(c.Questions[split]); n != 0 && n != q {
			return fmt.Errorf("dataset %s: %s has %d files for %d question files", d.Name, key, n, q)
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
}
