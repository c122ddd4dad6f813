package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/synthetic"
)

func init() {
	register("itm", openITM)
	register("synthetic_itr", openSyntheticITR)
}

// itmConfig is dataset_config.itm (experiments/config/defaults/datasets/itm/defaults.yaml): ORIG's preprocessed
// image-text retrieval data (train_itm.py's train_txt_dbs / train_img_dbs, val_txt_db / val_img_db, test_txt_db /
// test_img_db), e.g. Flickr30K's itm_flickr30k_{train,val,test}.db over the flickr30k img_db.
type itmConfig struct {
	common
	// TxtDB lists the txt_db directories of each split (joined), Features the split's one img_db, both relative to
	// data_dir.
	TxtDB    map[string][]string `json:"txt_db"`
	Features map[string][]string `json:"features"`
	// MaxTxtLen drops the training captions of more word pieces (ORIG max_txt_len 60); val and test keep every
	// caption, as ORIG opens them with TxtTokLmdb(db, -1).
	MaxTxtLen int `json:"max_txt_len"`
}

// openITM reads ORIG retrieval txt_dbs and their img_db.
func openITM(name string, req Request) (*Data, error) {
	c := itmConfig{common: defaultCommon()}
	return openFiles(name, KindRetrieval, req, &c, &c.common, func(d *Data) error {
		return d.readSplits(req, c.DataDir, "txt_db", c.TxtDB, c.Features, 0,
			func(split string, _ int, file string, store features.Reader, storePath string) (*dataset.Set, error) {
				return loadRetrievalSplit(split, file, store, storePath, c.MaxTxtLen)
			})
	})
}

// loadRetrievalSplit reads the captions of one retrieval txt_db; only the training split drops long captions.
func loadRetrievalSplit(split, txtDB string, store features.Reader, storePath string, maxTxtLen int) (*dataset.Set, error) {
	if split != SplitTrain {
		maxTxtLen = -1
	}
	return dataset.LoadTxtDB(dataset.TxtDBConfig{TxtDB: txtDB, Features: store, FeaturesPath: storePath, MaxTextLen: maxTxtLen})
}

// syntheticITRConfig is dataset_config.synthetic_itr (experiments/config/defaults/datasets/synthetic_itr/defaults.yaml):
// the synthetic retrieval task of data/synthetic, generated once under data_dir and read as ORIG txt_db + img_db.
type syntheticITRConfig struct {
	common
	synthetic.TaskConfig
	MaxTxtLen int `json:"max_txt_len"`
}

// openSyntheticITR generates (once, cached by its configuration) and reads the synthetic retrieval task.
func openSyntheticITR(name string, req Request) (d *Data, err error) {
	c := syntheticITRConfig{common: defaultCommon(), TaskConfig: synthetic.DefaultTaskConfig(synthetic.TaskRetrieval)}
	if err := req.Decode(&c); err != nil {
		return nil, err
	}
	if c.Task != synthetic.TaskRetrieval {
		return nil, fmt.Errorf("config key %s.task: %q; dataset %s is the %q task", req.Section, c.Task, name, synthetic.TaskRetrieval)
	}
	if c.Scenes.FeatureDim != req.FeatDim {
		return nil, fmt.Errorf("config key %s.scenes.feature_dim: %d differs from the model's img_dim %d", req.Section,
			c.Scenes.FeatureDim, req.FeatDim)
	}
	if err := c.TaskConfig.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", req.Section, err)
	}
	if d, err = newData(name, KindRetrieval, req, c.common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.loadTokenizer(c.common); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(c.TaskConfig)
	sum := sha256.Sum256(b)
	l := synthetic.TaskLayout{Dir: filepath.Join(c.DataDir, "synthetic-itr-"+hex.EncodeToString(sum[:6])), Task: synthetic.TaskRetrieval}
	if err := synthetic.EnsureTask(l.Dir, c.TaskConfig); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	d.imagePath = func(key string) string {
		p := l.Image(key)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		return p
	}
	storePath := l.ImgDB(SplitTrain)
	store, err := d.openStore(storePath, map[string]features.Reader{})
	if err != nil {
		return nil, err
	}
	for _, split := range req.Splits {
		if d.Splits[split], err = loadRetrievalSplit(split, l.TxtDB(split), store, storePath, c.MaxTxtLen); err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", name, split, err)
		}
	}
	return d, nil
}
