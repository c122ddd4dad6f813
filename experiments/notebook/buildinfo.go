package notebook

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// buildSettings are the build settings that change what a program computes or how fast: the build tags, cgo,
// the target and the experiments (GOEXPERIMENT=simd turns GoMLX's SIMD kernels on).
var buildSettings = []string{"-tags", "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOEXPERIMENT"}

// BuildInfo describes how the running program was built, as FormatBuildInfo does, with directory replacements
// relative to the notebook's repository. In a notebook cell it shows what the notebook builds against; the
// notebook tests compare it with the uniter command's.
func (n *Notebook) BuildInfo() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("the program has no build information")
	}
	return FormatBuildInfo(bi, n.Root), nil
}

// FormatBuildInfo lists, one per line, the Go version, the build settings that matter (tags, cgo, target,
// GOEXPERIMENT) and every module dependency with its version and replacement, sorted by module path. A replacement
// by a directory inside root is shown relative to root ("=> ./third_party/compute"), as go.mod writes it, so that two
// builds from the same repository compare equal wherever it is checked out.
func FormatBuildInfo(bi *debug.BuildInfo, root string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "go %s\n", bi.GoVersion)
	for _, key := range buildSettings {
		for _, s := range bi.Settings {
			if s.Key == key {
				fmt.Fprintf(&b, "%s %s\n", s.Key, s.Value)
			}
		}
	}
	deps := slices.Clone(bi.Deps)
	slices.SortFunc(deps, func(a, b *debug.Module) int { return strings.Compare(a.Path, b.Path) })
	for _, d := range deps {
		fmt.Fprintf(&b, "%s %s", d.Path, d.Version)
		if r := d.Replace; r != nil {
			if isDir(r.Path) {
				fmt.Fprintf(&b, " => %s", relativeDir(r.Path, root))
			} else {
				fmt.Fprintf(&b, " => %s %s", r.Path, r.Version)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// isDir reports whether a replacement path is a directory rather than a module path: go.mod writes directories as
// absolute paths or starting with ./ or ../ .
func isDir(path string) bool {
	return filepath.IsAbs(path) || path == "." || path == ".." || strings.HasPrefix(path, "./") || strings.HasPrefix(path, "../")
}

// relativeDir writes a replacement directory relative to root ("./x", or "." for root itself) when it lies inside
// root, and as it is otherwise.
func relativeDir(dir, root string) string {
	if !filepath.IsAbs(dir) || root == "" {
		return filepath.ToSlash(dir)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return dir
	}
	if rel == "." {
		return "."
	}
	return "./" + filepath.ToSlash(rel)
}
