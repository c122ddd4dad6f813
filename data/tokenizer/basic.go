package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uniter-go/uniter/internal/pystr"
	"golang.org/x/text/unicode/norm"
)

// lowerEachChar is what Hugging Face's slow tokenizers do to the text outside special tokens before anything else
// when do_lower_case is set (PreTrainedTokenizer.tokenize: re.sub with "(.+?)", one character at a time): each
// character lower-cased on its own by Python's str.lower, so "İ" becomes "i̇" and "Σ" always "σ", never "ς".
func lowerEachChar(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteString(pystr.LowerRune(r))
	}
	return b.String()
}

// basicTokenize is BERT's BasicTokenizer.tokenize as Hugging Face's slow BertTokenizer runs it (transformers 4.x,
// with its NFC step): drop NUL, U+FFFD and control characters, map whitespace to spaces, surround CJK ideographs
// with spaces, NFC-normalise, split on whitespace (Python's str.split), then for the uncased pipeline lower-case
// each word with Python's str.lower and strip accents (NFD, drop non-spacing marks), and isolate every
// punctuation character as its own word.
func basicTokenize(text string, lower bool) []string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || isControl(r):
		case isWhitespace(r):
			b.WriteByte(' ')
		case isCJK(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if !isASCII(s) {
		s = norm.NFC.String(s)
	}
	var words []string
	for _, tok := range pystr.Split(s) {
		if lower {
			tok = stripAccents(pystr.Lower(tok))
		}
		words = splitOnPunctuation(words, tok)
	}
	return words
}

// splitOnPunctuation appends the pieces of word to words: each punctuation character alone, the runs between
// them as they are (then split on whitespace again, as the tokenizer's final whitespace_tokenize does).
func splitOnPunctuation(words []string, word string) []string {
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, pystr.Split(word[start:end])...)
		}
	}
	for i, r := range word {
		if isPunctuation(r) {
			flush(i)
			n := utf8.RuneLen(r)
			words = append(words, word[i:i+n])
			start = i + n
		}
	}
	flush(len(word))
	return words
}

// stripAccents decomposes s (NFD) and removes the non-spacing marks (category Mn).
func stripAccents(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
}

// isASCII reports whether s has only 7-bit characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isWhitespace is BERT's whitespace test: space, tab, newline, carriage return, or category Zs.
func isWhitespace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

// isControl is BERT's control test: Unicode category C (Cc, Cf, Co, Cs, unassigned Cn) except tab, newline and
// carriage return, which count as whitespace.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) ||
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isPunctuation is BERT's punctuation test: every non-alphanumeric printable ASCII character (so "$", "+", "^", "`"
// count although Unicode calls them symbols) and Unicode category P.
func isPunctuation(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}

// isCJK reports whether r is in the CJK Unified Ideographs blocks that BERT treats as single-character words
// (Hangul, Hiragana and Katakana are not included, as in BERT).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}
