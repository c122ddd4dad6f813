# Shared by the synthetic comparison scripts (pretraining_vs_scratch.sh, villa_vs_plain.sh), which source it from
# the repository root: builds the uniter command into $MMF_SAVE_DIR and defines run and accuracy.
export GOMLX_BACKEND="${GOMLX_BACKEND:-go:parallelism=-1}"
mkdir -p "$MMF_SAVE_DIR"
bin="$MMF_SAVE_DIR/uniter"
GOEXPERIMENT=simd go build -tags noxla -o "$bin" ./tools/uniter

# run NAME CONFIG [key=value ...]: runs one experiment from scratch in $MMF_SAVE_DIR/NAME (emptied first) and
# prints its final evaluation line; the log goes to $MMF_SAVE_DIR/NAME.log.
run() {
	local name=$1 config=$2
	shift 2
	rm -rf "${MMF_SAVE_DIR:?}/$name"
	echo "== $name ($config)" >&2
	local start=$SECONDS
	"$bin" run config="$config" env.save_dir="$MMF_SAVE_DIR/$name" "$@" 2> "$MMF_SAVE_DIR/$name.log" | tail -n 1
	echo "   $((SECONDS - start)) s, log $MMF_SAVE_DIR/$name.log" >&2
}

# accuracy LINE: the val VQA accuracy of a final evaluation line.
accuracy() {
	tr ' ' '\n' <<< "$1" | sed -n 's|^val/synthetic_vqa/vqa_accuracy=||p'
}
