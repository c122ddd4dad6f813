package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPlotFakeRun runs `uniter plot` on a hand-written run directory without checkpoints: it draws the curves
// and the index page, and says that there is no attention to draw.
func TestPlotFakeRun(t *testing.T) {
	run := t.TempDir()
	metrics := `{"step":50,"train/synthetic_vqa/logit_bce":4.1,"train/total_loss":4.1,"train/lr":0.0005}
{"step":100,"train/synthetic_vqa/logit_bce":3.2,"train/total_loss":3.2,"train/lr":0.0004}
{"step":100,"val/synthetic_vqa/logit_bce":3.4,"val/synthetic_vqa/vqa_accuracy":0.31,"val/total_loss":3.4}
{"step":150,"train/synthetic_vqa/logit_bce":2.5,"train/total_loss":2.5,"train/lr":0.0003}
{"step":200,"val/synthetic_vqa/logit_bce":2.9,"val/synthetic_vqa/vqa_accuracy":0.45,"val/total_loss":2.9}
`
	if err := os.WriteFile(filepath.Join(run, "metrics.jsonl"), []byte(metrics), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := plotCmd([]string{"--run", run}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(run, "report")
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"accuracy.svg", "curves.svg", "index.html", "tasks.html"}; !slices.Equal(names, want) {
		t.Fatalf("wrote %v, want %v", names, want)
	}
	curves, err := os.ReadFile(filepath.Join(out, "curves.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<svg", "train/logit_bce", "val/total_loss"} {
		if !strings.Contains(string(curves), s) {
			t.Errorf("curves.svg lacks %q", s)
		}
	}
	if strings.Contains(string(curves), "train/lr") {
		t.Error("curves.svg plots the learning rate as a loss")
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"no checkpoint", "vqa_accuracy", "0.45"} {
		if !strings.Contains(string(index), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}

	other := filepath.Join(t.TempDir(), "elsewhere")
	if err := plotCmd([]string{"--run", run, "--out", other}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, "index.html")); err != nil {
		t.Errorf("--out: %v", err)
	}
}

func TestPlotBadArguments(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no run", nil, "--run"},
		{"not a run directory", []string{"--run", empty}, "metrics.jsonl"},
		{"missing directory", []string{"--run", filepath.Join(empty, "nope")}, "nope"},
		{"stray argument", []string{"--run", empty, "extra"}, "extra"},
		{"unknown flag", []string{"--runs", empty}, "runs"},
	} {
		err := plotCmd(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
