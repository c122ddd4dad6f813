package datasets

import (
	"fmt"
	"os"

	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/txtdb"
)

// txtDBConfig are the keys of a dataset in ORIG UNITER's preprocessed formats: per split one txt_db and the img_db
// of its images (ORIG train_txt_db / train_img_db, val_…, test_…), relative to data_dir. Which LMDB of an img_db
// directory is read (ORIG's conf_th, max_bb, min_bb, num_bb) follows from what is there: see features.OpenImgDB.
type txtDBConfig struct {
	common
	TxtDB map[string]string `json:"txt_db"`
	ImgDB map[string]string `json:"img_db"`
	// MaxTxtLen drops the training examples of more word pieces (ORIG max_txt_len, 60); evaluation splits keep
	// every example, as ORIG opens them with -1. max_seq_length must leave room for it and [CLS], [SEP].
	MaxTxtLen int `json:"max_txt_len"`
}

// defaultTxtDBConfig returns the values the keys of a txt_db dataset take when its configuration leaves them out.
func defaultTxtDBConfig() txtDBConfig { return txtDBConfig{common: defaultCommon(), MaxTxtLen: 60} }

// txtDBSplit are the files of one split of a txt_db dataset.
type txtDBSplit struct {
	TxtDB, ImgDB string // absolute or relative to the working directory
	Store        features.Reader
	MaxTextLen   int // the split's max_txt_len: MaxTxtLen for training, -1 for evaluation
}

// openTxtDBDataset opens a dataset of ORIG txt_dbs and img_dbs: it decodes the configuration into c, whose
// txtDBConfig is tc, then calls read with the files of every requested split (the img_db opened, the txt_db's
// meta.json checked against the tokenizer).
func openTxtDBDataset(name, kind string, req Request, c any, tc *txtDBConfig, read func(d *Data, split string, f txtDBSplit) error) (*Data, error) {
	return openFiles(name, kind, req, c, &tc.common, func(d *Data) error {
		if err := tc.check(req.Section); err != nil {
			return err
		}
		splits := map[string]txtDBSplit{}
		for _, split := range req.Splits {
			f := txtDBSplit{TxtDB: resolvePath(tc.DataDir, tc.TxtDB[split]), ImgDB: resolvePath(tc.DataDir, tc.ImgDB[split]), MaxTextLen: -1}
			if tc.TxtDB[split] == "" || tc.ImgDB[split] == "" {
				return fmt.Errorf("config keys %s.txt_db.%s and %s.img_db.%s: give the split's txt_db and img_db", req.Section,
					split, req.Section, split)
			}
			if split == SplitTrain {
				f.MaxTextLen = tc.MaxTxtLen
			}
			splits[split] = f
		}
		return d.readTxtDBSplits(req, splits, read)
	})
}

// check validates the lengths: a training text of max_txt_len pieces must fit max_seq_length with [CLS] and [SEP].
func (tc txtDBConfig) check(section string) error {
	if tc.MaxTxtLen < 1 || tc.MaxTxtLen+2 > tc.MaxSeqLength {
		return fmt.Errorf("config key %s.max_txt_len: %d must be ≥ 1 and leave room for [CLS] and [SEP] in max_seq_length %d",
			section, tc.MaxTxtLen, tc.MaxSeqLength)
	}
	if tc.MaxRegions < 1 {
		return fmt.Errorf("config key %s.max_regions: %d must be ≥ 1", section, tc.MaxRegions)
	}
	return nil
}

// readTxtDBSplits opens the img_db of every split (once per directory), checks each txt_db's special token ids
// against the tokenizer and calls read per split.
func (d *Data) readTxtDBSplits(req Request, splits map[string]txtDBSplit, read func(d *Data, split string, f txtDBSplit) error) error {
	opened := map[string]features.Reader{}
	for _, split := range req.Splits {
		f := splits[split]
		for _, p := range []string{f.TxtDB, f.ImgDB} {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
			}
		}
		if err := d.checkTxtDBMeta(f.TxtDB); err != nil {
			return err
		}
		store, err := d.openStore(f.ImgDB, opened)
		if err != nil {
			return err
		}
		f.Store = store
		d.splitStores[split] = store
		if err := read(d, split, f); err != nil {
			return fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
		}
	}
	return nil
}

