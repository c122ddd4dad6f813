#!/usr/bin/env bash
# Gives GoNB's module (the current directory: a notebook runs this with `!*`, in GoNB's temporary module) the
# module graph of the repository, so that a notebook builds against exactly what the uniter command builds
# against: go.mod's go and toolchain lines, every requirement of go.mod at the version the repository selects,
# every replacement (a local directory by its absolute path), the repository itself for its module path, and the
# repository's go.sum. Running it again (a re-run header cell) changes nothing.
#
# Usage, in the first code cell of a notebook in notebooks/:  !*bash ${GONB_DIR}/module.sh
# (an argument names another repository root; the default is this script's parent folder).
set -euo pipefail
repo=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
[ -f go.mod ] || { echo "module.sh: no go.mod in $PWD: run it with !* (in GoNB's module)" >&2; exit 1; }

# The module paths go.mod requires (`go mod edit -print` writes go.mod in its canonical layout).
required=$(cd "$repo" && go mod edit -print | awk '
	$1 == "require" && $2 == "(" { block = 1; next }
	block && $1 == ")" { block = 0; next }
	block { print $1 }
	$1 == "require" && $2 != "(" { print $2 }')
toolchain=$(cd "$repo" && go mod edit -print | awk '$1 == "toolchain" { print $2 }')

# One line per module of the repository's graph, tab-separated: the main module with its directory and go version,
# every other one with the version the repository selects and its replacement, if any.
graph=$(cd "$repo" && go list -m -f '{{if .Main}}main	{{.Path}}	{{.Dir}}	{{.GoVersion}}{{else}}dep	{{.Path}}	{{.Version}}	{{with .Replace}}{{if .Version}}{{.Path}}@{{.Version}}{{else}}{{.Dir}}{{end}}{{end}}{{end}}' all)

edits=()
while IFS=$'\t' read -r kind path a b; do
  if [ "$kind" = main ]; then
    # The zero pseudo-version: a replace alone would make the go command look the module up on the proxy.
    edits+=("-go=$b" "-require=$path@v0.0.0-00010101000000-000000000000" "-replace=$path=$a")
    continue
  fi
  if grep -qxF "$path" <<<"$required"; then
    edits+=("-require=$path@$a")
  fi
  if [ -n "$b" ]; then
    edits+=("-replace=$path=$b")
  fi
done <<<"$graph"
if [ -n "$toolchain" ]; then
  edits+=("-toolchain=$toolchain")
fi
go mod edit "${edits[@]}"
cat "$repo/go.sum" >>go.sum
sort -u -o go.sum go.sum

# gonbui talks to the kernel: say so when the module graph holds another gonb than the kernel that runs it.
graph_gonb=$(awk -F'\t' '$2 == "github.com/janpfeifer/gonb" { print $3 }' <<<"$graph")
if [ -n "${GONB_VERSION:-}" ] && [ -n "$graph_gonb" ] && [ "$graph_gonb" != "$GONB_VERSION" ]; then
  echo "module.sh: the kernel is gonb $GONB_VERSION, the module graph has gonb $graph_gonb (scripts/setup.sh installs the graph's)" >&2
fi
