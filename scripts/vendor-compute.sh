#!/usr/bin/env bash
# third_party/compute is github.com/gomlx/compute at the version go.mod requires, plus the project's patch set
# third_party/compute.patch (third_party/README.md says what it holds and why). This script keeps the two in step:
#
#   scripts/vendor-compute.sh check           # fails unless third_party/compute == upstream + third_party/compute.patch
#   scripts/vendor-compute.sh diff            # rewrites third_party/compute.patch from third_party/compute
#   scripts/vendor-compute.sh rebase VERSION  # upstream VERSION + the patch into third_party/compute, go.mod bumped
#   scripts/vendor-compute.sh files           # the files the patch adds or changes (ours: gofmt checks them)
#
# Upstream comes from the Go module proxy (go mod download). After a rebase whose patch does not apply, the rejected
# hunks are left as *.rej files in third_party/compute: fix them, delete the .rej files, run `diff`, then `check`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

module=github.com/gomlx/compute
vendored=third_party/compute
patchfile=third_party/compute.patch

die() {
	echo "vendor-compute: $*" >&2
	exit 1
}

# required_version prints the version of the module that go.mod requires.
required_version() {
	local v
	v=$(go list -m -f '{{.Version}}' "$module" 2>/dev/null) || die "go list -m $module failed"
	[[ -n $v ]] || die "go.mod does not require $module"
	echo "$v"
}

# upstream_dir prints the module cache directory of $module at version $1, downloading it if needed.
upstream_dir() {
	local dir
	dir=$(go mod download -json "$module@$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d $dir ]] || die "could not download $module@$1"
	echo "$dir"
}

# make_patch writes the diff from upstream directory $1 to the vendored tree to stdout (paths a/... b/...).
make_patch() {
	local tmp
	tmp=$(mktemp -d)
	cp -r "$1" "$tmp/a"
	cp -r "$vendored" "$tmp/b"
	chmod -R u+w "$tmp"
	# git diff --no-index exits 1 when the trees differ.
	(cd "$tmp" && git diff --no-index --no-color --no-prefix a b) || true
	rm -rf "$tmp"
}

# apply_patch copies upstream directory $1 to directory $2 and applies the patch there.
apply_patch() {
	cp -r "$1" "$2"
	chmod -R u+w "$2"
	[[ -s $patchfile ]] || return 0
	local abs
	abs=$(realpath "$patchfile")
	(cd "$2" && git apply -p1 --reject --whitespace=nowarn "$abs")
}

cmd=${1:-}
case $cmd in
check)
	version=$(required_version)
	up=$(upstream_dir "$version")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	apply_patch "$up" "$tmp/expected" >"$tmp/apply.log" 2>&1 || {
		cat "$tmp/apply.log" >&2
		die "$patchfile does not apply to $module@$version"
	}
	if ! diff -r "$tmp/expected" "$vendored" >"$tmp/diff"; then
		cat "$tmp/diff" >&2
		die "$vendored differs from $module@$version + $patchfile (run: scripts/vendor-compute.sh diff)"
	fi
	echo "vendor-compute: $vendored is $module@$version + $patchfile ($(grep -c '^diff --git' "$patchfile") files)"
	;;
diff)
	up=$(upstream_dir "$(required_version)")
	make_patch "$up" >"$patchfile"
	echo "vendor-compute: wrote $patchfile ($(grep -c '^diff --git' "$patchfile") files)"
	;;
rebase)
	version=${2:-}
	[[ $version == v* ]] || die "usage: $0 rebase vX.Y.Z"
	up=$(upstream_dir "$version")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	status=0
	apply_patch "$up" "$tmp/new" || status=$?
	rm -rf "$vendored"
	cp -r "$tmp/new" "$vendored"
	go mod edit -require="$module@$version"
	if ((status != 0)); then
		echo "vendor-compute: some hunks did not apply; see the .rej files:" >&2
		find "$vendored" -name '*.rej' >&2
		exit 1
	fi
	echo "vendor-compute: $vendored is now $module@$version + $patchfile; run go mod tidy and the tests"
	;;
files)
	sed -n 's|^+++ b/\(.*\)$|'"$vendored"'/\1|p' "$patchfile"
	;;
*)
	die "usage: $0 check | diff | rebase VERSION | files"
	;;
esac
