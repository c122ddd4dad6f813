package zoo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPrefersNameWithExtension(t *testing.T) {
	dir := t.TempDir()
	if _, err := Find(dir, "uniter.pretrained"); err == nil {
		t.Fatal("found an entry in an empty zoo")
	}
	released := filepath.Join(dir, "uniter-base.pt")
	if err := os.WriteFile(released, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(dir, "uniter.pretrained"); err != nil || got != released {
		t.Fatalf("Find = %q, %v; want the released file name %s", got, err, released)
	}
	named := filepath.Join(dir, "uniter.pretrained.safetensors")
	if err := os.WriteFile(named, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(dir, "uniter.pretrained"); err != nil || got != named {
		t.Fatalf("Find = %q, %v; want %s", got, err, named)
	}
}

func TestFindInSubdirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "villa.pretrained")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(sub, "model.pth")
	if err := os.WriteFile(want, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(dir, "villa.pretrained"); err != nil || got != want {
		t.Fatalf("Find = %q, %v; want %s", got, err, want)
	}
}

func TestMissingEntryMessage(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(dir, "villa.pretrained")
	if err == nil {
		t.Fatal("no error for a missing entry")
	}
	msg := err.Error()
	for _, want := range []string{
		"villa-base.pt", Known["villa.pretrained"].URL, filepath.Join(dir, "villa.pretrained.pt"), "np.savez", "$" + EnvVar,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line:\n%s", msg)
	}
	_, err = Find(dir, "my.model")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "my.model.pt")) || !strings.Contains(err.Error(), "uniter.pretrained") {
		t.Errorf("unknown name message: %v", err)
	}
	if _, err := Find(dir, "../etc"); err == nil {
		t.Error("a name with a path separator was accepted")
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvVar, "")
	if got := Dir("/cfg/zoo"); got != "/cfg/zoo" {
		t.Errorf("Dir(configured) = %q", got)
	}
	if got := Dir(""); !strings.HasSuffix(got, filepath.Join("uniter", "zoo")) {
		t.Errorf("default Dir = %q, want <cache>/uniter/zoo", got)
	}
	t.Setenv(EnvVar, "/env/zoo")
	if got := Dir("/cfg/zoo"); got != "/env/zoo" {
		t.Errorf("Dir with $%s = %q", EnvVar, got)
	}
}
