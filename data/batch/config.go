package batch

import (
	"fmt"

	"github.com/uniter-go/uniter/data/tokenizer"
)

// TokenIDs are the vocabulary ids the text side of a batch needs (ORIG txt_db meta.json: CLS, SEP, MASK, v_range).
type TokenIDs struct {
	CLS, SEP, MASK int32
	// RandLo, RandHi is ORIG's v_range: MLM's random replacements are uniform in [RandLo, RandHi).
	RandLo, RandHi int32
}

// TokenIDsOf returns the ids of a tokenizer's vocabulary.
func TokenIDsOf(t *tokenizer.Tokenizer) TokenIDs {
	lo, hi := t.VRange()
	return TokenIDs{CLS: t.CLS(), SEP: t.SEP(), MASK: t.MASK(), RandLo: lo, RandHi: hi}
}

// Config fixes the padded shapes of every batch and the sampling probabilities.
type Config struct {
	BatchSize  int // B
	TextLen    int // Lt, incl. [CLS] and [SEP]: longer texts keep their first Lt-2 pieces
	NumRegions int // Nr: images with more regions keep their first Nr
	FeatDim    int // D, the region feature size (2048 for BUTD features)
	LabelDim   int // detector classes of the MRC / MRC-kl targets (1601); needed by those tasks only
	NumAnswers int // A, the VQA answer space; needed by VQA only
	// Bucket rounds K (the number of gathered MLM/MRM positions) up to a multiple of itself, at least one bucket,
	// so that graphs compiled for a K are reused.
	Bucket     int
	MLMProb    float64 // probability that a text piece is selected for MLM (0.15)
	MRMProb    float64 // probability that a real region is masked for MRM (0.15)
	ITMNegProb float64 // probability that an ITM pair is a negative (ORIG 0.5; MMF masked_coco 0.1)
	Tokens     TokenIDs
}

// DefaultConfig returns ORIG's sampling parameters and UNITER-base shapes (B 32, Lt 60, Nr 100, D 2048, 1601
// detector classes, 3129 answers, K bucket 8) with the bert-base-uncased token ids.
func DefaultConfig() Config {
	return Config{
		BatchSize: 32, TextLen: 60, NumRegions: 100, FeatDim: 2048, LabelDim: 1601, NumAnswers: 3129, Bucket: 8,
		MLMProb: 0.15, MRMProb: 0.15, ITMNegProb: 0.5,
		Tokens: TokenIDsOf(tokenizer.BertBaseUncased()),
	}
}

// Validate checks the sizes and probabilities.
func (c Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.NumRegions < 1 || c.FeatDim < 1 || c.Bucket < 1:
		return fmt.Errorf("batch config: BatchSize %d, NumRegions %d, FeatDim %d and Bucket %d must be ≥ 1",
			c.BatchSize, c.NumRegions, c.FeatDim, c.Bucket)
	case c.TextLen < 3:
		return fmt.Errorf("batch config: TextLen %d leaves no room for text between [CLS] and [SEP]", c.TextLen)
	case c.LabelDim < 0 || c.NumAnswers < 0:
		return fmt.Errorf("batch config: LabelDim %d and NumAnswers %d must be ≥ 0", c.LabelDim, c.NumAnswers)
	case !isProb(c.MLMProb) || !isProb(c.MRMProb) || !isProb(c.ITMNegProb):
		return fmt.Errorf("batch config: MLMProb %g, MRMProb %g and ITMNegProb %g must be in [0,1]",
			c.MLMProb, c.MRMProb, c.ITMNegProb)
	case c.Tokens.RandLo < 0 || c.Tokens.RandLo >= c.Tokens.RandHi:
		return fmt.Errorf("batch config: random-token range [%d,%d) is empty", c.Tokens.RandLo, c.Tokens.RandHi)
	}
	return nil
}

// isProb reports whether p is a probability.
func isProb(p float64) bool { return p >= 0 && p <= 1 }
