// Package tokenizer is a BERT WordPiece tokenizer: the BERT basic tokenizer (text cleaning, whitespace and
// punctuation splitting, CJK characters as words, NFC normalisation, optional lower-casing with accent stripping)
// followed by greedy longest-match-first WordPiece. It gives the ids of Hugging Face's (slow, Python)
// BertTokenizer of transformers 4.x, for the cased and the uncased pipelines, and ships the bert-base-uncased
// vocabulary (30,522 tokens) embedded in the binary. Tokenizers are also found by name in the Hugging Face cache
// (see FromPretrained).
package tokenizer

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Special token strings of BERT vocabularies.
const (
	PadToken  = "[PAD]"
	UnkToken  = "[UNK]"
	ClsToken  = "[CLS]"
	SepToken  = "[SEP]"
	MaskToken = "[MASK]"
)

// maxCharsPerWord is WordPiece's max_input_chars_per_word: longer words become [UNK].
const maxCharsPerWord = 100

// continuationPrefix marks a WordPiece that continues a word.
const continuationPrefix = "##"

//go:embed vocab/bert-base-uncased.txt
var bertBaseUncasedVocab []byte

// Tokenizer maps text to BERT WordPiece ids. It is safe for concurrent use.
type Tokenizer struct {
	vocab  map[string]int32
	tokens []string
	lower  bool

	pad, unk, cls, sep, mask int32
	vocabLo                  int32     // id of "!": start of ORIG's random-token range.
	specials                 []special // special tokens matched verbatim in raw text.
}

// special is a special token recognised in raw text before normalisation (HF added tokens).
type special struct {
	text string
	id   int32
}

var (
	bertBaseUncasedOnce sync.Once
	bertBaseUncased     *Tokenizer
)

// BertBaseUncased returns the bert-base-uncased tokenizer (lower-casing, embedded vocabulary).
func BertBaseUncased() *Tokenizer {
	bertBaseUncasedOnce.Do(func() {
		t, err := parse("embedded bert-base-uncased.txt", bertBaseUncasedVocab, true)
		if err != nil {
			// The embedded vocabulary is checked by the package tests; this cannot happen in a built binary.
			panic(err)
		}
		bertBaseUncased = t
	})
	return bertBaseUncased
}

// Load reads a BERT vocab.txt (one token per line, id = line index) and returns a tokenizer. lowerCase selects the
// uncased pipeline (lower-case and strip accents), as for the *-uncased models; use false for *-cased models.
func Load(vocabPath string, lowerCase bool) (*Tokenizer, error) {
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("reading vocabulary: %w", err)
	}
	return parse(vocabPath, data, lowerCase)
}

// parse builds a tokenizer from vocab.txt contents; name is used in error messages.
func parse(name string, data []byte, lower bool) (*Tokenizer, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return nil, fmt.Errorf("vocabulary %s is empty", name)
	}
	lines := strings.Split(string(data), "\n")
	t := &Tokenizer{vocab: make(map[string]int32, len(lines)), tokens: make([]string, len(lines)), lower: lower}
	for i, tok := range lines {
		tok = strings.TrimSuffix(tok, "\r")
		if tok == "" {
			return nil, fmt.Errorf("vocabulary %s: empty token at line %d", name, i+1)
		}
		if j, dup := t.vocab[tok]; dup {
			return nil, fmt.Errorf("vocabulary %s: token %q at line %d duplicates line %d", name, tok, i+1, j+1)
		}
		t.vocab[tok] = int32(i)
		t.tokens[i] = tok
	}
	for _, s := range []struct {
		tok string
		dst *int32
	}{{PadToken, &t.pad}, {UnkToken, &t.unk}, {ClsToken, &t.cls}, {SepToken, &t.sep}, {MaskToken, &t.mask}, {"!", &t.vocabLo}} {
		id, ok := t.vocab[s.tok]
		if !ok {
			return nil, fmt.Errorf("vocabulary %s lacks the required token %q", name, s.tok)
		}
		*s.dst = id
	}
	t.specials = []special{{PadToken, t.pad}, {UnkToken, t.unk}, {ClsToken, t.cls}, {SepToken, t.sep}, {MaskToken, t.mask}}
	return t, nil
}

// Tokenize splits text into WordPiece tokens (no [CLS]/[SEP]). Words without a WordPiece split become [UNK].
func (t *Tokenizer) Tokenize(text string) []string {
	ids := t.Encode(text)
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = t.tokens[id]
	}
	return toks
}

