package uniter

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Head names accepted by ParameterShapes and LoadWeights.
const (
	HeadVQA  = "vqa"
	HeadITM  = "itm"
	HeadMLM  = "mlm"
	HeadMRFR = "mrfr"
	HeadMRC  = "mrc"
)

// AllHeads lists every head of the ORIG pretraining model plus the VQA head.
var AllHeads = []string{HeadVQA, HeadITM, HeadMLM, HeadMRFR, HeadMRC}

// ParameterShapes returns the ORIG checkpoint keys and shapes of the backbone plus the given heads. Tied weights
// (the MLM decoder and the MRFR projection) are not listed twice: they are the word embeddings and img_linear.
func ParameterShapes(cfg Config, heads ...string) (map[string][]int, error) {
	h, im := cfg.HiddenSize, cfg.IntermediateSize
	s := map[string][]int{}
	lin := func(key string, out, in int) { s[key+".weight"], s[key+".bias"] = []int{out, in}, []int{out} }
	ln := func(key string, n int) { s[key+".weight"], s[key+".bias"] = []int{n}, []int{n} }
	s["uniter.embeddings.word_embeddings.weight"] = []int{cfg.VocabSize, h}
	s["uniter.embeddings.position_embeddings.weight"] = []int{cfg.MaxPositionEmbeddings, h}
	s["uniter.embeddings.token_type_embeddings.weight"] = []int{cfg.TypeVocabSize, h}
	ln("uniter.embeddings.LayerNorm", h)
	lin("uniter.img_embeddings.img_linear", h, cfg.ImgDim)
	ln("uniter.img_embeddings.img_layer_norm", h)
	lin("uniter.img_embeddings.pos_linear", h, cfg.PosDim)
	ln("uniter.img_embeddings.pos_layer_norm", h)
	s[maskEmbeddingKey] = []int{2, cfg.ImgDim}
	ln("uniter.img_embeddings.LayerNorm", h)
	for l := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("uniter.encoder.layer.%d.", l)
		for _, qkv := range []string{"query", "key", "value"} {
			lin(p+"attention.self."+qkv, h, h)
		}
		lin(p+"attention.output.dense", h, h)
		ln(p+"attention.output.LayerNorm", h)
		lin(p+"intermediate.dense", im, h)
		lin(p+"output.dense", h, im)
		ln(p+"output.LayerNorm", h)
	}
	lin("uniter.pooler.dense", h, h)
	for _, head := range heads {
		switch head {
		case HeadVQA:
			lin("vqa_output.0", 2*h, h)
			ln("vqa_output.2", 2*h)
			lin("vqa_output.3", cfg.NumAnswers, 2*h)
		case HeadITM:
			lin("itm_output", 2, h)
		case HeadMLM:
			lin("cls.predictions.transform.dense", h, h)
			ln("cls.predictions.transform.LayerNorm", h)
			s["cls.predictions.bias"] = []int{cfg.VocabSize}
		case HeadMRFR:
			lin("feat_regress.net.0", h, h)
			ln("feat_regress.net.2", h)
			s["feat_regress.bias"] = []int{cfg.ImgDim}
		case HeadMRC:
			lin("region_classifier.net.0", h, h)
			ln("region_classifier.net.2", h)
			lin("region_classifier.net.3", cfg.ImgLabelDim, h)
		default:
			return nil, fmt.Errorf("unknown UNITER head %q (known: %s)", head, strings.Join(AllHeads, ", "))
		}
	}
	return s, nil
}

// CountParameters returns the number of scalar parameters of the given shapes.
func CountParameters(shapes map[string][]int) int {
	n := 0
	for _, dims := range shapes {
		size := 1
		for _, d := range dims {
			size *= d
		}
		n += size
	}
	return n
}

