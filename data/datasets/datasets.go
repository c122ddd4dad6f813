// Package datasets opens the datasets of an experiment by name. Each dataset is one file of this package: the
// struct of its configuration keys (dataset_config.<name>, with json tags; unknown keys are errors) and an opener
// that reads its files into example sets, registered under its name in that file's init:
//
//	func init() { register("nlvr2", openNLVR2) }
//
// Opening a dataset yields Data: the example set of every requested split, its tokenizer and, for VQA datasets,
// the answer vocabulary. Region features come from any store data/features opens.
package datasets

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
)

// The split names a dataset can be asked for.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// Kinds of examples a dataset holds; a task checks that the dataset of its run holds the kind it reads.
const (
	KindVQA      = "vqa"      // questions about an image with soft answer scores (Data.Answers is set)
	KindCaptions = "captions" // image captions, for pretraining
)

// Data is an opened dataset.
type Data struct {
	Name string
	Kind string // KindVQA or KindCaptions
	// Splits holds the example set of every loaded split, by split name.
	Splits    map[string]*dataset.Set
	Tokenizer *tokenizer.Tokenizer
	Answers   *vqa.AnswerVocab // the answer vocabulary of a VQA dataset, else nil
	// TextLen is Lt, the padded text length incl. [CLS] and [SEP] (max_seq_length); NumRegions is Nr, the padded
	// region count (max_regions).
	TextLen, NumRegions int
	// MaskProbability is the probability that MLM masks a text token (mask_probability).
	MaskProbability float64

	imagePath func(key string) string // "" when the dataset has no image file for key
	stores    []features.Reader
}

// Split returns the example set of a split, or an error naming a split that was not loaded.
func (d *Data) Split(name string) (*dataset.Set, error) {
	s, ok := d.Splits[name]
	if !ok {
		return nil, fmt.Errorf("dataset %s: split %q is not loaded for this run", d.Name, name)
	}
	return s, nil
}

// ImagePath returns the image file of an image key when the dataset has one (the synthetic scenes), else "".
func (d *Data) ImagePath(key string) string {
	if d.imagePath == nil {
		return ""
	}
	return d.imagePath(key)
}

// Close closes the feature stores.
func (d *Data) Close() error {
	var errs []error
	for _, s := range d.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Request is what a dataset is opened with.
type Request struct {
	// Section is the full key of the dataset's configuration (dataset_config.<name>), for messages.
	Section string
	// Decode stores the dataset's configuration in the struct dst points to, by json tags (see config.Decode).
	Decode func(dst any) error
	// Splits are the splits to load.
	Splits []string
	// FeatDim is the model's region feature width (img_dim); MaxTextLen its max_position_embeddings.
	FeatDim, MaxTextLen int
}

// An opener reads the dataset registered as name.
type opener func(name string, req Request) (*Data, error)

var openers = map[string]opener{}

// register makes a dataset available by name; it is called from the init of the dataset's file.
func register(name string, open opener) {
	if _, dup := openers[name]; dup {
		panic("datasets: " + name + " registered twice")
	}
	openers[name] = open
}

// Open opens the dataset registered as name.
func Open(name string, req Request) (*Data, error) {
	open, ok := openers[name]
	if !ok {
		return nil, fmt.Errorf("config key datasets: no reader for dataset %q (known: %s)", name,
			strings.Join(slices.Sorted(maps.Keys(openers)), ", "))
	}
	return open(name, req)
}

// common are the configuration keys every dataset has.
type common struct {
	// DataDir is the root of the dataset's relative paths.
	DataDir string `json:"data_dir"`
	// MaxSeqLength is Lt (Data.TextLen) and MaxRegions Nr (Data.NumRegions).
	MaxSeqLength int `json:"max_seq_length"`
	MaxRegions   int `json:"max_regions"`
	// VocabFile is a WordPiece vocab.txt relative to DataDir; "" is the built-in bert-base-uncased vocabulary.
	VocabFile   string `json:"vocab_file"`
	DoLowerCase bool   `json:"do_lower_case"`
	// MaskProbability is Data.MaskProbability.
	MaskProbability float64 `json:"mask_probability"`
}

// defaultCommon returns the values of the common keys a dataset configuration leaves out.
func defaultCommon() common { return common{DoLowerCase: true} }

// newData checks the common keys and returns the dataset before its tokenizer and splits are read.
func newData(name, kind string, req Request, c common) (*Data, error) {
	if c.MaxSeqLength < 3 || c.MaxSeqLength > req.MaxTextLen {
		return nil, fmt.Errorf("config key %s.max_seq_length: %d must be in [3, max_position_embeddings %d]",
			req.Section, c.MaxSeqLength, req.MaxTextLen)
	}
	return &Data{Name: name, Kind: kind, Splits: map[string]*dataset.Set{}, TextLen: c.MaxSeqLength,
		NumRegions: c.MaxRegions, MaskProbability: c.MaskProbability}, nil
}

// loadTokenizer reads the vocabulary of vocab_file (relative to data_dir), or takes the built-in one.
func (d *Data) loadTokenizer(c common) error {
	if c.VocabFile == "" {
		d.Tokenizer = tokenizer.BertBaseUncased()
		return nil
	}
	t, err := tokenizer.Load(resolvePath(c.DataDir, c.VocabFile), c.DoLowerCase)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", d.Name, err)
	}
	d.Tokenizer = t
	return nil
}

