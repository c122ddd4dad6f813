package datasets

import (
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
)

func init() {
	register("itm", openITM)
	register("synthetic_itr", openSyntheticITR)
}

// openITM reads image-text retrieval data in ORIG's format (dataset_config.itm,
// experiments/config/defaults/datasets/itm/defaults.yaml): itm_<corpus>_<split>.db txt_dbs of captions over the
// corpus's img_db (ORIG train_itm.py's train_txt_dbs / train_img_dbs, val_…, test_…).
func openITM(name string, req Request) (*Data, error) {
	c := defaultTxtDBConfig()
	return openTxtDBDataset(name, KindRetrieval, req, &c, &c, readRetrieval)
}

// openSyntheticITR generates the synthetic retrieval task (data/synthetic) and reads it as itm
// (dataset_config.synthetic_itr).
func openSyntheticITR(name string, req Request) (*Data, error) {
	c := defaultSyntheticTaskConfig(synthetic.TaskRetrieval)
	return openSyntheticTask(name, KindRetrieval, synthetic.TaskRetrieval, req, &c, &c, nil, readRetrieval)
}

// readRetrieval reads the captions of one split.
func readRetrieval(d *Data, split string, f txtDBSplit) (err error) {
	d.Splits[split], err = dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: f.TxtDB, Features: f.Store, FeaturesPath: f.ImgDB,
		MaxTextLen: f.MaxTextLen})
	return err
}
