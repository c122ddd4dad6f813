#!/usr/bin/python3
"""Writes the small checkpoint files used by data/torchckpt's tests into data/torchckpt/testdata/.

Run from the repository root with Debian python3-torch / python3-numpy:
    /usr/bin/python3 tools/reference/make_torchckpt_testdata.py
The values are chosen so that the Go test can state them exactly (small integers and halves).
"""

import argparse
import collections
import json
import os
import struct

import numpy as np
import torch


def tensors():
    """The reference contents; data/torchckpt/torchckpt_test.go restates these values."""
    base = torch.arange(20, dtype=torch.float32)
    sd = collections.OrderedDict()
    sd["f32"] = torch.arange(6, dtype=torch.float32).view(2, 3)
    sd["f16"] = torch.tensor([0.5, -1.5, 65504.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([[1.0, -2.0], [0.25, 3.0]], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([1.25], dtype=torch.float64)
    sd["i64"] = torch.tensor([-3, 7], dtype=torch.int64)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["base"] = base
    sd["view"] = base[5:11].view(2, 3)  # shares base's storage, storage offset 5
    sd["transposed"] = torch.arange(12, dtype=torch.float32).view(3, 4).t()  # strides (1, 4)
    return sd


def write_safetensors(path, named):
    """Minimal safetensors writer (no safetensors package on Debian): header JSON + raw LE bytes."""
    codes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in named.items():
        raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 \
            else t.contiguous().numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="data/torchckpt/testdata")
    out = p.parse_args().out
    os.makedirs(out, exist_ok=True)
    sd = tensors()
    torch.save(sd, os.path.join(out, "zip.pt"))
    torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
    small = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.5])}
    # MMF-style container: the state dict under "model" next to non-tensor training state.
    torch.save({"model": small, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]},
                "best_metric_value": np.float64(0.5), "num_updates": 10},
               os.path.join(out, "mmf_container.pt"))
    torch.save({"w": torch.tensor([1.0]), "step": 3}, os.path.join(out, "non_tensor.pt"))
    torch.save([torch.tensor([1.0])], os.path.join(out, "list.pt"))
    torch.save({"p": torch.nn.Parameter(torch.tensor([1.0, 2.0]))}, os.path.join(out, "parameter.pt"))
    torch.save({"c": torch.zeros(2, dtype=torch.complex64)}, os.path.join(out, "complex.pt"))
    write_safetensors(os.path.join(out, "small.safetensors"),
                      {"f32": sd["f32"], "f16": sd["f16"], "bf16": sd["bf16"], "i64": sd["i64"]})
    np.savez(os.path.join(out, "small.npz"), f32=sd["f32"].numpy(), f16=sd["f16"].numpy(),
             i64=sd["i64"].numpy(), fortran=np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
