package tokenizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const bertBaseUncasedSHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"

func TestEmbeddedVocab(t *testing.T) {
	sum := sha256.Sum256(bertBaseUncasedVocab)
	if got := hex.EncodeToString(sum[:]); got != bertBaseUncasedSHA256 {
		t.Errorf("sha256 of the embedded vocabulary = %s, want %s", got, bertBaseUncasedSHA256)
	}
	if n := bytes.Count(bertBaseUncasedVocab, []byte("\n")); n != 30522 {
		t.Errorf("embedded vocabulary has %d lines, want 30522", n)
	}
	tk := BertBaseUncased()
	if tk.VocabSize() != 30522 {
		t.Errorf("VocabSize = %d, want 30522", tk.VocabSize())
	}
	got := []int32{tk.PAD(), tk.UNK(), tk.CLS(), tk.SEP(), tk.MASK()}
	if want := []int32{0, 100, 101, 102, 103}; !slices.Equal(got, want) {
		t.Errorf("special ids [PAD,UNK,CLS,SEP,MASK] = %v, want %v", got, want)
	}
	if lo, hi := tk.VRange(); lo != 999 || hi != 30522 {
		t.Errorf("VRange = [%d,%d), want [999,30522)", lo, hi)
	}
	if id, ok := tk.ID("the"); !ok || id != 1996 {
		t.Errorf(`ID("the") = %d,%v, want 1996,true`, id, ok)
	}
	if tok, err := tk.Token(30521); err != nil || tok != "##～" {
		t.Errorf("Token(30521) = %q,%v, want ##～", tok, err)
	}
	for _, id := range []int32{-1, 30522} {
		if _, err := tk.Token(id); err == nil {
			t.Errorf("Token(%d): want an error for an id outside the vocabulary", id)
		}
	}
	if !tk.LowerCase() {
		t.Error("bert-base-uncased must lower-case")
	}
}

