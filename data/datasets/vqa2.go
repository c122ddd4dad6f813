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

// openVQA2 reads VQA v2 questions and annotations, the answer vocabulary and region features.
func openVQA2(name string, req Request) (d *Data, err error) {
	c := vqa2Config{common: defaultCommon()}
	if err := req.Decode(&c); err != nil {
		return nil, err
	}
	if d, err = newData(name, KindVQA, req, c.common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.checkDataDir(req, c.DataDir); err != nil {
		return nil, err
	}
	if err := d.loadTokenizer(c.common); err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("dataset %s: answer vocabulary: %w", name, err)
	}
	opened := map[string]features.Reader{}
	for _, split := range req.Splits {
		var set *dataset.Set
		if official {
			set, err = d.officialVQASplit(req, c, split, opened)
		} else {
			set, err = d.mmfVQASplit(req, c, split, opened)
		}
		if err != nil {
			return nil, err
		}
		d.Splits[split] = set
	}
	return d, nil
}

// mmfVQASplit reads the MMF annotation databases of a split.
func (d *Data) mmfVQASplit(req Request, c vqa2Config, split string, opened map[string]features.Reader) (*dataset.Set, error) {
	key := req.Section + ".annotations." + split
	files, err := d.splitFiles(key, c.Annotations[split], c.DataDir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset %s: %s lists no files", d.Name, key)
	}
	store, storePath, err := d.splitStore(req.Section+".features."+split, c.Features[split], c.DataDir, opened)
	if err != nil {
		return nil, err
	}
	sets := make([]*dataset.Set, len(files))
	for i, f := range files {
		if err := expectMMF(f, key, req.Section+".questions."+split); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
		}
		var stats dataset.MMFStats
		sets[i], stats, err = dataset.LoadMMFVQA(dataset.MMFConfig{Annotations: f, AnswerVocab: d.Answers,
			Features: store, FeaturesPath: storePath, Tokenizer: d.Tokenizer})
		if err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
		}
		if stats.NoAnswerInVocab > 0 {
			fmt.Fprintf(os.Stderr, "dataset %s split %s: %d of %d questions of %s (the first: question_id %d) have no "+
				"answer in %s; they keep all-zero targets, as MMF trains them\n", d.Name, split, stats.NoAnswerInVocab,
				sets[i].Len(), f, stats.FirstNoAnswer, c.AnswerVocab)
		}
	}
	return concat(sets, store, storePath, d.Answers.Len())
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

// officialVQASplit reads the official VQA v2 question and annotation files of a split.
func (d *Data) officialVQASplit(req Request, c vqa2Config, split string, opened map[string]features.Reader) (*dataset.Set, error) {
	name := d.Name
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
	set, err := concat(sets, store, storePath, d.Answers.Len())
	if err != nil {
		return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
	}
	return set, nil
}
