#!/usr/bin/python3
"""PyTorch CPU baseline for the Go benchmarks: UNITER-base with the reference model of uniter_ref.py.

  --mode train    VQA finetuning step: forward (dropout on) + ORIG VQA loss + backward + gradient
                  clipping (2.0) + AdamW (ORIG settings: betas 0.9/0.98, eps 1e-6, weight decay 0.01
                  except biases and LayerNorm)
  --mode forward  forward pass to the VQA logits, eval mode, no autograd

Batch 8, 60 text tokens + 36 regions (all real), 3129 answers, vocab 28996. Runs --warmup steps,
then times --steps steps and prints the median:
    step_seconds=<median> examples_per_s=<batch/median>

These machines export OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE; PyTorch is at its best with
both unset for this command only:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/reference/torch_bench.py --mode train

Debian's python3-torch calls whatever libblas.so.3 the alternatives system selects (the reference
BLAS of libblas3 is about 50x slower). With --blas openmp (default) the script re-executes itself
with Debian's OpenMP build of OpenBLAS (package libopenblas0-openmp) first on LD_LIBRARY_PATH: it
shares torch's OpenMP thread pool, whereas the pthread build (libopenblas0-pthread) spins its own
threads against torch's and runs 2-6x slower. --blas system keeps the selected library.
"""

import argparse
import os
import statistics
import sys
import time

OPENMP_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


def make_batch(torch, uniter_ref, gen, c, batch, lt, nr):
    ids = torch.randint(1000, c["vocab_size"], (batch, lt), generator=gen)
    ids[:, 0], ids[:, -1] = uniter_ref.CLS, uniter_ref.SEP
    feat = torch.relu(torch.randn(batch, nr, c["img_dim"], generator=gen) * 2)
    xy = torch.rand(batch, nr, 2, 2, generator=gen).sort(dim=-1).values  # [x1,x2], [y1,y2]
    wh = xy[..., 1] - xy[..., 0]
    pos = torch.cat([xy[..., 0], xy[..., 1], wh, wh.prod(-1, keepdim=True)], dim=-1)
    targets = (torch.rand(batch, c["num_answers"], generator=gen) < 0.002).float()
    return dict(input_ids=ids, txt_mask=torch.ones(batch, lt, dtype=torch.long), img_feat=feat,
                img_pos=pos, img_mask=torch.ones(batch, nr, dtype=torch.long)), targets


def adamw(torch, model):
    """ORIG train_vqa.py: no weight decay on names containing 'bias', 'LayerNorm.bias' or 'LayerNorm.weight'."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if "bias" in name or "LayerNorm.weight" in name else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=8e-5, betas=(0.9, 0.98), eps=1e-6)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["train", "forward"], default="train")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lt", type=int, default=60)
    p.add_argument("--nr", type=int, default=36)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--blas", choices=["openmp", "system"], default="openmp")
    a = p.parse_args()
    lib_path = os.environ.get("LD_LIBRARY_PATH", "")
    if a.blas == "openmp" and OPENMP_BLAS_DIR not in lib_path.split(":"):
        if not os.path.exists(os.path.join(OPENMP_BLAS_DIR, "libblas.so.3")):
            sys.exit(f"{OPENMP_BLAS_DIR}/libblas.so.3 missing: apt-get install libopenblas0-openmp, or use --blas system")
        os.environ["LD_LIBRARY_PATH"] = ":".join(x for x in [OPENMP_BLAS_DIR, lib_path] if x)
        os.execv(sys.executable, [sys.executable] + sys.argv)
    # OpenBLAS (Debian's torch has BLAS_INFO=generic and uses libblas.so.3) reads this at load time.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import uniter_ref

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = uniter_ref.make_config("base")
    c["num_hidden_layers"] = a.layers
    model = uniter_ref.Uniter(c, pretraining_heads=False)
    model.init_weights(c["initializer_range"], perturbed=False)
    inputs, targets = make_batch(torch, uniter_ref, torch.Generator().manual_seed(1), c, a.batch, a.lt, a.nr)

    if a.mode == "train":
        model.train()
        opt = adamw(torch, model)

        def step():
            pooled = model.uniter.pooler(model.uniter(**inputs))
            loss = uniter_ref.vqa_bce_loss(model.vqa_output(pooled), targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
            opt.step()
            return loss.item()
    else:
        model.eval()

        @torch.no_grad()
        def step():
            pooled = model.uniter.pooler(model.uniter(**inputs))
            return torch.sigmoid(model.vqa_output(pooled)).sum().item()

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} mode={a.mode} batch={a.batch} "
          f"lt={a.lt} nr={a.nr} layers={a.layers} steps={a.steps} "
          f"min={min(times):.4f} max={max(times):.4f} "
          f"blas={a.blas} OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}", file=sys.stderr)
    print(f"step_seconds={med:.4f} examples_per_s={a.batch / med:.2f}")


if __name__ == "__main__":
    main()
