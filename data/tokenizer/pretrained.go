package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FromPretrained returns the tokenizer that MMF's from_pretrained / tokenizer_config.type names: a Hugging Face
// model name such as "bert-base-cased" or "bert-base-uncased", or a path to a directory holding vocab.txt (or
// tokenizer.json), or to such a file.
//
// A name is looked up in the Hugging Face hub cache as huggingface_hub lays it out: the directory is
// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub; the files are
// models--<org>--<name>/snapshots/<revision>/vocab.txt or tokenizer.json, the revision being the one
// refs/main names, else the only snapshot. "bert-base-cased" and the other original BERT names are also looked up
// under their current "google-bert/" id. When "bert-base-uncased" is not in the cache the embedded copy is used.
// A name that cannot be resolved is an error saying in one line where it looked and which file to place where.
//
// lower selects the uncased pipeline when given (MMF's tokenizer_config.params.do_lower_case); when nil it comes
// from the snapshot's tokenizer_config.json (do_lower_case), else tokenizer.json's normalizer (lowercase), else the
// name ("uncased" lower-cases, "cased" does not), else Hugging Face's default for BertTokenizer: true.
func FromPretrained(name string, lower *bool) (*Tokenizer, error) {
	if name == "" {
		return nil, errors.New("tokenizer: no name or path given")
	}
	var dir, file string
	if st, err := os.Stat(name); err == nil {
		if st.IsDir() {
			dir = name
		} else {
			dir, file = filepath.Dir(name), name
		}
	} else {
		cache := hubCache()
		snap, tried, err := findSnapshot(cache, name)
		if err != nil {
			return nil, err
		}
		if snap == "" {
			if name == "bert-base-uncased" {
				t := BertBaseUncased()
				if lower != nil && !*lower {
					return t.withLower(false), nil
				}
				return t, nil
			}
			return nil, fmt.Errorf("tokenizer %q: not a path, and not in the Hugging Face cache %s (looked for %s/"+
				"snapshots/<revision>/vocab.txt or tokenizer.json); place the model's vocab.txt at %s/snapshots/main/vocab.txt "+
				"(or set HF_HUB_CACHE / HF_HOME), or give the path of a vocab.txt", name, cache,
				strings.Join(tried, ", "), filepath.Join(cache, tried[0]))
		}
		dir = snap
	}
	if file == "" {
		for _, f := range []string{"vocab.txt", "tokenizer.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				file = filepath.Join(dir, f)
				break
			}
		}
		if file == "" {
			return nil, fmt.Errorf("tokenizer %q: %s holds neither vocab.txt nor tokenizer.json", name, dir)
		}
	}
	lowerCase := defaultLower(name, dir, file, lower)
	if strings.HasSuffix(file, ".json") {
		return loadTokenizerJSON(file, lowerCase)
	}
	return Load(file, lowerCase)
}

// hubCache is the Hugging Face hub cache directory: $HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub.
func hubCache() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "~"
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// findSnapshot returns the snapshot directory of a model name in the cache ("" when absent) and the model
// directories it tried.
func findSnapshot(cache, name string) (string, []string, error) {
	ids := []string{name}
	if !strings.Contains(name, "/") && strings.HasPrefix(name, "bert-") {
		ids = append(ids, "google-bert/"+name)
	}
	var tried []string
	for _, id := range ids {
		model := "models--" + strings.ReplaceAll(id, "/", "--")
		tried = append(tried, model)
		snaps := filepath.Join(cache, model, "snapshots")
		if ref, err := os.ReadFile(filepath.Join(cache, model, "refs", "main")); err == nil {
			d := filepath.Join(snaps, strings.TrimSpace(string(ref)))
			if _, err := os.Stat(d); err == nil {
				return d, tried, nil
			}
		}
		entries, err := os.ReadDir(snaps)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", tried, fmt.Errorf("tokenizer %q: %w", name, err)
		}
		var revs []string
		for _, e := range entries {
			if e.IsDir() {
				revs = append(revs, e.Name())
			}
		}
		switch len(revs) {
		case 0:
			continue
		case 1:
			return filepath.Join(snaps, revs[0]), tried, nil
		}
		sort.Strings(revs)
		return "", tried, fmt.Errorf("tokenizer %q: %s has several snapshots (%s) and no refs/main naming one",
			name, snaps, strings.Join(revs, ", "))
	}
	return "", tried, nil
}

// defaultLower decides the pipeline when the caller does not (see FromPretrained).
func defaultLower(name, dir, file string, lower *bool) bool {
	if lower != nil {
		return *lower
	}
	var cfg struct {
		DoLowerCase *bool `json:"do_lower_case"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil &&
		json.Unmarshal(b, &cfg) == nil && cfg.DoLowerCase != nil {
		return *cfg.DoLowerCase
	}
	if strings.HasSuffix(file, ".json") {
		var tj struct {
			Normalizer struct {
				Lowercase *bool `json:"lowercase"`
			} `json:"normalizer"`
		}
		if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &tj) == nil && tj.Normalizer.Lowercase != nil {
			return *tj.Normalizer.Lowercase
		}
	}
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.Contains(base, "uncased"):
		return true
	case strings.Contains(base, "cased"):
		return false
	}
	return true
}

// loadTokenizerJSON reads the WordPiece vocabulary of a Hugging Face tokenizer.json (model.vocab, token → id).
func loadTokenizerJSON(path string, lower bool) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer %s: %w", path, err)
	}
	var tj struct {
		Model struct {
			Type  string           `json:"type"`
			Vocab map[string]int32 `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("reading tokenizer %s: %w", path, err)
	}
	if tj.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("reading tokenizer %s: model type %q, want WordPiece", path, tj.Model.Type)
	}
	tokens := make([]string, len(tj.Model.Vocab))
	for tok, id := range tj.Model.Vocab {
		if id < 0 || int(id) >= len(tokens) || tokens[id] != "" {
			return nil, fmt.Errorf("reading tokenizer %s: token %q has id %d, not a distinct id in [0,%d)", path, tok,
				id, len(tokens))
		}
		tokens[id] = tok
	}
	return parse(path, []byte(strings.Join(tokens, "\n")), lower)
}

// withLower returns a copy of t with the other pipeline.
func (t *Tokenizer) withLower(lower bool) *Tokenizer {
	c := *t
	c.lower = lower
	return &c
}
