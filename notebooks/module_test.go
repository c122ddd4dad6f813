package notebooks_test

import (
	"debug/buildinfo"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/experiments/notebook"
)

// goCmd runs the go command in dir and returns its standard output; the test fails on an error.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr)
	}
	return string(out)
}

// gonbModule makes an empty module like the one GoNB builds a notebook in, runs module.sh in it for the repository
// repo, and returns its directory.
func gonbModule(t *testing.T, repo string) string {
	t.Helper()
	dir := t.TempDir()
	goCmd(t, dir, nil, "mod", "init", "gonb_module_test")
	runModuleScript(t, dir, repo)
	return dir
}

// runModuleScript runs module.sh in dir for the repository repo; it must succeed silently.
func runModuleScript(t *testing.T, dir, repo string) {
	t.Helper()
	cmd := exec.Command("bash", mustAbs(t, "module.sh"), repo)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("module.sh %s: %v\n%s", repo, err, out)
	}
}

// goModJSON is the part of `go mod edit -json` the tests read.
type goModJSON struct {
	Go, Toolchain string
	Require       []struct{ Path, Version string }
	Replace       []struct {
		Old, New struct{ Path, Version string }
	}
}

// moduleGraph lists `go list -m all` in dir as "path version [=> replacement]" lines, sorted, leaving out the main
// module; a replacement is a module version or, for a directory, its absolute path (go.mod may write it relative).
func moduleGraph(t *testing.T, dir string) []string {
	t.Helper()
	out := goCmd(t, dir, nil, "list", "-m", "-f",
		`{{if not .Main}}{{.Path}} {{.Version}}{{with .Replace}} => {{if .Version}}{{.Path}} {{.Version}}{{else}}{{.Dir}}{{end}}{{end}}{{end}}`, "all")
	lines := slices.DeleteFunc(strings.Split(out, "\n"), func(s string) bool { return s == "" })
	slices.Sort(lines)
	return lines
}

// TestModuleScriptMirrorsReplaces runs module.sh for a repository with a directory replacement, as go.mod has when
// the project uses a patched copy of a dependency (third_party/compute): GoNB's module must get the go and
// toolchain lines, the requirement and the replacement by the absolute directory, and the repository itself.
func TestModuleScriptMirrorsReplaces(t *testing.T) {
	repo := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/project\n\ngo 1.24\n\ntoolchain go1.24.1\n\nrequire example.com/dep v1.2.3\n\n" +
			"replace example.com/dep => ./third_party/dep\n",
		"project.go":             "package project\n\nimport _ \"example.com/dep\"\n",
		"third_party/dep/go.mod": "module example.com/dep\n\ngo 1.24\n",
		"third_party/dep/dep.go": "package dep\n",
		"go.sum":                 "",
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := gonbModule(t, repo)
	var mod goModJSON
	if err := json.Unmarshal([]byte(goCmd(t, dir, nil, "mod", "edit", "-json")), &mod); err != nil {
		t.Fatal(err)
	}
	if mod.Go != "1.24" || mod.Toolchain != "go1.24.1" {
		t.Errorf("go %q toolchain %q, want the repository's 1.24 and go1.24.1", mod.Go, mod.Toolchain)
	}
	requires := map[string]string{}
	for _, r := range mod.Require {
		requires[r.Path] = r.Version
	}
	if want := map[string]string{"example.com/project": "v0.0.0-00010101000000-000000000000", "example.com/dep": "v1.2.3"}; !maps.Equal(requires, want) {
		t.Errorf("requires %v, want %v", requires, want)
	}
	replaces := map[string]string{}
	for _, r := range mod.Replace {
		replaces[r.Old.Path] = r.New.Path + " " + r.New.Version
	}
	if want := map[string]string{"example.com/project": repo + " ", "example.com/dep": filepath.Join(repo, "third_party", "dep") + " "}; !maps.Equal(replaces, want) {
		t.Errorf("replaces %v, want %v", replaces, want)
	}
	// The module graphs are the same, with the repository itself as a dependency of GoNB's module.
	want := append(moduleGraph(t, repo), "example.com/project v0.0.0-00010101000000-000000000000 => "+repo)
	slices.Sort(want)
	if got := moduleGraph(t, dir); !slices.Equal(got, want) {
		t.Errorf("GoNB's module graph\n%s\nwant the repository's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Running it again (a re-run header cell) changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	runModuleScript(t, dir, repo)
	if after, _ := os.ReadFile(filepath.Join(dir, "go.mod")); string(after) != string(before) {
		t.Errorf("a second run changed go.mod:\n%s\nto\n%s", before, after)
	}
}

// TestModuleScriptGivesTheRepositoryGraph runs module.sh for this repository: GoNB's module must then select every
// module at the version and with the replacement the repository selects.
func TestModuleScriptGivesTheRepositoryGraph(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := gonbModule(t, root)
	repoGraph, gonbGraph := moduleGraph(t, root), moduleGraph(t, dir)
	repoGraph = append(repoGraph, "github.com/uniter-go/uniter v0.0.0-00010101000000-000000000000 => "+root)
	slices.Sort(repoGraph)
	if !slices.Equal(repoGraph, gonbGraph) {
		t.Errorf("GoNB's module graph differs from the repository's:\nrepository:\n%s\nGoNB module:\n%s",
			strings.Join(repoGraph, "\n"), strings.Join(gonbGraph, "\n"))
	}
	want := strings.TrimSpace(goCmd(t, root, nil, "list", "-m", "-f", "{{.GoVersion}}"))
	if got := strings.TrimSpace(goCmd(t, dir, nil, "list", "-m", "-f", "{{.GoVersion}}")); got != want {
		t.Errorf("GoNB's module says go %s, the repository go %s", got, want)
	}
}

// checkBuildInfo compares the build the notebook's cell tagged "build-info" printed (notebook.FormatBuildInfo) with
// the uniter command's, built here with the flags scripts/test.sh uses: the Go version, the build settings and every
// module the command links must be the same in the notebook. Notebooks without that cell are not checked.
func checkBuildInfo(t *testing.T, cells []nbCell) {
	t.Helper()
	var printed string
	found := false
	for _, c := range cells {
		if slices.Contains(c.Metadata.Tags, "build-info") {
			found = true
			for _, o := range c.Outputs {
				if o.OutputType == "stream" && o.Name == "stdout" {
					printed += joined(o.Text)
				}
			}
		}
	}
	if !found {
		return
	}
	root := mustAbs(t, "..")
	bin := filepath.Join(t.TempDir(), "uniter")
	goCmd(t, root, []string{"GOEXPERIMENT=simd"}, "build", "-tags", "noxla", "-o", bin, "./tools/uniter")
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	cliLines := strings.Split(notebook.FormatBuildInfo(bi, root), "\n")
	nbLines := strings.Split(printed, "\n")
	var missing, extra []string
	for _, line := range cliLines {
		if line != "" && !slices.Contains(nbLines, line) {
			missing = append(missing, line)
		}
	}
	// The Go version and the build settings must be the same both ways; the notebook may link more modules.
	for _, line := range nbLines {
		if f := strings.Fields(line); len(f) == 2 && !strings.Contains(f[0], "/") && !slices.Contains(cliLines, line) {
			extra = append(extra, line)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("the notebook does not build like the uniter command: the command has\n%s\nwhich the notebook lacks, "+
			"and the notebook has\n%s\nwhich the command lacks; the notebook printed:\n%s",
			strings.Join(missing, "\n"), strings.Join(extra, "\n"), printed)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