// tiedAliases maps checkpoint keys that ORIG stores twice (tied weights) to the variable they share.
var tiedAliases = map[string]string{
	"cls.predictions.decoder.weight": "uniter.embeddings.word_embeddings.weight",
	"feat_regress.weight":            "uniter.img_embeddings.img_linear.weight",
	"cls.predictions.decoder.bias":   "cls.predictions.bias",
}

// mmfPrefixes maps the state-dict prefixes of MMF's UNITER (mmf/models/uniter.py, its heads in
// mmf/models/transformers/heads/) to ORIG ones, most specific first.
var mmfPrefixes = []struct{ mmf, orig string }{
	{"uniter.uniter.text_embeddings.", "uniter.embeddings."},
	{"uniter.uniter.img_embeddings.final_layer_norm.", "uniter.img_embeddings.LayerNorm."},
	{"uniter.uniter.img_embeddings.", "uniter.img_embeddings."},
	{"uniter.uniter.encoder.", "uniter.encoder."},
	{"uniter.uniter.pooler.", "uniter.pooler."},
	{"uniter.heads.vqa2.pooler.", "uniter.pooler."},
	{"uniter.heads.itm.pooler.", "uniter.pooler."},
	{"uniter.heads.vqa2.classifier.1.dense.", "vqa_output.0."},
	{"uniter.heads.vqa2.classifier.1.LayerNorm.", "vqa_output.2."},
	{"uniter.heads.vqa2.classifier.2.", "vqa_output.3."},
	{"uniter.heads.mlm.cls.predictions.", "cls.predictions."},
	{"uniter.heads.itm.cls.seq_relationship.", "itm_output."},
	{"uniter.heads.mrfr.feat_regress.", "feat_regress.net."},
	{"uniter.heads.mrfr.linear_proj_weight", "feat_regress.weight"},
	{"uniter.heads.mrfr.linear_proj_bias", "feat_regress.bias"},
	{"uniter.heads.mrc.region_classifier.", "region_classifier.net."},
}

// ignoredKeys are buffers that carry no parameters.
var ignoredKeys = map[string]bool{"uniter.embeddings.position_ids": true}

// CanonicalKey maps a checkpoint key in ORIG, MMF, HF-BERT or DataParallel spelling to the ORIG key of the
// variable it holds ("" for buffers that hold no parameter). Second copies of tied weights map to the weight
// they share.
func CanonicalKey(key string) string {
	canon, _ := canonicalize(key)
	return canon
}

// canonicalize is CanonicalKey that also says whether key is the second copy of a tied weight.
func canonicalize(key string) (canon string, tiedCopy bool) {
	key = strings.TrimPrefix(key, "module.")
	for _, p := range mmfPrefixes {
		if strings.HasPrefix(key, p.mmf) {
			key = p.orig + strings.TrimPrefix(key, p.mmf)
			break
		}
	}
	if strings.HasPrefix(key, "bert.") {
		key = "uniter." + strings.TrimPrefix(key, "bert.")
	}
	if strings.HasSuffix(key, ".gamma") {
		key = strings.TrimSuffix(key, ".gamma") + ".weight"
	} else if strings.HasSuffix(key, ".beta") {
		key = strings.TrimSuffix(key, ".beta") + ".bias"
	}
	if ignoredKeys[key] {
		return "", false
	}
	if alias, ok := tiedAliases[key]; ok {
		return alias, true
	}
	return key, false
}

// LoadReport says what LoadWeights did.
type LoadReport struct {
	Loaded     []string // ORIG keys of the variables set.
	Missing    []string // Expected keys the checkpoint lacks (these variables keep their current/initial values).
	Unexpected []string // Checkpoint keys that match no parameter of the model.
	Tied       []string // Checkpoint keys that are second copies of a tied weight.
}

// String summarises the report in one line.
func (r *LoadReport) String() string {
	s := fmt.Sprintf("loaded %d tensors, %d tied copies, %d missing, %d unexpected", len(r.Loaded), len(r.Tied), len(r.Missing), len(r.Unexpected))
	if len(r.Missing) > 0 {
		s += "; missing: " + abbreviate(r.Missing)
	}
	if len(r.Unexpected) > 0 {
		s += "; unexpected: " + abbreviate(r.Unexpected)
	}
	return s
}

