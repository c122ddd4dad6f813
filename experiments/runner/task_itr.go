package runner

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/data/dataset"
	"github.com/uniter-go/uniter/data/datasets"
	"github.com/uniter-go/uniter/data/metrics"
	"github.com/uniter-go/uniter/data/pydata"
	"github.com/uniter-go/uniter/internal/jsonfile"
	"github.com/uniter-go/uniter/uniter"
	"github.com/uniter-go/uniter/uniter/named"
)

// Image-text retrieval finetuning, ORIG's train_itm.py (random negatives) and train_itm_hard_negatives.py (hard
// negatives mined by the current model), model/itm.py: the ranking head rank_output (initialised from the
// pretrained ITM head when the starting checkpoint has one) trained with the triplet hinge loss, and evaluated by
// ranking every image of the split against every caption (utils/itm_eval.py).
func init() { registerTask("itr", newRetrievalTask) }

// retrievalHead is the head section of a retrieval task; its keys are ORIG's train_itm*.py options.
type retrievalHead struct {
	headConfig
	// Margin is the triplet hinge margin (ORIG margin 0.2); HardNegSize the hard negatives kept of each pool
	// (ORIG hard_neg_size 31), 0 for train_itm.py's random negatives.
	uniter.RetrievalConfig
	// NegativeSize is ORIG negative_size: the random negative images and as many negative captions of a group
	// (1 in train_itm.py's configs), or the size of each hard-negative pool (399 in the -hn configs).
	NegativeSize int `json:"negative_size"`
	// InfMinibatchSize is the number of (caption, image) pairs scored per evaluation batch (ORIG inf_minibatch_size
	// images per caption).
	InfMinibatchSize int `json:"inf_minibatch_size"`
}

// sampling returns how the head's training groups are drawn.
func (h retrievalHead) sampling() batch.RetrievalSampling {
	if h.HardNegSize > 0 {
		return batch.RetrievalHardBoth
	}
	return batch.RetrievalRandom
}

// newRetrievalTask checks the head and builds the retrieval task.
func newRetrievalTask(env taskEnv) (*task, error) {
	h := retrievalHead{RetrievalConfig: uniter.RetrievalConfig{Margin: 0.2}, NegativeSize: 1, InfMinibatchSize: 400}
	if err := env.decode(&h, datasets.KindRetrieval); err != nil {
		return nil, err
	}
	switch {
	case h.Margin <= 0:
		return nil, fmt.Errorf("config key %s.margin: %g must be positive", env.headKey, h.Margin)
	case h.NegativeSize < 1:
		return nil, fmt.Errorf("config key %s.negative_size: %d must be at least 1", env.headKey, h.NegativeSize)
	case h.HardNegSize < 0 || h.HardNegSize > h.NegativeSize:
		return nil, fmt.Errorf("config key %s.hard_neg_size: %d must be in [0, negative_size %d] (0 = random negatives)",
			env.headKey, h.HardNegSize, h.NegativeSize)
	case h.InfMinibatchSize < 1:
		return nil, fmt.Errorf("config key %s.inf_minibatch_size: %d must be at least 1", env.headKey, h.InfMinibatchSize)
	case env.loss != "":
		return nil, fmt.Errorf("config key losses.%s: %q; the retrieval task trains with the triplet ranking loss of its head (margin)", env.name, env.loss)
	}
	t := env.newTask(h.headConfig, batch.TaskRetrieval, uniter.HeadRank, []string{"rank_output."})
	t.parts, t.accuracy = []string{"rank_loss"}, "r_mean"
	t.examples = func(split string) (*examples, error) {
		set, err := env.data.Split(split)
		if err != nil {
			return nil, err
		}
		rb, err := batch.NewRetrievalBuilder(set, h.sampling(), h.NegativeSize, env.model.ImgDim, batch.TokenIDsOf(env.data.Tokenizer))
		if err != nil {
			return nil, fmt.Errorf("dataset %s split %s: %w", env.data.Name, split, err)
		}
		ex := newExamples(set.Len(), rb.Sizes, env.data.TextLen, env.data.NumRegions)
		ex.build, ex.rowsPerExample = rb.Build, rb.RowsPerExample()
		ex.text = func(i int) string { return set.Examples[i].Text }
		ex.images = func(i int) []string { return []string{set.Examples[i].ImageKey} }
		return ex, nil
	}
	t.feed = func(b *batch.Batch, in named.Tensors) {
		groups := b.Size / b.GroupSize
		if h.HardNegSize > 0 {
			groups *= 2 // each example holds a text-sampled and an image-sampled pool
		}
		w := make([]float32, groups)
		per := b.Size / groups
		for g := range w {
			if b.ExampleOK[g*per] {
				w[g] = 1
			}
		}
		in["Weights"] = tensors.FromFlatDataAndDimensions(w, groups)
	}
	t.forward = func(scope *model.Scope, cfg uniter.Config, in named.Nodes, opts uniter.Options) (named.Nodes, *uniter.Output) {
		weights := in["Weights"]
		delete(in, "Weights")
		x := named.Bind[uniter.Inputs](in)
		rows, groups := x.InputIDs.Shape().Dimensions[0], weights.Shape().Dimensions[0]
		// The ranking head reads the pooled output only; attention maps need every row of the last layer.
		opts.PooledOnly = !opts.AttentionProbs
		if h.HardNegSize > 0 {
			// ORIG sums the losses of the text-sampled and the image-sampled pool of a step, each the mean over
			// its hard negatives: twice the mean over all pools.
			out := uniter.ImageTextRetrievalHardNegatives(scope, cfg, h.RetrievalConfig,
				uniter.HardNegativeInputs{Inputs: x, PoolSize: rows / groups, Weights: weights, Options: opts})
			loss := MulScalar(out.Loss, 2)
			return named.Nodes{"loss": loss, "rank_loss": loss}, out.Backbone
		}
		out := uniter.ImageTextRetrieval(scope, cfg, h.RetrievalConfig,
			uniter.RetrievalInputs{Inputs: x, SampleSize: rows / groups, Weights: weights, Options: opts})
		return named.Nodes{"loss": out.Loss, "rank_loss": out.Loss}, out.Backbone
	}
	t.evalBatch = h.InfMinibatchSize
	t.evaluate = func(ev evalEnv) (map[string]float64, error) { return evaluateRetrieval(ev, env, t.evalBatch) }
	return t, nil
}

