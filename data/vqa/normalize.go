package vqa

import (
	"strings"
	"unicode"

	"github.com/uniter-go/uniter/internal/pystr"
)

// punct is the punctuation list of the official vqaEval.py (GT-Vision-Lab/VQA, current version), in its order.
var punct = []string{";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"}

// manualMap maps number words to digits (vqaEval.py manualMap).
var manualMap = map[string]string{
	"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
	"six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}

// articles are dropped by processDigitArticle.
var articles = map[string]bool{"a": true, "an": true, "the": true}

// contractions is the full contractions table of vqaEval.py, including its never-matching capitalised keys and its
// one reversed entry ("somebody'd" → "somebodyd").
var contractions = map[string]string{
	"aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
	"couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't",
	"hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent": "haven't",
	"hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd", "howll": "how'll",
	"hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd",
	"itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's", "maam": "ma'am", "mightnt": "mightn't",
	"mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't",
	"mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
	"ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've",
	"she'dve": "she'd've", "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't",
	"shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd",
	"somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll",
	"somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've",
	"someonell": "someone'll", "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
	"something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd",
	"thered've": "there'd've", "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd",
	"theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've",
	"twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've",
	"werent": "weren't", "whatll": "what'll", "whatre": "what're", "whats": "what's", "whatve": "what've",
	"whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've", "whod": "who'd",
	"whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've",
	"whyll": "why'll", "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've",
	"wouldnt": "wouldn't", "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all",
	"yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've",
	"y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll",
	"youre": "you're", "youve": "you've",
}

// maxPeriodStrips reproduces a quirk of vqaEval.py: periodStrip.sub("", text, re.UNICODE) passes re.UNICODE (32)
// as the count argument, so at most 32 periods are removed.
const maxPeriodStrips = 32

// NormalizeAnswer normalises an answer string as the official evaluator does when a question's human answers are
// not all the same: '\n' and '\t' become spaces, the text is stripped, then processPunctuation and
// processDigitArticle are applied.
func NormalizeAnswer(s string) string {
	return processDigitArticle(processPunctuation(cleanWhitespace(s)))
}

// cleanWhitespace is the evaluator's answer.replace('\n',' ').replace('\t',' ').strip().
func cleanWhitespace(s string) string {
	return pystr.Strip(strings.NewReplacer("\n", " ", "\t", " ").Replace(s))
}

// processPunctuation is vqaEval.py's processPunctuation: each punctuation mark is deleted when it touches a space
// in the input or the input contains digit-comma-digit, otherwise replaced by a space; then periods not followed by
// a digit are deleted.
func processPunctuation(in string) string {
	out := in
	digitComma := hasDigitCommaDigit(in)
	for _, p := range punct {
		if digitComma || strings.Contains(in, p+" ") || strings.Contains(in, " "+p) {
			out = strings.ReplaceAll(out, p, "")
		} else {
			out = strings.ReplaceAll(out, p, " ")
		}
	}
	return stripPeriods(out)
}

// hasDigitCommaDigit reports whether s matches the regex (\d)(\,)(\d) (Python \d = Unicode decimal digit).
func hasDigitCommaDigit(s string) bool {
	rs := []rune(s)
	for i := 1; i+1 < len(rs); i++ {
		if rs[i] == ',' && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
			return true
		}
	}
	return false
}

// stripPeriods applies periodStrip = (?!<=\d)(\.)(?!\d) with count 32: deletes periods not followed by a digit.
// (The leading lookahead "(?!<=\d)" can never fail at a period, so only the trailing one matters.)
func stripPeriods(s string) string {
	rs := []rune(s)
	var b strings.Builder
	removed := 0
	for i, r := range rs {
		if r == '.' && removed < maxPeriodStrips && (i+1 == len(rs) || !unicode.IsDigit(rs[i+1])) {
			removed++
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// processDigitArticle is vqaEval.py's processDigitArticle: lower-case (Python's str.lower), split on whitespace,
// map number words to digits, drop articles, expand contractions, join with single spaces.
func processDigitArticle(in string) string {
	words := pystr.Split(pystr.Lower(in))
	out := words[:0]
	for _, w := range words {
		if d, ok := manualMap[w]; ok {
			w = d
		}
		if !articles[w] {
			out = append(out, w)
		}
	}
	for i, w := range out {
		if c, ok := contractions[w]; ok {
			out[i] = c
		}
	}
	return strings.Join(out, " ")
}