// resolvePath joins a relative path to root.
func resolvePath(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// splitFiles resolves the files of one split listed under key (e.g. questions.train) against root and checks that
// they exist.
func (d *Data) splitFiles(key string, files []string, root string) ([]string, error) {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = resolvePath(root, f)
		if _, err := os.Stat(out[i]); err != nil {
			return nil, fmt.Errorf("dataset %s: %s[%d] = %s: file not found (under data directory %s)", d.Name, key, i, out[i], root)
		}
	}
	return out, nil
}

// openStore opens (once per path) a feature store; Close closes it.
func (d *Data) openStore(path string, opened map[string]features.Reader) (features.Reader, error) {
	if r, ok := opened[path]; ok {
		return r, nil
	}
	r, err := features.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
	}
	opened[path] = r
	d.stores = append(d.stores, r)
	return r, nil
}

// openFiles opens a dataset read from files under its data_dir: it decodes the configuration into cfg, whose
// common keys are c, checks the data directory, loads the tokenizer and calls read; on error it closes what read
// opened.
func openFiles(name, kind string, req Request, cfg any, c *common, read func(d *Data) error) (d *Data, err error) {
	if err := req.Decode(cfg); err != nil {
		return nil, err
	}
	if d, err = newData(name, kind, req, *c); err != nil {
		return nil, err
	}
	defer closeOnError(d, &err)
	if st, err := os.Stat(c.DataDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("dataset %s: data directory %s does not exist; point env.data_dir (or %s.data_dir) at the directory holding the %s files",
			name, c.DataDir, req.Section, name)
	}
	if err := d.loadTokenizer(*c); err != nil {
		return nil, err
	}
	if err := read(d); err != nil {
		return nil, err
	}
	return d, nil
}

// readSplits reads every requested split from the files listed for it under filesKey (at least one, e.g.
// questions.<split>) and its one feature store (features.<split>), paths relative to root: load reads the i-th
// file, and the sets of a split are joined.
func (d *Data) readSplits(req Request, root, filesKey string, files, stores map[string][]string, numAnswers int,
	load func(split string, i int, file string, store features.Reader, storePath string) (*dataset.Set, error)) error {
	opened := map[string]features.Reader{}
	for _, split := range req.Splits {
		key := req.Section + "." + filesKey + "." + split
		paths, err := d.splitFiles(key, files[split], root)
		if err != nil {
			return err
		}
		if len(paths) == 0 {
			return fmt.Errorf("dataset %s: %s lists no files", d.Name, key)
		}
		storeKey := req.Section + ".features." + split
		storePaths, err := d.splitFiles(storeKey, stores[split], root)
		if err != nil {
			return err
		}
		if len(storePaths) != 1 {
			return fmt.Errorf("dataset %s: %s lists %d feature stores; give exactly one", d.Name, storeKey, len(storePaths))
		}
		store, err := d.openStore(storePaths[0], opened)
		if err != nil {
			return err
		}
		sets := make([]*dataset.Set, len(paths))
		for i, f := range paths {
			if sets[i], err = load(split, i, f, store, storePaths[0]); err != nil {
				return fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
			}
		}
		if d.Splits[split], err = concat(sets, store, storePaths[0], numAnswers); err != nil {
			return fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
		}
	}
	return nil
}

// concat joins the example sets of one split's files.
func concat(sets []*dataset.Set, store features.Reader, storeName string, numAnswers int) (*dataset.Set, error) {
	if len(sets) == 1 {
		return sets[0], nil
	}
	var exs []dataset.Example
	for _, s := range sets {
		exs = append(exs, s.Examples...)
	}
	return dataset.NewSet(exs, store, storeName, numAnswers)
}

// closeOnError closes d when *err is set: the openers defer it once d holds open stores.
func closeOnError(d *Data, err *error) {
	if *err != nil {
		d.Close()
	}
}
