package datasets

import (
	"fmt"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/vqa"
)

func init() {
	register("ve", openVE)
	register("synthetic_ve", openSyntheticVE)
}

// openVE reads SNLI-VE in ORIG's format (dataset_config.ve, experiments/config/defaults/datasets/ve/defaults.yaml):
// ve_<split>.db txt_dbs of hypotheses with one-hot targets over the 3 labels, and the flickr30k img_db.
func openVE(name string, req Request) (*Data, error) {
	c := defaultTxtDBConfig()
	return openTxtDBDataset(name, KindVE, req, &c, &c, readVE)
}

// openSyntheticVE generates the synthetic SNLI-VE task (data/synthetic) and reads it as ve
// (dataset_config.synthetic_ve).
func openSyntheticVE(name string, req Request) (*Data, error) {
	c := defaultSyntheticTaskConfig(synthetic.TaskVE)
	return openSyntheticTask(name, KindVE, synthetic.TaskVE, req, &c, &c, nil, readVE)
}

// readVE reads one split of SNLI-VE: the examples with their 3 label scores, and the labels as the answers.
func readVE(d *Data, split string, f txtDBSplit) (err error) {
	if d.Answers == nil {
		if d.Answers, err = vqa.NewAnswerVocab(dataset.VELabels); err != nil {
			return err
		}
	}
	d.Splits[split], err = dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: f.TxtDB, Features: f.Store, FeaturesPath: f.ImgDB,
		MaxTextLen: f.MaxTextLen, NumAnswers: len(dataset.VELabels)})
	if err == nil && d.Splits[split].Examples[0].Targets == nil {
		err = fmt.Errorf("txt_db %s: its examples have no target; SNLI-VE needs ORIG's target {labels, scores}", f.TxtDB)
	}
	return err
}
