package synthetic

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
)

// captionIDStride separates the caption ids of consecutive images: caption k of image i has id i·stride + k.
const captionIDStride = 100

// captionTemplate writes one caption of a scene from the objects sorted left to right.
type captionTemplate func(rng *rand.Rand, byX []Object) string

// captionTemplates are the caption styles; each image gets CaptionsPerImage of them in random order.
var captionTemplates = []captionTemplate{
	func(rng *rand.Rand, byX []Object) string {
		a, b := orderedPair(rng, byX)
		return fmt.Sprintf("a %s to the left of a %s.", describe(a), describe(b))
	},
	func(rng *rand.Rand, byX []Object) string {
		a, b := orderedPair(rng, byX)
		return fmt.Sprintf("a %s %s is to the right of a %s %s.", b.Color, b.Shape, a.Color, a.Shape)
	},
	func(rng *rand.Rand, byX []Object) string {
		o := byX[rng.IntN(len(byX))]
		return fmt.Sprintf("there are %s objects, one of them a %s.", numberWord(len(byX)), describe(o))
	},
	func(rng *rand.Rand, byX []Object) string {
		byY := slices.Clone(byX)
		slices.SortStableFunc(byY, func(p, q Object) int { return cmp.Compare(p.centerY(), q.centerY()) })
		a, b := orderedPair(rng, byY)
		return fmt.Sprintf("a %s %s above a %s %s.", a.Size, a.Shape, b.Color, b.Shape)
	},
	func(rng *rand.Rand, byX []Object) string {
		o := byX[rng.IntN(len(byX))]
		nc := countMatching(byX, func(p Object) bool { return p.Color == o.Color })
		ns := countMatching(byX, func(p Object) bool { return p.Shape == o.Shape })
		return fmt.Sprintf("%s %s and %s %s on the floor.", numberWord(nc), plural(o.Color+" object", nc),
			numberWord(ns), plural(o.Shape, ns))
	},
	func(rng *rand.Rand, byX []Object) string {
		i := rng.IntN(len(byX) - 1)
		return fmt.Sprintf("a %s %s next to a %s %s.", byX[i].Color, byX[i].Shape, byX[i+1].Size, byX[i+1].Shape)
	},
	func(rng *rand.Rand, byX []Object) string {
		a, b := orderedPair(rng, byX)
		n := len(byX) - 2
		if n == 0 {
			return fmt.Sprintf("a scene with a %s and a %s.", describe(a), describe(b))
		}
		return fmt.Sprintf("a scene with a %s, a %s and %s other %s.", describe(a), describe(b), numberWord(n),
			plural("object", n))
	},
}

// newCaptions writes CaptionsPerImage captions of a scene, each from a different template while there are
// templates left.
func newCaptions(cfg Config, rng *rand.Rand, s *Scene) []string {
	byX := slices.Clone(s.Objects)
	slices.SortStableFunc(byX, func(p, q Object) int { return cmp.Compare(p.centerX(), q.centerX()) })
	order := rng.Perm(len(captionTemplates))
	out := make([]string, cfg.CaptionsPerImage)
	for k := range out {
		out[k] = captionTemplates[order[k%len(order)]](rng, byX)
	}
	return out
}

// wordTokens splits a caption into lower-case words, dropping punctuation, as Karpathy's "tokens".
func wordTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// orderedPair picks two distinct objects, keeping their order in objs.
func orderedPair(rng *rand.Rand, objs []Object) (Object, Object) {
	i, j := rng.IntN(len(objs)), rng.IntN(len(objs)-1)
	if j >= i {
		j++
	}
	return objs[min(i, j)], objs[max(i, j)]
}

// describe is "<size> <color> <shape>".
func describe(o Object) string { return o.Size + " " + o.Color + " " + o.Shape }

// plural appends "s" to the last word of noun when n != 1.
func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// numberWords spells the counts a scene can have.
var numberWords = strings.Fields("zero one two three four five six seven eight nine ten eleven twelve thirteen " +
	"fourteen fifteen sixteen seventeen eighteen nineteen twenty")

// numberWord spells n in words up to twenty and in digits beyond.
func numberWord(n int) string {
	if n < len(numberWords) {
		return numberWords[n]
	}
	return fmt.Sprint(n)
}
