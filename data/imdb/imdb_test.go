package imdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadMMFDatabases(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("/usr/bin/python3", "testdata/write_imdbs.py", dir).CombinedOutput(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy: %v\n%s", err, out)
	}
	for name, wantFormat := range map[string]Format{"imdb_with_metadata.npy": NPY, "imdb_plain.npy": NPY,
		"imdb_dict.npy": NPY, "db.json": JSON, "db.jsonl": JSONL} {
		path := filepath.Join(dir, name)
		if f, err := Sniff(path); err != nil || f != wantFormat {
			t.Errorf("%s: Sniff = %v, %v; want %v", name, f, err, wantFormat)
		}
		db, err := Read(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(db.Entries) != 2 {
			t.Fatalf("%s: %d entries, want 2", name, len(db.Entries))
		}
		e := db.Entries[1]
		q, err1 := e.String("question_str")
		id, err2 := e.Int("image_id")
		fp, err3 := e.String("feature_path")
		if err1 != nil || err2 != nil || err3 != nil || q != "what is ΟΔΟΣ 2?" || id != 2 || fp != "COCO_val2014_000000000002.npy" {
			t.Errorf("%s: entry 1 = %q %d %q (%v %v %v)", name, q, id, fp, err1, err2, err3)
		}
		a0, found0, err0 := db.Entries[0].Answers()
		a1, found1, err1 := e.Answers()
		if err0 != nil || err1 != nil || !found0 || !found1 || len(a0) != 9 || len(a1) != 10 || a1[0] != "yes" {
			t.Errorf("%s: answers %q %q (%v %v)", name, a0, a1, err0, err1)
		}
		if name == "imdb_with_metadata.npy" && db.Metadata["dataset_type"] != "val" {
			t.Errorf("%s: metadata %v", name, db.Metadata)
		}
		if _, err := e.Int("question_str"); err == nil || !strings.Contains(err.Error(), "entry 1") {
			t.Errorf("%s: a text field read as an integer: %v", name, err)
		}
		if _, err := e.String("captions"); err == nil || !strings.Contains(err.Error(), "image_name") {
			t.Errorf("%s: a missing field: %v", name, err)
		}
	}
	if f, err := Sniff(filepath.Join(dir, "questions.json")); err != nil || f != VQAQuestions {
		t.Errorf("official questions: %v %v", f, err)
	}
	if _, err := Read(filepath.Join(dir, "questions.json")); err == nil || !strings.Contains(err.Error(), "official VQA questions") {
		t.Errorf("reading official questions as an imdb: %v", err)
	}
	for name, want := range map[string]string{"other.json": "keys [foo bar]", "numeric.npy": "numeric array"} {
		if _, err := Read(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and saying %q", name, err, want)
		}
	}
	// Truncated and corrupt files: errors naming the file, never a panic.
	b, _ := os.ReadFile(filepath.Join(dir, "imdb_with_metadata.npy"))
	for i, cut := range []int{len(b) - 1, len(b) / 2, 130, 20} {
		p := filepath.Join(dir, "cut.npy")
		os.WriteFile(p, b[:cut], 0o644)
		if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "cut.npy") {
			t.Errorf("cut %d: %v", i, err)
		}
	}
}
