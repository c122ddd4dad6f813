// Package pystr reproduces the Python string operations that the reference tools' results depend on: str.lower()
// (full case mapping, so "İ" becomes "i̇" and a word-final "Σ" becomes "ς"), str.isspace(), str.strip() and
// str.split() without arguments. Character properties come from Go's Unicode tables (see unicode.Version); they
// agree with CPython's unicodedata for every code point assigned in both versions.
package pystr

import (
	"sort"
	"strings"
	"unicode"
)

// IsSpace is Python's str.isspace() of one character: bidirectional class WS, B or S, or category Zs. That is
// Unicode's White_Space plus the information separators U+001C..U+001F.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Strip is Python's s.strip().
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// Split is Python's s.split(): the runs of non-space characters.
func Split(s string) []string { return strings.FieldsFunc(s, IsSpace) }

// LowerRune is Python's c.lower() of the one-character string c: the full lowercase mapping, which is the simple
// one except for U+0130 (İ → "i̇"). A lone "Σ" becomes "σ".
func LowerRune(r rune) string {
	if r == 0x130 {
		return "i\u0307"
	}
	return string(unicode.ToLower(r))
}

// Lower is Python's s.lower(): LowerRune of every character, except that a capital sigma in the Final_Sigma
// context (preceded by a cased letter and not followed by one, case-ignorable characters skipped) becomes "ς".
func Lower(s string) string {
	if isLowerASCII(s) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		if r == 0x3A3 && finalSigma(rs, i) {
			b.WriteRune(0x3C2)
			continue
		}
		if r < 0x80 {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		b.WriteString(LowerRune(r))
	}
	return b.String()
}

// isLowerASCII reports whether s is ASCII without capital letters (lower-casing leaves it unchanged).
func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// finalSigma is CPython's handle_capital_sigma: rs[i] is preceded by a cased character (case-ignorable ones
// skipped) and not followed by one.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

// isCased is Unicode's Cased property: Lowercase, Uppercase or titlecase letter.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Ll, unicode.Lu, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable property: categories Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter,
// MidNumLet or Single_Quote.
func isCaseIgnorable(r rune) bool {
	switch r {
	case 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55,
		0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// GeneralCategory returns the two-letter Unicode general category of r in Go's tables ("Cn" when unassigned),
// as Python's unicodedata.category spells it.
func GeneralCategory(r rune) string {
	for _, name := range categoryNames {
		if unicode.Is(unicode.Categories[name], r) {
			return name
		}
	}
	return "Cn"
}

// categoryNames are the two-letter categories of Go's tables, sorted.
var categoryNames = func() []string {
	var names []string
	for name := range unicode.Categories {
		if len(name) == 2 && name != "LC" { // LC (cased letter) is Lu, Ll and Lt together
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}()
