package pystr

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// pythonTables asks Debian's Python for every code point's general category (as runs) and, for the code points
// where any is set, whether it is a space, cased, case-ignorable, and what lower() gives. It returns the
// unicodedata version, the category of each code point and the properties "space cased ignorable lower".
func pythonTables(t *testing.T) (string, []string, map[rune][4]string) {
	t.Helper()
	const script = `
import sys, unicodedata
out = [unicodedata.unidata_version]
prev, start = None, 0
for cp in range(0x110001):
    cat = unicodedata.category(chr(cp)) if cp < 0x110000 else None
    if cat != prev:
        if prev is not None:
            out.append("R %x %x %s" % (start, cp, prev))
        prev, start = cat, cp
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    # cased: c then a final capital sigma; ignorable: a cased letter, c, then the sigma (see finalSigma).
    cased = (c + "\u03a3").lower()[-1] == "\u03c2" if not c.isspace() else False
    ign = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"
    low = c.lower()
    if c.isspace() or cased or ign or low != c:
        out.append("P %x %d %d %d %s" % (cp, c.isspace(), cased, ign, "".join("%x," % ord(x) for x in low)))
sys.stdout.write("\n".join(out))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script).Output()
	if err != nil {
		t.Skipf("/usr/bin/python3 is not available: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Scan()
	version := sc.Text()
	cats := make([]string, 0x110000)
	props := map[rune][4]string{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		a, _ := strconv.ParseInt(f[1], 16, 32)
		if f[0] == "R" {
			z, _ := strconv.ParseInt(f[2], 16, 32)
			for cp := a; cp < z; cp++ {
				cats[cp] = f[3]
			}
			continue
		}
		props[rune(a)] = [4]string{f[2], f[3], f[4], f[5]}
	}
	return version, cats, props
}

// TestAgainstPython compares every code point with CPython. Code points whose general category differs between
// Python's Unicode version and Go's (newly assigned or recategorised since) are counted, not compared.
func TestAgainstPython(t *testing.T) {
	version, cats, props := pythonTables(t)
	versionDiffs, mismatches := 0, 0
	for cp := rune(0); cp < 0x110000; cp++ {
		if cp >= 0xD800 && cp <= 0xDFFF {
			continue
		}
		py, ok := props[cp]
		if !ok {
			py = [4]string{"0", "0", "0", fmt.Sprintf("%x,", cp)}
		}
		low := ""
		for _, r := range LowerRune(cp) {
			low += fmt.Sprintf("%x,", r)
		}
		// Case-ignorable in Python = ignorable or cased (a cased c makes the sigma final too), see the script.
		goIgn := isCaseIgnorable(cp) || (isCased(cp) && !IsSpace(cp))
		goCased := isCased(cp) && !isCaseIgnorable(cp) && !IsSpace(cp)
		got := [4]string{b(IsSpace(cp)), b(goCased), b(goIgn), low}
		if got == py {
			continue
		}
		if GeneralCategory(cp) != cats[cp] {
			versionDiffs++
			continue
		}
		if mismatches++; mismatches <= 20 {
			t.Errorf("U+%04X: Go [space cased ignorable lower] = %v, Python %s = %v", cp, got, version, py)
		}
	}
	t.Logf("Python unicodedata %s, Go unicode %s: %d code points differ, each one whose category changed between "+
		"the versions", version, unicode.Version, versionDiffs)
}

func b(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func TestLower(t *testing.T) {
	for in, want := range map[string]string{
		"ΟΔΟΣ":       "οδος",
		"ΟΔΟΣ ΟΔΟΣ.": "οδος οδος.",
		"ΣΑ":         "σα",
		"Σ":          "σ",
		"AΣ'Β":       "aσ'β", // the next cased letter after the apostrophe keeps σ
		"AΣ'":        "aς'",
		"İstanbul":   "i̇stanbul",
		"ǅ":          "ǆ",
		"ABC def":    "abc def",
	} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Split(" a\u2028b\x1c c\u00a0"); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("Split = %q", got)
	}
}
