package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForwardParityWithFixtures runs the forward check on every fixture under testdata/fixtures: each array of
// expected.npz must be reproduced within 1e-4·max(1, max|ref|).
func TestForwardParityWithFixtures(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/fixtures/*/expected.npz")
	if len(dirs) == 0 {
		t.Fatal("no fixtures found under testdata/fixtures")
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			outs, err := runForward(filepath.Join(dir, "model.pt"), filepath.Join(dir, "config.json"), filepath.Join(dir, "inputs.npz"), "")
			if err != nil {
				t.Fatal(err)
			}
			if err := compareOutputs(outs, exp, 1e-4); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestForwardParityThroughFastKernels repeats the parity check with every element-wise chain fused, whatever its
// size (the tiny fixtures are below the size where the Go backend fuses by default), so the fixtures check the fused
// path too.
func TestForwardParityThroughFastKernels(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/fixtures/*/expected.npz")
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cmd := uniterCmd(t, "forward", "--checkpoint", filepath.Join(dir, "model.pt"), "--config",
				filepath.Join(dir, "config.json"), "--inputs", filepath.Join(dir, "inputs.npz"), "--expected", exp)
			cmd.Env = append(cmd.Env, "GOMLX_FUSE_MIN_SIZE=1")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "arrays match") {
				t.Fatalf("forward with fast kernels: %v\n%s", err, out)
			}
		})
	}
}

func TestForwardBadInputs(t *testing.T) {
	fixture := "../../testdata/fixtures/tiny-std02"
	tmp := t.TempDir()
	model, err := os.ReadFile(filepath.Join(fixture, "model.pt"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.pt")
	if err := os.WriteFile(truncated, model[:len(model)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notModel := filepath.Join(tmp, "config-as-model.pt")
	if err := os.WriteFile(notModel, []byte(`{"hidden_size": 64}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wrongCfg := filepath.Join(tmp, "wrong.json")
	if err := os.WriteFile(wrongCfg, []byte(`{"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 2000, "num_answers": 16}`), 0o644); err != nil {
		t.Fatal(err)
	}
	moreLayers := filepath.Join(tmp, "more-layers.json")
	if err := os.WriteFile(moreLayers, []byte(`{"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 2000, "num_answers": 16}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, inputs := filepath.Join(fixture, "config.json"), filepath.Join(fixture, "inputs.npz")
	for _, tc := range []struct {
		name, ckpt, cfg, inputs string
		wantInError             []string
	}{
		{"truncated checkpoint", truncated, cfg, inputs, []string{truncated}},
		{"not a checkpoint", notModel, cfg, inputs, []string{notModel}},
		{"shape mismatch", filepath.Join(fixture, "model.pt"), wrongCfg, inputs, []string{"model.pt", "shape", "needs"}},
		{"missing keys", filepath.Join(fixture, "model.pt"), moreLayers, inputs, []string{"missing", "uniter.encoder.layer.2"}},
		{"missing inputs file", filepath.Join(fixture, "model.pt"), cfg, filepath.Join(tmp, "none.npz"), []string{"none.npz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runForward(tc.ckpt, tc.cfg, tc.inputs, "")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, want := range tc.wantInError {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}