func abbreviate(keys []string) string {
	if len(keys) > 6 {
		return strings.Join(keys[:6], ", ") + fmt.Sprintf(", … (%d more)", len(keys)-6)
	}
	return strings.Join(keys, ", ")
}

// LoadWeights copies the tensors of a checkpoint (keys in ORIG, MMF or HF-BERT spelling, Linear weights [out,in])
// into the store variables of a model with the given heads. Every tensor must have the shape the configuration
// implies: a mismatch is an error naming the key, and nothing is loaded then. Tied copies must agree with the
// tensor they duplicate. The report lists missing and unexpected keys; callers decide whether those are fatal.
func LoadWeights(store *model.Store, cfg Config, weights map[string]*tensors.Tensor, heads ...string) (*LoadReport, error) {
	expected, err := ParameterShapes(cfg, heads...)
	if err != nil {
		return nil, err
	}
	all, _ := ParameterShapes(cfg, AllHeads...)
	report := &LoadReport{}
	chosen := map[string]*tensors.Tensor{}
	source := map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(weights)) {
		t := weights[key]
		canon, tiedCopy := canonicalize(key)
		if canon == "" {
			continue
		}
		dims, known := all[canon]
		if !known {
			report.Unexpected = append(report.Unexpected, key)
			continue
		}
		if _, want := expected[canon]; !want {
			report.Unexpected = append(report.Unexpected, key)
			continue
		}
		if !slices.Equal(t.Shape().Dimensions, dims) {
			return nil, fmt.Errorf("checkpoint tensor %q has shape %v, the model (hidden %d, layers %d, vocab %d) needs %v for %s",
				key, t.Shape().Dimensions, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.VocabSize, dims, canon)
		}
		if prev, dup := chosen[canon]; dup {
			if _, prevTied := canonicalize(source[canon]); tiedCopy || prevTied {
				if d := maxAbsDiff(prev, t); d > 1e-6 {
					return nil, fmt.Errorf("checkpoint tensors %q and %q are tied in UNITER but differ by %g", source[canon], key, d)
				}
				if tiedCopy {
					report.Tied = append(report.Tied, key)
					continue
				}
				report.Tied = append(report.Tied, source[canon]) // keep the primary spelling as the source
				chosen[canon], source[canon] = t, key
				continue
			}
			// Two spellings of the same variable (e.g. MMF's unused backbone pooler and a head pooler):
			// the head's copy, which MMF actually trained, wins.
			if !strings.HasPrefix(key, "uniter.heads.") {
				continue
			}
		}
		chosen[canon], source[canon] = t, key
	}
	for _, canon := range slices.Sorted(maps.Keys(expected)) {
		t, ok := chosen[canon]
		if !ok {
			report.Missing = append(report.Missing, canon)
			continue
		}
		path := VariablePath(canon)
		if v := store.GetVariable(path); v != nil {
			if err := v.SetValue(t); err != nil {
				return nil, fmt.Errorf("setting variable %s from checkpoint key %q: %w", path, source[canon], err)
			}
		} else if _, err := store.CreateVariable(path, t); err != nil {
			return nil, fmt.Errorf("creating variable %s from checkpoint key %q: %w", path, source[canon], err)
		}
		report.Loaded = append(report.Loaded, canon)
	}
	return report, nil
}

func maxAbsDiff(a, b *tensors.Tensor) float64 {
	var d float64
	tensors.ConstFlatData(a, func(x []float32) {
		tensors.ConstFlatData(b, func(y []float32) {
			for i := range x {
				if v := float64(x[i] - y[i]); v > d {
					d = v
				} else if -v > d {
					d = -v
				}
			}
		})
	})
	return d
}
