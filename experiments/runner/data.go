package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/synthetic"
	"github.com/uniter-go/uniter/data/tokenizer"
	"github.com/uniter-go/uniter/data/vqa"
	"github.com/uniter-go/uniter/experiments/config"
)

// The evaluation splits.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// data is a loaded dataset: one example source per split and what batches need to know about them.
type data struct {
	name       string
	vqa        bool // VQA questions (else captions)
	tokenizer  *tokenizer.Tokenizer
	answers    *vqa.AnswerVocab // VQA only
	splits     map[string]*dataset.Set
	textLen    int
	numRegions int
	featDim    int
	textMaskP  float64 // MLM masking probability (captions)
	imagePath  func(key string) string
	stores     []features.Reader
}

// close closes the feature stores.
func (d *data) close() error {
	var errs []error
	for _, s := range d.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// split returns the source of a split or an error naming the missing split.
func (d *data) split(name string) (*dataset.Set, error) {
	s, ok := d.splits[name]
	if !ok {
		return nil, fmt.Errorf("dataset %s: split %q is not loaded for this run_type", d.name, name)
	}
	return s, nil
}

// loadData loads the splits of the configured dataset that the run needs.
func loadData(c *config.Config, s *settings) (*data, error) {
	want := map[string]bool{}
	if s.has("train") {
		want[SplitTrain], want[SplitVal] = true, true
	}
	if s.has("val") {
		want[SplitVal] = true
	}
	if s.has("test") || s.has("inference") {
		want[SplitTest] = true
	}
	prefix := "dataset_config." + s.dataset
	if _, ok := c.Get(prefix); !ok {
		return nil, fmt.Errorf("config key %s: missing; dataset %q has no configuration", prefix, s.dataset)
	}
	g := &getter{c: c}
	d := &data{
		name:       s.dataset,
		textLen:    g.int(prefix + ".max_seq_length"),
		numRegions: g.int(prefix + ".max_regions"),
		featDim:    s.uniter.ImgDim,
		imagePath:  func(string) string { return "" },
	}
	if g.optional(prefix + ".mask_probability") {
		d.textMaskP = g.float(prefix + ".mask_probability")
	}
	if g.err != nil {
		return nil, g.err
	}
	if d.textLen < 3 || d.textLen > s.uniter.MaxPositionEmbeddings {
		return nil, fmt.Errorf("config key %s.max_seq_length: %d must be in [3, max_position_embeddings %d]",
			prefix, d.textLen, s.uniter.MaxPositionEmbeddings)
	}
	var err error
	switch s.dataset {
	case "vqa2":
		err = d.loadVQA2(g, prefix, want)
	case "masked_coco":
		err = d.loadCOCOCaptions(g, prefix, want)
	case "synthetic_vqa", "synthetic_captions":
		err = d.loadSynthetic(g, prefix, want, s.dataset == "synthetic_vqa")
	default:
		err = fmt.Errorf("config key datasets: the runner does not know how to read dataset %q (known: masked_coco, synthetic_captions, synthetic_vqa, vqa2)", s.dataset)
	}
	if err != nil {
		d.close()
		return nil, err
	}
	if d.tokenizer.VocabSize() > s.uniter.VocabSize {
		d.close()
		return nil, fmt.Errorf("dataset %s: the tokenizer vocabulary has %d tokens but model_config.%s.vocab_size is %d; "+
			"set dataset_config.%s.vocab_file to the model's vocab.txt or raise the vocab size",
			s.dataset, d.tokenizer.VocabSize(), s.model, s.uniter.VocabSize, s.dataset)
	}
	return d, nil
}

// loadTokenizer reads dataset_config.<name>.vocab_file (relative to root; "" = built-in bert-base-uncased).
func (d *data) loadTokenizer(g *getter, prefix, root string) error {
	file := ""
	if g.optional(prefix + ".vocab_file") {
		file = g.str(prefix + ".vocab_file")
	}
	if file == "" {
		d.tokenizer = tokenizer.BertBaseUncased()
		return g.err
	}
	lower := true
	if g.optional(prefix + ".do_lower_case") {
		lower = g.bool(prefix + ".do_lower_case")
	}
	if g.err != nil {
		return g.err
	}
	t, err := tokenizer.Load(resolvePath(root, file), lower)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", d.name, err)
	}
	d.tokenizer = t
	return nil
}