// HuggingFace parity: ids from daulet/tokenizers@v1.24.0 tokenizer_test.go (HF tokenizers on bert-base-uncased.json
// and all-minilm-l6-v2.json, same vocabulary), MMF's tests/models/test_uniter.py, the HF BertModel docs and the
// sugarme/tokenizer check recorded in docs/data-sources.md.
func TestHFParity(t *testing.T) {
	tk := BertBaseUncased()
	for _, tc := range []struct {
		text string
		want []int32
	}{
		{"brown fox jumps over the lazy dog", []int32{2829, 4419, 14523, 2058, 1996, 13971, 3899}},
		{"This will be a test of tokens?", []int32{2023, 2097, 2022, 1037, 3231, 1997, 19204, 2015, 1029}},
		{"i like strawberries", []int32{1045, 2066, 13137, 20968}},
		{"this short sentence", []int32{2023, 2460, 6251}},
		{"Hello, my dog is cute", []int32{7592, 1010, 2026, 3899, 2003, 10140}},
		{"\x91D", []int32{1040}}, // invalid UTF-8 byte dropped, "D" lower-cased
		{"", nil},
	} {
		if got := tk.Encode(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if got, want := tk.Tokenize("This will be a test of tokens?"),
		[]string{"this", "will", "be", "a", "test", "of", "token", "##s", "?"}; !slices.Equal(got, want) {
		t.Errorf("Tokenize = %q, want %q", got, want)
	}
}

func TestEncodePadded(t *testing.T) {
	tk := BertBaseUncased()
	for _, tc := range []struct {
		text   string
		maxLen int
		ids    []int32
		mask   []float32
	}{
		{"brown fox jumps over the lazy dog", 9,
			[]int32{101, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 102}, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"This will be a test of tokens?", 14,
			[]int32{101, 2023, 2097, 2022, 1037, 3231, 1997, 19204, 2015, 1029, 102, 0, 0, 0},
			[]float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}},
		// Truncation keeps the first maxLen-2 pieces (HF right truncation with special tokens, max_length 5).
		{"brown fox jumps over the lazy dog", 5, []int32{101, 2829, 4419, 14523, 102}, []float32{1, 1, 1, 1, 1}},
		{"", 6, []int32{101, 102, 0, 0, 0, 0}, []float32{1, 1, 0, 0, 0, 0}},
		{"brown fox", 2, []int32{101, 102}, []float32{1, 1}},
	} {
		ids, mask := tk.EncodePadded(tc.text, tc.maxLen)
		if !slices.Equal(ids, tc.ids) || !slices.Equal(mask, tc.mask) {
			t.Errorf("EncodePadded(%q, %d) = %v %v, want %v %v", tc.text, tc.maxLen, ids, mask, tc.ids, tc.mask)
		}
	}
	if ids, mask := tk.EncodePadded("dog", 1); ids != nil || mask != nil {
		t.Errorf("EncodePadded(maxLen 1) = %v %v, want nil", ids, mask)
	}
}

func TestFillPaddedOverwrites(t *testing.T) {
	ids := []int32{7, 7, 7, 7, 7}
	mask := []float32{9, 9, 9, 9, 9}
	if n := FillPadded(ids, mask, []int32{5}, 1, 2); n != 3 {
		t.Errorf("FillPadded returned %d real positions, want 3", n)
	}
	if want := []int32{1, 5, 2, 0, 0}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	if want := []float32{1, 1, 1, 0, 0}; !slices.Equal(mask, want) {
		t.Errorf("mask = %v, want %v", mask, want)
	}
}

func TestBasicTokenizer(t *testing.T) {
	tk := BertBaseUncased()
	for _, tc := range []struct {
		text string
		want []string
	}{
		// Accents stripped and lower-cased.
		{"Héllo CAFÉ", []string{"hello", "cafe"}},
		// Each CJK ideograph is a word.
		{"中国的", []string{"中", "国", "的"}},
		// Punctuation (ASCII symbols included) isolated; control characters dropped; tabs/newlines split.
		{"hello,world!$x\u200b\tdog\n", []string{"hello", ",", "world", "!", "$", "x", "dog"}},
		// Special tokens written in the text are kept whole.
		{"a [MASK] dog[SEP]", []string{"a", "[MASK]", "dog", "[SEP]"}},
		// Unknown characters and over-long words become [UNK].
		{"🧿 dog", []string{"[UNK]", "dog"}},
		{strings.Repeat("a", 101) + " dog", []string{"[UNK]", "dog"}},
	} {
		if got := tk.Tokenize(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	// 100 characters is still WordPiece-split, not [UNK].
	if got := tk.Tokenize(strings.Repeat("a", 100)); slices.Contains(got, "[UNK]") || len(got) < 2 {
		t.Errorf("a 100-char word must be split into pieces, got %q", got)
	}
}

func writeVocab(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vocab.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadWordPiece(t *testing.T) {
	path := writeVocab(t, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n!\nun\n##aff\n##able\nHello\nhello\n##o\nhell\n")
	uncased, err := Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	cased, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tk   *Tokenizer
		text string
		want []string
	}{
		{uncased, "unaffable", []string{"un", "##aff", "##able"}},
		{uncased, "Hello", []string{"hello"}},
		{cased, "Hello", []string{"Hello"}},
		{cased, "Héllo", []string{"[UNK]"}}, // cased keeps the accent: no piece matches
		{uncased, "hello!unaff", []string{"hello", "!", "un", "##aff"}},
		{uncased, "unaffx", []string{"[UNK]"}}, // a failing suffix turns the whole word into [UNK]
	} {
		if got := tc.tk.Tokenize(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("lower=%v Tokenize(%q) = %q, want %q", tc.tk.LowerCase(), tc.text, got, tc.want)
		}
	}
	if lo, hi := cased.VRange(); lo != 5 || hi != 13 {
		t.Errorf("VRange = [%d,%d), want [5,13)", lo, hi)
	}
	if crlf, err := Load(writeVocab(t, "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\n!\r\n"), true); err != nil {
		t.Errorf("CRLF vocabulary: %v", err)
	} else if crlf.MASK() != 4 {
		t.Errorf("CRLF vocabulary: [MASK] = %d, want 4", crlf.MASK())
	}
}

func TestLoadBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, content, wantErr string
	}{
		{"empty", "", "empty"},
		{"blank line", "[PAD]\n\n[UNK]\n", "empty token at line 2"},
		{"duplicate", "[PAD]\n[UNK]\n[PAD]\n", `"[PAD]" at line 3 duplicates line 1`},
		{"no mask", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n!\n", `"[MASK]"`},
		{"no bang", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", `"!"`},
	} {
		path := writeVocab(t, tc.content)
		_, err := Load(path, true)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load error = %v, want one naming %s and containing %s", tc.name, err, path, tc.wantErr)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope.txt")
	if _, err := Load(missing, true); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error = %v, want one naming %s", err, missing)
	}
}

func BenchmarkEncode(b *testing.B) {
	tk := BertBaseUncased()
	text := "A man with a red helmet on a small moped on a dirt road, next to strawberries and 中国."
	for b.Loop() {
		tk.Encode(text)
	}
}
