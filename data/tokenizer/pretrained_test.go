package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFromPretrained(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HOME", "")
	vocab := "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n!\nHello\nhello\nworld\n"
	put := func(rel, content string) {
		p := filepath.Join(cache, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// bert-base-cased, cached by huggingface_hub: refs/main names the snapshot among two.
	put("models--bert-base-cased/refs/main", "abc123\n")
	put("models--bert-base-cased/snapshots/abc123/vocab.txt", vocab)
	put("models--bert-base-cased/snapshots/old000/vocab.txt", "x\n")
	tk, err := FromPretrained("bert-base-cased", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk.LowerCase() || tk.VocabSize() != 9 || strings.Join(tk.Tokenize("Hello world"), " ") != "Hello world" {
		t.Errorf("bert-base-cased: lower=%v size=%d tokens=%q", tk.LowerCase(), tk.VocabSize(), tk.Tokenize("Hello world"))
	}
	// The current google-bert/ id, with tokenizer_config.json deciding the pipeline and only one snapshot.
	put("models--google-bert--bert-large-cased/snapshots/r1/vocab.txt", vocab)
	put("models--google-bert--bert-large-cased/snapshots/r1/tokenizer_config.json", `{"do_lower_case": true}`)
	if tk, err := FromPretrained("bert-large-cased", nil); err != nil || !tk.LowerCase() {
		t.Errorf("bert-large-cased via google-bert/: %v, %v", tk, err)
	}
	// tokenizer.json only.
	put("models--org--tj/snapshots/r/tokenizer.json",
		`{"normalizer": {"type": "BertNormalizer", "lowercase": false}, "model": {"type": "WordPiece", "vocab": `+
			`{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "!": 5, "Hi": 6}}}`)
	if tk, err := FromPretrained("org/tj", nil); err != nil || tk.LowerCase() || tk.Encode("Hi")[0] != 6 {
		t.Errorf("org/tj from tokenizer.json: %v, %v", tk, err)
	}
	// A path; an explicit do_lower_case wins.
	lower := true
	if tk, err := FromPretrained(filepath.Join(cache, "models--bert-base-cased/snapshots/abc123"), &lower); err != nil ||
		!tk.LowerCase() {
		t.Errorf("directory path: %v, %v", tk, err)
	}
	// bert-base-uncased falls back to the embedded vocabulary.
	if tk, err := FromPretrained("bert-base-uncased", nil); err != nil || tk.VocabSize() != 30522 || !tk.LowerCase() {
		t.Errorf("bert-base-uncased: %v, %v", tk, err)
	}
	// Unresolvable: one line naming the cache and the file to place.
	_, err = FromPretrained("bert-base-multilingual-cased", nil)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), cache) ||
		!strings.Contains(err.Error(), "models--bert-base-multilingual-cased/snapshots/main/vocab.txt") {
		t.Errorf("unresolvable name: %v", err)
	}
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "/nonexistent/hf")
	if _, err := FromPretrained("bert-base-cased", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/hf/hub") {
		t.Errorf("HF_HOME: %v", err)
	}
}