// resolvePath joins a relative path to root.
func resolvePath(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// dataRoot reads dataset_config.<name>.data_dir and checks that it exists.
func (d *data) dataRoot(g *getter, prefix string) (string, error) {
	root := g.str(prefix + ".data_dir")
	if g.err != nil {
		return "", g.err
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return "", fmt.Errorf("dataset %s: data directory %s does not exist; point env.data_dir (or %s.data_dir) at the directory holding the %s files",
			d.name, root, prefix, d.name)
	}
	return root, nil
}

// splitFiles reads the list key.<split> and resolves each file under root, checking that it exists.
func (d *data) splitFiles(g *getter, key, split, root string) ([]string, error) {
	files := g.strings(key + "." + split)
	if g.err != nil {
		return nil, g.err
	}
	for i, f := range files {
		files[i] = resolvePath(root, f)
		if _, err := os.Stat(files[i]); err != nil {
			return nil, fmt.Errorf("dataset %s: %s[%d] = %s: file not found (under data directory %s)", d.name, key+"."+split, i, files[i], root)
		}
	}
	return files, nil
}

// openStore opens (once) the feature store at path.
func (d *data) openStore(opened map[string]features.Reader, path string) (features.Reader, error) {
	if r, ok := opened[path]; ok {
		return r, nil
	}
	r, err := features.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.name, err)
	}
	opened[path] = r
	d.stores = append(d.stores, r)
	return r, nil
}

// splitStore opens the feature store of a split (the first entry of features.<split>).
func (d *data) splitStore(g *getter, prefix, split, root string, opened map[string]features.Reader) (features.Reader, string, error) {
	paths, err := d.splitFiles(g, prefix+".features", split, root)
	if err != nil {
		return nil, "", err
	}
	if len(paths) != 1 {
		return nil, "", fmt.Errorf("dataset %s: %s.features.%s lists %d feature stores; give exactly one", d.name, prefix, split, len(paths))
	}
	r, err := d.openStore(opened, paths[0])
	return r, paths[0], err
}

// concat joins the sets of one split's files into one set.
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

// loadVQA2 reads VQA v2 question/annotation files, an answer vocabulary and region features.
func (d *data) loadVQA2(g *getter, prefix string, want map[string]bool) error {
	d.vqa = true
	root, err := d.dataRoot(g, prefix)
	if err != nil {
		return err
	}
	if err := d.loadTokenizer(g, prefix, root); err != nil {
		return err
	}
	vocabPath := resolvePath(root, g.str(prefix+".answer_vocab"))
	if g.err != nil {
		return g.err
	}
	if d.answers, err = vqa.ReadAnswerVocab(vocabPath); err != nil {
		return fmt.Errorf("dataset %s: answer vocabulary: %w", d.name, err)
	}
	d.splits = map[string]*dataset.Set{}
	opened := map[string]features.Reader{}
	for _, split := range []string{SplitTrain, SplitVal, SplitTest} {
		if !want[split] {
			continue
		}
		qs, err := d.splitFiles(g, prefix+".questions", split, root)
		if err != nil {
			return err
		}
		anns, err := d.splitFiles(g, prefix+".annotations", split, root)
		if err != nil {
			return err
		}
		if len(anns) != 0 && len(anns) != len(qs) {
			return fmt.Errorf("dataset %s: %s.annotations.%s has %d files for %d question files", d.name, prefix, split, len(anns), len(qs))
		}
		store, storePath, err := d.splitStore(g, prefix, split, root, opened)
		if err != nil {
			return err
		}
		var sets []*dataset.Set
		for i, q := range qs {
			vc := dataset.VQAConfig{Questions: q, AnswerVocab: d.answers, Features: store, FeaturesPath: storePath, Tokenizer: d.tokenizer}
			if len(anns) > 0 {
				vc.Annotations = anns[i]
			}
			set, err := dataset.LoadVQA(vc)
			if err != nil {
				return fmt.Errorf("dataset %s split %s: %w", d.name, split, err)
			}
			sets = append(sets, set)
		}
		if len(sets) == 0 {
			return fmt.Errorf("dataset %s: %s.questions.%s lists no files", d.name, prefix, split)
		}
		if d.splits[split], err = concat(sets, store, storePath, d.answers.Len()); err != nil {
			return fmt.Errorf("dataset %s split %s: %w", d.name, split, err)
		}
	}
	return nil
}

