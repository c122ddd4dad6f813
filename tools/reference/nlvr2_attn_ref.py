#!/usr/bin/python3
"""Writes the parity fixture of the NLVR2 paired-attn head (ORIG model/nlvr2.py UniterForNlvr2PairedAttn) with
PyTorch's own modules: nn.MultiheadAttention (ORIG model/attention.py is a copy of it), ORIG's AttentionPool and the
head's forward after the backbone, in evaluation mode.

Usage: /usr/bin/python3 tools/reference/nlvr2_attn_ref.py OUT.npz
Needs Debian python3-torch and python3-numpy. The archive holds the head's parameters under their ORIG keys
(attn1.*, attn2.*, fc.0.*, attn_pool.fc.0.*, nlvr2_output.*), the inputs "seq" [2B,L,H] (last-layer states, rows 2i
and 2i+1 the two images of example i) and "attn_mask" [2B,L] (1 = real), and the output "logits" [B,2].
"""

import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

H, HEADS, PAIRS, L = 64, 4, 3, 9


class AttentionPool(nn.Module):
    """ORIG model/nlvr2.py AttentionPool, verbatim."""

    def __init__(self, hidden_size, drop=0.0):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(hidden_size, 1), nn.ReLU())
        self.dropout = nn.Dropout(drop)

    def forward(self, input_, mask=None):
        score = self.fc(input_).squeeze(-1)
        if mask is not None:
            mask = mask.to(dtype=input_.dtype) * -1e4
            score = score + mask
        norm_score = self.dropout(F.softmax(score, dim=1))
        output = norm_score.unsqueeze(1).matmul(input_).squeeze(1)
        return output


class PairedAttnHead(nn.Module):
    """The modules of ORIG UniterForNlvr2PairedAttn after the backbone, under the same attribute names."""

    def __init__(self):
        super().__init__()
        self.attn1 = nn.MultiheadAttention(H, HEADS, 0.1)
        self.attn2 = nn.MultiheadAttention(H, HEADS, 0.1)
        self.fc = nn.Sequential(nn.Linear(2 * H, H), nn.ReLU(), nn.Dropout(0.1))
        self.attn_pool = AttentionPool(H, 0.1)
        self.nlvr2_output = nn.Linear(2 * H, 2)

    def forward(self, sequence_output, attn_masks):
        # ORIG UniterForNlvr2PairedAttn.forward from "separate left image and right image" on, verbatim.
        bs, tl, d = sequence_output.size()
        left_out, right_out = sequence_output.contiguous().view(bs // 2, tl * 2, d).chunk(2, dim=1)
        mask = attn_masks == 0
        left_mask, right_mask = mask.contiguous().view(bs // 2, tl * 2).chunk(2, dim=1)
        left_out = left_out.transpose(0, 1)
        right_out = right_out.transpose(0, 1)
        l2r_attn, _ = self.attn1(left_out, right_out, right_out, key_padding_mask=right_mask)
        r2l_attn, _ = self.attn2(right_out, left_out, left_out, key_padding_mask=left_mask)
        left_out = self.fc(torch.cat([l2r_attn, left_out], dim=-1)).transpose(0, 1)
        right_out = self.fc(torch.cat([r2l_attn, right_out], dim=-1)).transpose(0, 1)
        left_out = self.attn_pool(left_out, left_mask)
        right_out = self.attn_pool(right_out, right_mask)
        return self.nlvr2_output(torch.cat([left_out, right_out], dim=-1))


def main():
    torch.manual_seed(14)
    head = PairedAttnHead().eval()
    with torch.no_grad():
        for name, p in head.named_parameters():
            if name.endswith("bias"):  # nonzero biases, so that a dropped or misplaced bias shows
                p.normal_(0, 0.1)
            elif name != "attn1.in_proj_weight" and name != "attn2.in_proj_weight":
                p.normal_(0, 0.2)
    seq = torch.randn(2 * PAIRS, L, H)
    lengths = [9, 6, 4, 9, 7, 3]  # real positions per row; the rest is padding with garbage states
    attn_mask = torch.zeros(2 * PAIRS, L)
    for i, n in enumerate(lengths):
        attn_mask[i, :n] = 1
    with torch.no_grad():
        logits = head(seq, attn_mask)
    arrays = {k: v.detach().numpy().astype(np.float32) for k, v in head.state_dict().items()}
    arrays.update(seq=seq.numpy(), attn_mask=attn_mask.numpy(), logits=logits.numpy())
    np.savez(sys.argv[1], **arrays)
    print(f"wrote {sys.argv[1]} with torch {torch.__version__}: logits {logits.numpy().tolist()}")


if __name__ == "__main__":
    main()