// Encode returns the WordPiece ids of text, without [CLS]/[SEP]. Special tokens written verbatim in the text
// (e.g. "[MASK]") map to their ids, as in Hugging Face's tokenizers; the uncased pipeline first lower-cases the
// rest one character at a time, as Hugging Face's BertTokenizer does (so a word-final "Σ" becomes "σ").
func (t *Tokenizer) Encode(text string) []int32 {
	var ids []int32
	var buf []byte
	for text != "" {
		pos, sp := t.nextSpecial(text)
		segment := text[:pos]
		if t.lower {
			segment = lowerEachChar(segment)
		}
		for _, word := range basicTokenize(segment, t.lower) {
			ids, buf = t.wordPiece(ids, buf, word)
		}
		if sp == nil {
			break
		}
		ids = append(ids, sp.id)
		text = text[pos+len(sp.text):]
	}
	return ids
}

// nextSpecial finds the earliest special token in text; it returns (len(text), nil) if there is none.
func (t *Tokenizer) nextSpecial(text string) (int, *special) {
	pos, found := len(text), (*special)(nil)
	if strings.IndexByte(text, '[') < 0 {
		return pos, nil
	}
	for i := range t.specials {
		if p := strings.Index(text[:pos], t.specials[i].text); p >= 0 {
			pos, found = p, &t.specials[i]
		}
	}
	return pos, found
}

// wordPiece appends the greedy longest-match-first WordPiece ids of one word to ids; buf is scratch space.
func (t *Tokenizer) wordPiece(ids []int32, buf []byte, word string) ([]int32, []byte) {
	starts := make([]int, 0, len(word)+1) // byte offset of every rune, plus len(word)
	for i := range word {
		starts = append(starts, i)
	}
	if len(starts) > maxCharsPerWord {
		return append(ids, t.unk), buf
	}
	starts = append(starts, len(word))
	n := len(ids)
	for start := 0; start < len(starts)-1; {
		end := len(starts) - 1
		for ; end > start; end-- {
			buf = buf[:0]
			if start > 0 {
				buf = append(buf, continuationPrefix...)
			}
			buf = append(buf, word[starts[start]:starts[end]]...)
			if id, ok := t.vocab[string(buf)]; ok {
				ids = append(ids, id)
				break
			}
		}
		if end == start {
			return append(ids[:n], t.unk), buf
		}
		start = end
	}
	return ids, buf
}

// FillPadded writes [CLS] pieces [SEP] followed by 0 padding into ids, truncating pieces to len(ids)-2, and the
// matching attention mask (1 on [CLS], pieces and [SEP]) into mask; ids and mask must have the same length ≥ 2.
// It returns the number of real positions.
func FillPadded(ids []int32, mask []float32, pieces []int32, cls, sep int32) int {
	n := min(len(pieces), len(ids)-2)
	ids[0] = cls
	copy(ids[1:], pieces[:n])
	ids[n+1] = sep
	clear(ids[n+2:])
	for i := range mask {
		mask[i] = 0
		if i < n+2 {
			mask[i] = 1
		}
	}
	return n + 2
}

// EncodePadded returns [CLS] pieces [SEP] padded with [PAD]=0 to maxLen (pieces truncated to maxLen-2) and the
// attention mask (1 = real token, incl. [CLS]/[SEP]). It returns nil slices when maxLen < 2.
func (t *Tokenizer) EncodePadded(text string, maxLen int) (ids []int32, mask []float32) {
	if maxLen < 2 {
		return nil, nil
	}
	ids, mask = make([]int32, maxLen), make([]float32, maxLen)
	FillPadded(ids, mask, t.Encode(text), t.cls, t.sep)
	return ids, mask
}

// ID returns the id of a vocabulary token.
func (t *Tokenizer) ID(token string) (int32, bool) {
	id, ok := t.vocab[token]
	return id, ok
}

// Token returns the vocabulary token of id, or an error if id is outside [0, VocabSize()).
func (t *Tokenizer) Token(id int32) (string, error) {
	if id < 0 || int(id) >= len(t.tokens) {
		return "", fmt.Errorf("token id %d outside the vocabulary [0,%d)", id, len(t.tokens))
	}
	return t.tokens[id], nil
}

// VocabSize returns the number of tokens in the vocabulary.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// LowerCase reports whether the tokenizer lower-cases and strips accents.
func (t *Tokenizer) LowerCase() bool { return t.lower }

// CLS returns the id of [CLS].
func (t *Tokenizer) CLS() int32 { return t.cls }

// SEP returns the id of [SEP].
func (t *Tokenizer) SEP() int32 { return t.sep }

// MASK returns the id of [MASK].
func (t *Tokenizer) MASK() int32 { return t.mask }

// PAD returns the id of [PAD].
func (t *Tokenizer) PAD() int32 { return t.pad }

// UNK returns the id of [UNK].
func (t *Tokenizer) UNK() int32 { return t.unk }

// VRange returns ORIG's random-token range [lo, hi) = [id("!"), VocabSize()) used by MLM's 10 % random
// replacement; it skips [PAD], [unusedN], [UNK], [CLS], [SEP] and [MASK].
func (t *Tokenizer) VRange() (lo, hi int32) { return t.vocabLo, int32(len(t.tokens)) }