// loadCOCOCaptions reads COCO caption files (Karpathy's dataset_*.json or captions_*.json) and region features.
func (d *data) loadCOCOCaptions(g *getter, prefix string, want map[string]bool) error {
	root, err := d.dataRoot(g, prefix)
	if err != nil {
		return err
	}
	if err := d.loadTokenizer(g, prefix, root); err != nil {
		return err
	}
	d.splits = map[string]*dataset.Set{}
	opened := map[string]features.Reader{}
	for _, split := range []string{SplitTrain, SplitVal, SplitTest} {
		if !want[split] {
			continue
		}
		files, err := d.splitFiles(g, prefix+".annotations", split, root)
		if err != nil {
			return err
		}
		store, storePath, err := d.splitStore(g, prefix, split, root, opened)
		if err != nil {
			return err
		}
		var sets []*dataset.Set
		for _, f := range files {
			cc := dataset.CaptionsConfig{Features: store, FeaturesPath: storePath, Tokenizer: d.tokenizer}
			if strings.HasPrefix(filepath.Base(f), "dataset_") {
				cc.Karpathy = f
				cc.Splits = g.strings(prefix + ".karpathy_splits." + split)
				if g.err != nil {
					return g.err
				}
			} else {
				cc.Captions = f
			}
			set, err := dataset.LoadCaptions(cc)
			if err != nil {
				return fmt.Errorf("dataset %s split %s: %w", d.name, split, err)
			}
			sets = append(sets, set)
		}
		if len(sets) == 0 {
			return fmt.Errorf("dataset %s: %s.annotations.%s lists no files", d.name, prefix, split)
		}
		if d.splits[split], err = concat(sets, store, storePath, 0); err != nil {
			return fmt.Errorf("dataset %s split %s: %w", d.name, split, err)
		}
	}
	return nil
}

