package datasets

import (
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
)

func init() {
	register("nlvr2", openNLVR2)
	register("synthetic_nlvr2", openSyntheticNLVR2)
}

// openNLVR2 reads NLVR2 in ORIG's format (dataset_config.nlvr2, experiments/config/defaults/datasets/nlvr2/defaults.yaml):
// nlvr2_<split>.db txt_dbs of statements about a pair of images, and the nlvr2_<split> img_dbs.
func openNLVR2(name string, req Request) (*Data, error) {
	c := defaultTxtDBConfig()
	return openTxtDBDataset(name, KindNLVR2, req, &c, &c, readNLVR2)
}

// openSyntheticNLVR2 generates the synthetic NLVR2 task (data/synthetic) and reads it as nlvr2
// (dataset_config.synthetic_nlvr2).
func openSyntheticNLVR2(name string, req Request) (*Data, error) {
	c := defaultSyntheticTaskConfig(synthetic.TaskNLVR2)
	return openSyntheticTask(name, KindNLVR2, synthetic.TaskNLVR2, req, &c, &c, nil, readNLVR2)
}

// readNLVR2 reads one split of NLVR2.
func readNLVR2(d *Data, split string, f txtDBSplit) (err error) {
	d.Pairs[split], err = dataset.LoadNLVR2(dataset.TxtDBConfig{TxtDB: f.TxtDB, Features: f.Store, FeaturesPath: f.ImgDB,
		MaxTextLen: f.MaxTextLen})
	return err
}