// evaluateRetrieval scores every (caption, image) pair of the split in batches of rows pairs, as ORIG's
// itm_eval.evaluate does, and returns the recall of utils/itm_eval.py: txt_r1, txt_r5, txt_r10, txt_r_mean,
// img_r1, img_r5, img_r10, img_r_mean and r_mean. A final evaluation writes the score matrix (ORIG inf_itm.py
// results.bin) and the recall (scores.json).
func evaluateRetrieval(ev evalEnv, env taskEnv, rows int) (map[string]float64, error) {
	scores, err := retrievalScoreMatrix(ev, env, rows)
	if err != nil {
		return nil, err
	}
	rec, err := metrics.RetrievalRecall(scores.Scores, scores.TextImages, len(scores.ImageIDs))
	if err != nil {
		return nil, err
	}
	m := recallMetrics(rec)
	if ev.outputs != "" {
		if err := writeRetrievalOutputs(ev.outputs, scores, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// retrievalMatrix is the score of every (caption, image) pair of a split, ORIG's score matrix.
type retrievalMatrix struct {
	TextIDs  []string // the captions (rows) in the split's order
	ImageIDs []string // the images (columns), fewest regions first as ORIG's ItmEvalDataset orders them
	// Scores is [len(TextIDs), len(ImageIDs)] row-major: the ranking head's logit of each pair.
	Scores []float32
	// TextImages is the column of each caption's own image.
	TextImages []int
}

// retrievalScoreMatrix scores every pair of the split with the ranking head, rows pairs per batch.
func retrievalScoreMatrix(ev evalEnv, env taskEnv, rows int) (*retrievalMatrix, error) {
	set, err := env.data.Split(ev.split)
	if err != nil {
		return nil, err
	}
	re, err := newRetrievalEval(env.data, set, env.model.ImgDim, rows)
	if err != nil {
		return nil, err
	}
	exec, err := ev.exec("scores", retrievalScoresGraph)
	if err != nil {
		return nil, err
	}
	nt, ni, pairs := re.NumTexts(), len(re.Images), re.NumPairs()
	m := &retrievalMatrix{ImageIDs: re.Images, Scores: make([]float32, nt*ni), TextImages: re.TextImages()}
	for i := range set.Examples {
		m.TextIDs = append(m.TextIDs, set.Examples[i].ID)
	}
	batches := re.NumBatches()
	prog := ev.progress(batches, "scoring "+ev.split)
	defer prog.finish()
	start := time.Now()
	for k := range batches {
		bt, err := re.Batch(k)
		if err != nil {
			return nil, err
		}
		outs, err := exec.Call(backboneInputs(bt))
		if err != nil {
			return nil, fmt.Errorf("scoring %s pairs: %w", ev.split, err)
		}
		for r, s := range outs["scores"].Value().([]float32) {
			if bt.ExampleOK[r] {
				m.Scores[int(bt.PairTexts[r])*ni+int(bt.PairImages[r])] = s
			}
		}
		done := float64(k+1) * float64(pairs) / float64(batches)
		prog.set(k+1, fmt.Sprintf("scoring %s: %.0f pairs/s", ev.split, done/time.Since(start).Seconds()))
		if tenth := max(batches/10, 1); (k+1)%tenth == 0 && k+1 < batches {
			prog.logf("scoring %s: %.0f of %d pairs in %s", ev.split, done, pairs, time.Since(start).Round(time.Second))
		}
	}
	prog.logf("scored the %d captions × %d images of %s in %s (%.0f pairs/s)", nt, ni, ev.split,
		time.Since(start).Round(time.Millisecond), float64(pairs)/time.Since(start).Seconds())
	return m, nil
}

// newRetrievalEval enumerates the pairs of a split of d in batches of at most rows pairs, their text length and
// region count rounded up to multiples of 8 (within max_seq_length and max_regions): few graph shapes.
func newRetrievalEval(d *datasets.Data, set *dataset.Set, featDim, rows int) (*batch.RetrievalEval, error) {
	buckets := batch.ShapeBuckets{Text: batch.LinearBuckets(8, d.TextLen), Regions: batch.LinearBuckets(8, d.NumRegions)}
	re, err := batch.NewRetrievalEval(set, featDim, batch.TokenIDsOf(d.Tokenizer), rows, buckets)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
	}
	return re, nil
}

// retrievalScoresGraph is the graph scoring pairs: "scores" [B], the ranking head's logit of every row.
func retrievalScoresGraph(scope *model.Scope, cfg uniter.Config, in named.Nodes) named.Nodes {
	return named.Nodes{"scores": uniter.RetrievalScores(scope, cfg, named.Bind[uniter.Inputs](in))}
}

// RetrievedImage is an image ranked for a caption by RetrieveImages.
type RetrievedImage struct {
	Key       string  // the image's key in the feature store
	ImagePath string  // the image file when known (synthetic data), else ""
	Score     float32 // the ranking head's logit of the (caption, image) pair; its sigmoid is the match probability
}

// RetrieveImages ranks every image of a split for a caption (any text) with the retrieval head of a run whose task
// is image-text retrieval, and returns the k best, the highest score first (equal scores in the split's image
// order, as ORIG's ranking).
func (r *Runner) RetrieveImages(split, caption string, k int) ([]RetrievedImage, error) {
	t := r.tasks[0]
	if t.head != uniter.HeadRank || len(r.tasks) != 1 {
		return nil, fmt.Errorf("retrieve images: the run's task %s is not image-text retrieval", t.name)
	}
	set, err := r.data.Split(split)
	if err != nil {
		return nil, err
	}
	re, err := newRetrievalEval(r.data, set, r.model.ImgDim, t.evalBatch)
	if err != nil {
		return nil, err
	}
	exec, err := r.evalEnv(t, split, false).exec("scores", retrievalScoresGraph)
	if err != nil {
		return nil, err
	}
	pieces := r.data.Tokenizer.Encode(caption)
	if len(pieces)+2 > r.model.MaxPositionEmbeddings {
		return nil, fmt.Errorf("retrieve images: the caption has %d word pieces, the model takes at most %d", len(pieces),
			r.model.MaxPositionEmbeddings-2)
	}
	ranked := make([]RetrievedImage, 0, len(re.Images))
	for first := 0; first < len(re.Images); {
		bt, err := re.QueryBatch(pieces, first)
		if err != nil {
			return nil, err
		}
		first += bt.Size
		outs, err := exec.Call(backboneInputs(bt))
		if err != nil {
			return nil, fmt.Errorf("retrieve images: %w", err)
		}
		for i, s := range outs["scores"].Value().([]float32) {
			key := re.Images[bt.PairImages[i]]
			ranked = append(ranked, RetrievedImage{Key: key, ImagePath: r.data.ImagePath(key), Score: s})
		}
	}
	slices.SortStableFunc(ranked, func(a, b RetrievedImage) int { return cmp.Compare(b.Score, a.Score) })
	return ranked[:min(k, len(ranked))], nil
}

// recallMetrics names the recall as ORIG's itm_eval does.
func recallMetrics(r metrics.Recall) map[string]float64 {
	return map[string]float64{
		"txt_r1": r.TxtR1, "txt_r5": r.TxtR5, "txt_r10": r.TxtR10, "txt_r_mean": r.TxtRMean,
		"img_r1": r.ImgR1, "img_r5": r.ImgR5, "img_r10": r.ImgR10, "img_r_mean": r.ImgRMean,
		"r_mean": r.RMean,
	}
}

// writeRetrievalOutputs writes what ORIG's inf_itm.py writes, next to each other under the prefix:
// <prefix>_results.bin, the pickle of (score matrix, caption ids, image ids) — the matrix a float32 NumPy array
// [captions, images] where ORIG pickles a float16 torch tensor — and <prefix>_scores.json, the recall.
func writeRetrievalOutputs(prefix string, m *retrievalMatrix, recall map[string]float64) error {
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return fmt.Errorf("writing retrieval results: %w", err)
	}
	matrix := pydata.Float32Array("<f4", []int{len(m.TextIDs), len(m.ImageIDs)}, m.Scores)
	b, err := pydata.Pickle(pydata.Tuple{matrix, m.TextIDs, m.ImageIDs})
	if err != nil {
		return fmt.Errorf("writing retrieval results: %w", err)
	}
	if err := writeFileAtomic(prefix+"_results.bin", func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	return jsonfile.Write(prefix+"_scores.json", recall)
}