// syntheticConfig builds the generator config from dataset_config.<name> (keys absent there keep the generator's
// defaults) and returns it with the VQA training split to read (the low-data subset when low_data_fraction < 1).
func syntheticConfig(g *getter, prefix string) (synthetic.Config, string) {
	cfg := synthetic.DefaultConfig()
	ints := map[string]*int{
		"num_images": &cfg.NumImages, "min_objects": &cfg.MinObjects, "max_objects": &cfg.MaxObjects,
		"num_shapes": &cfg.NumShapes, "num_colors": &cfg.NumColors, "image_width": &cfg.ImageWidth,
		"image_height": &cfg.ImageHeight, "feature_dim": &cfg.FeatureDim, "num_classes": &cfg.NumClasses,
		"background_regions": &cfg.BackgroundRegions, "questions_per_image": &cfg.QuestionsPerImage,
		"captions_per_image": &cfg.CaptionsPerImage, "min_agree": &cfg.MinAgree,
	}
	for k, p := range ints {
		if g.optional(prefix + "." + k) {
			*p = g.int(prefix + "." + k)
		}
	}
	for k, p := range map[string]*int64{"seed": &cfg.Seed, "detector_seed": &cfg.DetectorSeed} {
		if g.optional(prefix + "." + k) {
			*p = int64(g.int(prefix + "." + k))
		}
	}
	floats := map[string]*float64{
		"feature_noise": &cfg.FeatureNoise, "split_fractions.train": &cfg.TrainFraction, "split_fractions.val": &cfg.ValFraction,
	}
	for k, p := range floats {
		if g.optional(prefix + "." + k) {
			*p = g.float(prefix + "." + k)
		}
	}
	train := synthetic.SplitTrain
	if g.optional(prefix + ".low_data_fraction") {
		if f := g.float(prefix + ".low_data_fraction"); f < 1 {
			p := max(1, int(math.Round(f*100)))
			if !slices.Contains(cfg.LowDataPercents, p) {
				cfg.LowDataPercents = append(slices.Clone(cfg.LowDataPercents), p)
			}
			train = synthetic.LowDataSplit(p)
		}
	}
	return cfg, train
}

// loadSynthetic generates (once, cached under data_dir) the synthetic dataset and reads it like real data: VQA
// questions or COCO captions, npz region features.
func (d *data) loadSynthetic(g *getter, prefix string, want map[string]bool, isVQA bool) error {
	d.vqa = isVQA
	cfg, trainSplit := syntheticConfig(g, prefix)
	root := g.str(prefix + ".data_dir")
	if err := d.loadTokenizer(g, prefix, root); err != nil {
		return err
	}
	if g.err != nil {
		return g.err
	}
	if cfg.FeatureDim != d.featDim {
		return fmt.Errorf("config key %s.feature_dim: %d differs from the model's img_dim %d", prefix, cfg.FeatureDim, d.featDim)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config %s: %w", prefix, err)
	}
	b, _ := json.Marshal(cfg)
	sum := sha256.Sum256(b)
	dir := filepath.Join(root, "synthetic-"+hex.EncodeToString(sum[:6]))
	if err := synthetic.EnsureDataset(dir, cfg); err != nil {
		return fmt.Errorf("dataset %s: %w", d.name, err)
	}
	l := synthetic.Layout{Dir: dir}
	d.imagePath = func(key string) string {
		p := l.Image(key)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		return p
	}
	store, err := features.Open(l.Features(cfg.FeatureFormat))
	if err != nil {
		return fmt.Errorf("dataset %s: %w", d.name, err)
	}
	d.stores = append(d.stores, store)
	storePath := l.Features(cfg.FeatureFormat)
	if isVQA {
		if d.answers, err = vqa.ReadAnswerVocab(l.Answers()); err != nil {
			return fmt.Errorf("dataset %s: %w", d.name, err)
		}
	}
	d.splits = map[string]*dataset.Set{}
	for _, split := range []string{SplitTrain, SplitVal, SplitTest} {
		if !want[split] {
			continue
		}
		var set *dataset.Set
		if isVQA {
			file := split
			if split == SplitTrain {
				file = trainSplit
			}
			set, err = dataset.LoadVQA(dataset.VQAConfig{
				Questions: l.Questions(file), Annotations: l.Annotations(file), AnswerVocab: d.answers,
				Features: store, FeaturesPath: storePath, Tokenizer: d.tokenizer, ImageKeyFormat: synthetic.FeatureKeyFormat,
			})
		} else {
			set, err = dataset.LoadCaptions(dataset.CaptionsConfig{
				Captions: l.Captions(split), Features: store, FeaturesPath: storePath, Tokenizer: d.tokenizer,
				ImageKeyFormat: synthetic.FeatureKeyFormat,
			})
		}
		if err != nil {
			return fmt.Errorf("dataset %s split %s: %w", d.name, split, err)
		}
		d.splits[split] = set
	}
	return nil
}
