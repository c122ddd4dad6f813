package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gpucheck runs tools/gpucheck.sh with args and extra environment and returns its stdout, stderr and error.
func gpucheck(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"../gpucheck.sh"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// TestGPUCheckArguments checks the script's refusals before anything is built or run.
func TestGPUCheckArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "missing argument"},
		{[]string{"jax_plugins/xla_cuda13/xla_cuda_plugin.so"}, "must be absolute"},
		{[]string{"/no/such/xla_cuda_plugin.so"}, "PJRT plugin not found: /no/such/xla_cuda_plugin.so"},
	} {
		_, stderr, err := gpucheck(t, nil, c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: err %v, stderr %q; want a failure saying %q", c.args, err, stderr, c.want)
		}
	}
}

// fakeJAXLayout lays out <dir>/site-packages like JAX's CUDA wheels, with plugin as the "plugin" file, and returns
// the plugin's path.
func fakeJAXLayout(t *testing.T, plugin string) string {
	t.Helper()
	site := filepath.Join(t.TempDir(), "site-packages")
	dir := filepath.Join(site, "jax_plugins", "xla_cuda13")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(site, "nvidia", "cu13", "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "xla_cuda_plugin.so")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGPUCheckDryRun runs every step before the device in dry-run mode: the CUDA directories of JAX's layout go into
// XLA_FLAGS and LD_LIBRARY_PATH, and the plan is the six training benchmarks and the embedded default on XLA.
func TestGPUCheckDryRun(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	plugin := fakeJAXLayout(t, self)
	cu13 := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(plugin))), "nvidia", "cu13")
	out, stderr, err := gpucheck(t, []string{"DRY_RUN=1", "GPUCHECK_NO_GPU_OK=1", "UNITER_BIN=" + self}, plugin)
	if err != nil {
		t.Fatalf("dry run: %v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{
		"XLA_FLAGS= --xla_gpu_cuda_data_dir=" + cu13, "LD_LIBRARY_PATH=" + cu13 + "/lib",
		"DRY_RUN batch 32 float32: ", "DRY_RUN batch 32 bfloat16: ", "DRY_RUN batch 32 bfloat16 flash: ",
		"DRY_RUN batch 128 float32: ", "DRY_RUN batch 128 bfloat16: ", "DRY_RUN batch 128 bfloat16 flash: ",
		"--backend xla:" + plugin + " --model base --mode train --batch 128",
		"DRY_RUN embedded default: GOMLX_BACKEND=xla:" + plugin,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "--dtype bfloat16 --steps 10 --warmup 2 --fused-attention"); n != 2 {
		t.Errorf("%d flash-attention runs, want 2:\n%s", n, out)
	}
}

// TestGPUCheckReachesTheDevice builds the XLA binary (cgo, as the script does on a GPU machine) and runs the script
// with a shared library that is not a PJRT plugin: everything up to loading the plugin runs, and the script stops
// with the loader's error and one clear line.
func TestGPUCheckReachesTheDevice(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "uniter-xla")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the XLA binary: %v\n%s", err, out)
	}
	plugin := fakeJAXLayout(t, "/lib/x86_64-linux-gnu/libm.so.6")
	out, stderr, err := gpucheck(t, []string{"GPUCHECK_NO_GPU_OK=1", "UNITER_BIN=" + bin, "BATCHES=32", "SKIP_DEFAULT=1"}, plugin)
	if err == nil {
		t.Fatalf("a non-PJRT library as plugin passed:\n%s", out)
	}
	if !strings.Contains(out, "GetPjrtApi") || !strings.Contains(stderr, "the XLA backend could not be created from "+plugin) {
		t.Errorf("want the loader's error (GetPjrtApi) and the script's line; stdout:\n%s\nstderr:\n%s", out, stderr)
	}
}
