package datasets

import (
	"fmt"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/synthetic"
)

func init() {
	register("refcoco", openRefCOCO)
	register("synthetic_refcoco", openSyntheticRefCOCO)
}

// openRefCOCO reads RefCOCO, RefCOCO+ or RefCOCOg in ORIG's format (dataset_config.refcoco,
// experiments/config/defaults/datasets/refcoco/defaults.yaml): refcoco*_<split>.db txt_dbs with their refs.json,
// images.json, annotations.json and categories.json, and an img_db per split. As ORIG's train_re.py decides, an
// img_db whose path contains "coco_gt" holds one ground-truth region per annotation (re_coco_gt, ORIG's training
// features); any other holds detector regions (re_coco_det, ORIG's validation features).
func openRefCOCO(name string, req Request) (*Data, error) {
	c := defaultTxtDBConfig()
	return openTxtDBDataset(name, KindRefExp, req, &c, &c, readRefCOCO)
}

// syntheticRefCOCOConfig is dataset_config.synthetic_refcoco: the synthetic task, and whether its evaluation splits
// use the detector regions (ORIG's validation setting) or the ground-truth regions.
type syntheticRefCOCOConfig struct {
	syntheticTaskConfig
	EvalDetectedRegions bool `json:"eval_detected_regions"`
}

// openSyntheticRefCOCO generates the synthetic RefCOCO task (data/synthetic) and reads it as refcoco: training on
// the ground-truth regions (re_coco_gt), evaluation on the detector regions (re_coco_det) with
// eval_detected_regions, else on the ground-truth regions.
func openSyntheticRefCOCO(name string, req Request) (*Data, error) {
	c := syntheticRefCOCOConfig{syntheticTaskConfig: defaultSyntheticTaskConfig(synthetic.TaskRefCOCO), EvalDetectedRegions: true}
	evalImgDB := func(l synthetic.TaskLayout) string {
		if c.EvalDetectedRegions {
			return l.RefDetImgDB()
		}
		return l.ImgDB(SplitVal)
	}
	d, err := openSyntheticTask(name, KindRefExp, synthetic.TaskRefCOCO, req, &c, &c.syntheticTaskConfig, evalImgDB, readRefCOCO)
	if err != nil {
		return nil, err
	}
	// The scenes are rendered under their ground-truth key.
	gtPath := d.imagePath
	d.imagePath = func(key string) string {
		var id int64
		if _, err := fmt.Sscanf(key, dataset.RefDetKeyFormat, &id); err == nil {
			key = fmt.Sprintf(dataset.RefGTKeyFormat, id)
		}
		return gtPath(key)
	}
	return d, nil
}

// readRefCOCO reads one split of referring expressions.
func readRefCOCO(d *Data, split string, f txtDBSplit) (err error) {
	d.Refs[split], err = dataset.LoadRefExp(dataset.RefConfig{TxtDB: f.TxtDB, Features: f.Store, FeaturesPath: f.ImgDB,
		MaxTextLen: f.MaxTextLen, GroundTruth: strings.Contains(f.ImgDB, "coco_gt")})
	return err
}
