package tokenizer

import (
	"testing"
	"unicode/utf8"
)

// FuzzEncode checks, on any text, that neither pipeline panics, that every id is in the vocabulary, that Tokenize
// agrees with Encode, and that a text made only of whitespace and control characters gives no ids.
// Seeds: testdata/fuzz/FuzzEncode and the ones below.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"Hello ΟΔΟΣ world!", "İstanbul [MASK] e\u0301cole", "日本語\u200b\u2028x", "\xff\xfe",
		"a[MASK]b[SEP", "\x00\t\n"} {
		f.Add(s)
	}
	cased := BertBaseUncased().withLower(false)
	f.Fuzz(func(t *testing.T, text string) {
		for _, tk := range []*Tokenizer{BertBaseUncased(), cased} {
			ids := tk.Encode(text)
			for _, id := range ids {
				if id < 0 || int(id) >= tk.VocabSize() {
					t.Fatalf("%q: id %d outside the vocabulary", text, id)
				}
			}
			if toks := tk.Tokenize(text); len(toks) != len(ids) {
				t.Fatalf("%q: %d tokens for %d ids", text, len(toks), len(ids))
			}
			blank := true
			for _, r := range text {
				blank = blank && (isWhitespace(r) || isControl(r) || r == 0 || r == utf8.RuneError)
			}
			if blank && len(ids) > 0 {
				t.Fatalf("%q: whitespace and control characters gave ids %v", text, ids)
			}
		}
	})
}
