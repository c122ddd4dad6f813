#!/usr/bin/env bash
# Does VILLA's adversarial finetuning help? On the synthetic VQA low-data split (10% of the training images),
# finetune the same pretrained backbone ($PRETRAINED, default: pretrain_mlm.yaml is run first) with plain
# finetuning (finetune_from_pretrained.yaml) and with VILLA's AFT (villa_vqa_lowdata.yaml), once per seed in $SEEDS
# (default 1 2 3), and print each held-out accuracy, the mean and sample standard deviation of each arm and of the
# per-seed difference.
#
# Usage: [PRETRAINED=ckpt] [SEEDS="1 2 3"] experiments/synthetic/villa_vs_plain.sh [key=value ...]
# (the overrides go to every finetuning run, e.g. model_config.uniter.adversarial.adv_lr_txt=0.05 or a smaller
# training.max_updates). Outputs go to $MMF_SAVE_DIR (default ./save/villa_vs_plain), one directory per run.
set -euo pipefail
cd "$(dirname "$0")/../.."

export MMF_SAVE_DIR="${MMF_SAVE_DIR:-$PWD/save/villa_vs_plain}"
seeds="${SEEDS:-1 2 3}"
source experiments/synthetic/compare.sh

pretrained="${PRETRAINED:-}"
if [ -z "$pretrained" ]; then
	run pretrain experiments/synthetic/pretrain_mlm.yaml > /dev/null
	pretrained="$MMF_SAVE_DIR/pretrain/current.ckpt"
fi
results=()
for seed in $seeds; do
	plain=$(accuracy "$(run "plain_$seed" experiments/synthetic/finetune_from_pretrained.yaml \
		checkpoint.resume_file="$pretrained" training.seed="$seed" "$@")")
	villa=$(accuracy "$(run "villa_$seed" experiments/synthetic/villa_vqa_lowdata.yaml \
		checkpoint.resume_file="$pretrained" training.seed="$seed" "$@")")
	echo "seed $seed: plain $plain, VILLA AFT $villa"
	results+=("$seed $plain $villa")
done
printf '%s\n' "${results[@]}" | awk '
	function sd(s, ss, n) { return n > 1 ? sqrt((ss - s * s / n) / (n - 1)) : 0 }
	{ n++; p += $2; pp += $2 * $2; v += $3; vv += $3 * $3; d = $3 - $2; dd += d; ddd += d * d }
	END {
		printf "val VQA accuracy over %d seeds: plain %.4f ± %.4f, VILLA AFT %.4f ± %.4f, difference %+.4f ± %.4f (mean ± sd)\n",
			n, p / n, sd(p, pp, n), v / n, sd(v, vv, n), dd / n, sd(dd, ddd, n)
	}'
