package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uniter-go/uniter/experiments/runner"
)

// runMainEnv makes the test binary act as the uniter command, so the tests run the very binary they were built
// into (same build tags and GOEXPERIMENT) as a separate process that can be killed.
const runMainEnv = "UNITER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Args = append([]string{"uniter"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// uniterCmd returns the command "uniter args..." run by the test binary.
func uniterCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GOMLX_BACKEND=go:parallelism=-1")
	return cmd
}

// runUniter runs the command to completion and returns its stdout, stderr and error.
func runUniter(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := uniterCmd(t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// tinyRun returns the command line of a small synthetic VQA training run (a 1-layer, 32-wide UNITER on 40 images)
// writing to saveDir, with the synthetic data generated under dataDir.
func tinyRun(saveDir, dataDir string, extra ...string) []string {
	args := []string{
		"run", "config=../../experiments/synthetic/vqa.yaml", "run_type=train",
		"model_config.uniter.hidden_size=32", "model_config.uniter.num_hidden_layers=1",
		"model_config.uniter.num_attention_heads=2", "model_config.uniter.intermediate_size=64",
		"model_config.uniter.img_dim=16", "model_config.uniter.heads.synthetic_vqa.hidden_size=64",
		"dataset_config.synthetic_vqa.num_images=40", "dataset_config.synthetic_vqa.data_dir=" + dataDir,
		"training.batch_size=8", "training.max_updates=60", "training.log_interval=1",
		"training.evaluation_interval=1000", "training.checkpoint_interval=5", "training.num_workers=1",
		"scheduler.params.num_warmup_steps=5", "env.save_dir=" + saveDir,
	}
	return append(args, extra...)
}

// lossesByStep reads the training losses of a run, the last record of each step winning.
func lossesByStep(t *testing.T, saveDir string) map[int]float64 {
	t.Helper()
	recs, err := runner.ReadMetrics(saveDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]float64{}
	for _, r := range recs {
		if v, ok := r.Metrics["train/total_loss"]; ok {
			out[r.Step] = v
		}
	}
	return out
}

// TestRunResumeAfterKill trains a tiny run uninterrupted, then the same run SIGKILLed once its first checkpoint
// exists and resumed with checkpoint.resume=true: every logged loss must match the uninterrupted run.
func TestRunResumeAfterKill(t *testing.T) {
	tmp := t.TempDir()
	dataDir := filepath.Join(tmp, "data")
	full, killed := filepath.Join(tmp, "full"), filepath.Join(tmp, "killed")
	if _, stderr, err := runUniter(t, tinyRun(full, dataDir)...); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, stderr)
	}
	want := lossesByStep(t, full)
	if len(want) != 60 {
		t.Fatalf("uninterrupted run logged %d steps, want 60", len(want))
	}

	cmd := uniterCmd(t, tinyRun(killed, dataDir)...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(killed, "current.ckpt")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no checkpoint appeared\n%s", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("the killed run finished before the kill (%v); the test needs a longer run", err)
	}

	_, stderr, err := runUniter(t, tinyRun(killed, dataDir, "checkpoint.resume=true")...)
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`resumed from \S+ at update (\d+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the resumed run did not resume from a checkpoint:\n%s", stderr)
	}
	from, _ := strconv.Atoi(m[1])
	if from < 5 || from >= 60 {
		t.Fatalf("resumed from update %d, want a checkpoint in [5, 60)", from)
	}
	t.Logf("killed run resumed from update %d", from)
	got := lossesByStep(t, killed)
	for step := 1; step <= 60; step++ {
		if g, w := got[step], want[step]; math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
			t.Errorf("update %d (resumed from %d): loss %.9g, uninterrupted run %.9g", step, from, g, w)
		}
	}
}

// TestRunBadInput checks that each kind of bad input stops the command with one clear message.
func TestRunBadInput(t *testing.T) {
	tmp := t.TempDir()
	badYAML := filepath.Join(tmp, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("training:\n  batch_size: [1, 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(tmp, "data")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"malformed yaml", []string{"config=" + badYAML, "dataset=synthetic_vqa"}, "bad.yaml"},
		{"unknown dataset", []string{"config=../../experiments/synthetic/vqa.yaml", "dataset=nodataset"}, `unknown dataset "nodataset"`},
		{"unknown model", []string{"config=../../experiments/synthetic/vqa.yaml", "model=nomodel"}, `unknown model "nomodel"`},
		{"missing data directory", []string{"config=../../experiments/vqa2/defaults.yaml", "dataset=vqa2", "model=uniter",
			"env.data_dir=" + filepath.Join(tmp, "nowhere")}, "does not exist"},
		{"missing zoo entry", append(tinyRun(filepath.Join(tmp, "zoo"), dataDir)[1:], "checkpoint.resume_zoo=uniter.pretrained",
			"env.zoo_dir="+filepath.Join(tmp, "zoo-dir")), "download uniter-base.pt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, err := runUniter(t, append([]string{"run"}, c.args...)...)
			if err == nil {
				t.Fatal("the command succeeded")
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "uniter run: ") || !strings.Contains(last, c.want) {
				t.Fatalf("last stderr line %q does not report %q", last, c.want)
			}
		})
	}
}

// TestRunNaNKeepsLastCheckpoint trains with an absurd learning rate: the run must stop at the first non-finite
// loss with one message, and current.ckpt must still be the last checkpoint written before it.
func TestRunNaNKeepsLastCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	save := filepath.Join(tmp, "nan")
	args := tinyRun(save, filepath.Join(tmp, "data"), "optimizer.params.lr=1e30", "optimizer.params.weight_decay=0",
		"training.lr_scheduler=false", "training.checkpoint_interval=1")
	_, stderr, err := runUniter(t, args...)
	if err == nil {
		t.Fatalf("training with lr 1e30 succeeded:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`loss is \S+ .* at update (\d+)`).FindStringSubmatch(last)
	if m == nil || !strings.Contains(last, "last good checkpoint") {
		t.Fatalf("last stderr line %q does not report the non-finite loss", last)
	}
	bad, _ := strconv.Atoi(m[1])
	if bad < 2 {
		t.Fatalf("non-finite loss at update %d; the test needs a finite first update", bad)
	}
	entries, err := os.ReadDir(filepath.Join(save, "models"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var n int
		if _, err := fmt.Sscanf(e.Name(), "model_%d.ckpt", &n); err == nil && n >= bad {
			t.Fatalf("checkpoint %s written at or after the NaN update %d", e.Name(), bad)
		}
	}
	newest := fmt.Sprintf("model_%d.ckpt", bad-1)
	cur, err := os.ReadFile(filepath.Join(save, "current.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	prev, err := os.ReadFile(filepath.Join(save, "models", newest))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur, prev) {
		t.Fatalf("current.ckpt is not %s, the checkpoint before the NaN", newest)
	}
}