// checkTxtDBMeta checks that the txt_db was tokenized with the dataset's tokenizer: its meta.json's CLS, SEP and
// MASK ids must be the tokenizer's.
func (d *Data) checkTxtDBMeta(dir string) error {
	db, err := txtdb.Open(dir)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", d.Name, err)
	}
	m := db.Meta()
	db.Close()
	t := d.Tokenizer
	if m.CLS != t.CLS() || m.SEP != t.SEP() || m.MASK != t.MASK() {
		return fmt.Errorf("dataset %s: txt_db %s was tokenized by %q ([CLS] %d, [SEP] %d, [MASK] %d) but the dataset's "+
			"tokenizer has [CLS] %d, [SEP] %d, [MASK] %d; set the dataset's tokenizer or vocab_file to the txt_db's",
			d.Name, dir, m.Bert+m.Toker, m.CLS, m.SEP, m.MASK, t.CLS(), t.SEP(), t.MASK())
	}
	return nil
}

// syntheticTaskConfig is the configuration of a synthetic downstream task (dataset_config.synthetic_<task>): the
// generator's synthetic.TaskConfig by its keys (task is the dataset's), the common keys, and max_txt_len. The
// files are generated on first use under data_dir, in ORIG's formats, and then read as the real dataset.
type syntheticTaskConfig struct {
	common
	synthetic.TaskConfig
	MaxTxtLen int `json:"max_txt_len"`
}

// defaultSyntheticTaskConfig returns the default configuration of the synthetic version of task.
func defaultSyntheticTaskConfig(task string) syntheticTaskConfig {
	return syntheticTaskConfig{common: defaultCommon(), TaskConfig: synthetic.DefaultTaskConfig(task), MaxTxtLen: 60}
}

// openSyntheticTask decodes the dataset's configuration into dst, which holds c, generates (once, cached under
// data_dir by a hash of the generator configuration) the synthetic downstream task of c and calls read with the files of every requested split, as the real dataset reads its own.
// evalImgDB, when set, names the img_db of the evaluation splits (else the layout's ImgDB, as for training).
func openSyntheticTask(name, kind, task string, req Request, dst any, c *syntheticTaskConfig,
	evalImgDB func(l synthetic.TaskLayout) string, read func(d *Data, split string, f txtDBSplit) error) (d *Data, err error) {
	if err := req.Decode(dst); err != nil {
		return nil, err
	}
	if c.Task != task {
		return nil, fmt.Errorf("config key %s.task: %q, but dataset %s is the synthetic %s task", req.Section, c.Task, name, task)
	}
	tc := txtDBConfig{common: c.common, MaxTxtLen: c.MaxTxtLen}
	if err := tc.check(req.Section); err != nil {
		return nil, err
	}
	if c.Scenes.FeatureDim != req.FeatDim {
		return nil, fmt.Errorf("config key %s.scenes.feature_dim: %d differs from the model's img_dim %d", req.Section,
			c.Scenes.FeatureDim, req.FeatDim)
	}
	if err := c.TaskConfig.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", req.Section, err)
	}
	if d, err = newData(name, kind, req, c.common); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if err := d.loadTokenizer(c.common); err != nil {
		return nil, err
	}
	l := synthetic.TaskLayout{Dir: cacheDir(c.DataDir, "synthetic-"+task, c.TaskConfig), Task: task}
	if err := synthetic.EnsureTask(l.Dir, c.TaskConfig); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	d.imagePath = existingFile(l.Image)
	splits := map[string]txtDBSplit{}
	for _, split := range req.Splits {
		f := txtDBSplit{TxtDB: l.TxtDB(split), ImgDB: l.ImgDB(split), MaxTextLen: -1}
		if split == SplitTrain {
			f.MaxTextLen = c.MaxTxtLen
		} else if evalImgDB != nil {
			f.ImgDB = evalImgDB(l)
		}
		splits[split] = f
	}
	if err := d.readTxtDBSplits(req, splits, read); err != nil {
		return nil, err
	}
	return d, nil
}
