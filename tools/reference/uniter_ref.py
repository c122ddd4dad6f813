#!/usr/bin/python3
"""PyTorch reference implementation of UNITER with ORIG (ChenRocks/UNITER) semantics.

Padded layout (text [B,Lt] then regions [B,Nr]) with the computations of ORIG's model/model.py, model/layer.py,
model/pretrain.py, model/vqa.py and model/ot.py; see testdata/fixtures/README.md for the fixture format. Needs Debian python3-torch and python3-numpy
(run with /usr/bin/python3).

Commands:
  expect  DIR [--out FILE]   config.json + model.pt + inputs.npz -> expected.npz (default DIR/expected.npz)
  compare DIR                recompute the outputs and print max|ours - DIR/expected.npz| per array
  generate --out DIR [--config tiny|base] [--seed N] [--std S] [--vocab V] [--answers A] [--fp16]
           [--orig-init] [--batch B] [--lt Lt] [--nr Nr]
                             write a new fixture directory (config.json, fixture.json, model.pt,
                             inputs.npz, expected.npz)
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

IMG_DIM = 2048
IMG_LABEL_DIM = 1601
CLS, SEP, MASK = 101, 102, 103
FIRST_WORD_ID = 1000  # word ids of generated inputs are drawn from [FIRST_WORD_ID, V)

CONFIGS = {
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                 vocab_size=30522, num_answers=16),
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                 vocab_size=28996, num_answers=3129),
}


def make_config(name, vocab=None, answers=None, std=0.02):
    """Returns the config.json dict (ORIG uniter-base.json keys + img_dim, img_label_dim, num_answers)."""
    c = dict(CONFIGS[name])
    if vocab:
        c["vocab_size"] = vocab
    if answers:
        c["num_answers"] = answers
    c.update(hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
             max_position_embeddings=512, type_vocab_size=2, initializer_range=std,
             img_dim=IMG_DIM, img_label_dim=IMG_LABEL_DIM)
    return dict(sorted(c.items()))


def gelu(x):
    """Exact GELU as written in ORIG model/layer.py."""
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class GELU(nn.Module):
    def forward(self, x):
        return gelu(x)


def layer_norm(n):
    return nn.LayerNorm(n, eps=1e-12)


# ----------------------------------------------------------------------------------------------
# Backbone (module names follow ORIG so that state_dict keys match the released checkpoints).

class TextEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=0)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = layer_norm(c["hidden_size"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1), device=input_ids.device).unsqueeze(0)
        types = torch.zeros_like(input_ids)
        e = self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(e))


class ImageEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.img_linear = nn.Linear(c["img_dim"], h)
        self.img_layer_norm = layer_norm(h)
        self.pos_layer_norm = layer_norm(h)
        self.pos_linear = nn.Linear(7, h)
        self.mask_embedding = nn.Embedding(2, c["img_dim"], padding_idx=0)
        self.LayerNorm = layer_norm(h)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, img_feat, img_pos, type_embeddings, img_masks=None):
        if img_masks is not None:
            self.mask_embedding.weight.data[0, :].fill_(0)
            img_feat = img_feat + self.mask_embedding(img_masks.long())
        im = self.img_layer_norm(self.img_linear(img_feat))
        pos = self.pos_layer_norm(self.pos_linear(img_pos))
        return self.dropout(self.LayerNorm(im + pos + type_embeddings))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.head_dim = h // self.heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def split(self, x):
        b, l, _ = x.size()
        return x.view(b, l, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + ext_mask
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(self.dropout(probs), v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size(0), ctx.size(1), -1), probs


class DenseLN(nn.Module):
    """ORIG BertSelfOutput / BertOutput: LN(dropout(dense(x)) + residual)."""

    def __init__(self, n_in, n_out, c):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = layer_norm(n_out)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLN(c["hidden_size"], c["hidden_size"], c)

    def forward(self, x, ext_mask):
        ctx, probs = self.self(x, ext_mask)
        return self.output(ctx, x), probs


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c["intermediate_size"], c["hidden_size"], c)

    def forward(self, x, ext_mask):
        x1, probs = self.attention(x, ext_mask)
        return self.output(self.intermediate(x1), x1), probs


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, seq):
        return torch.tanh(self.dense(seq[:, 0]))


class UniterModel(nn.Module):
    """ORIG UniterModel on the padded layout: output [B, Lt+Nr, H]."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = TextEmbeddings(c)
        self.img_embeddings = ImageEmbeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids, txt_mask, img_feat, img_pos, img_mask, mrm_mask=None, trace=False):
        """Returns the last layer, or (last layer, hidden_states list, attn_probs list) with trace."""
        t = self.embeddings(input_ids)
        img_type = self.embeddings.token_type_embeddings(torch.ones_like(img_feat[:, :, 0].long()))
        v = self.img_embeddings(img_feat, img_pos, img_type, mrm_mask)
        x = torch.cat([t, v], dim=1)
        mask = torch.cat([txt_mask, img_mask], dim=1).unsqueeze(1).unsqueeze(2).to(x.dtype)
        ext = (1.0 - mask) * -10000.0
        hidden, probs = [x], []
        for layer in self.encoder.layer:
            x, p = layer(x, ext)
            hidden.append(x)
            probs.append(p)
        if trace:
            return x, hidden, probs
        return x


# ----------------------------------------------------------------------------------------------
# Heads (ORIG UniterForPretraining + UniterForVisualQuestionAnswering's vqa_output).

class PredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = layer_norm(c["hidden_size"])

    def forward(self, x):
        return self.LayerNorm(gelu(self.dense(x)))


class LMPredictionHead(nn.Module):
    def __init__(self, c, word_weight):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(word_weight.size(0)))
        self.transform = PredictionHeadTransform(c)
        self.decoder = nn.Linear(word_weight.size(1), word_weight.size(0), bias=False)
        self.decoder.weight = word_weight  # tied

    def forward(self, x):
        return self.decoder(self.transform(x)) + self.bias


class OnlyMLMHead(nn.Module):
    def __init__(self, c, word_weight):
        super().__init__()
        self.predictions = LMPredictionHead(c, word_weight)

    def forward(self, x):
        return self.predictions(x)


class RegionFeatureRegression(nn.Module):
    def __init__(self, c, img_linear_weight):
        super().__init__()
        h = c["hidden_size"]
        self.weight = img_linear_weight  # tied, [H, 2048], used as h @ W
        self.bias = nn.Parameter(torch.zeros(c["img_dim"]))
        self.net = nn.Sequential(nn.Linear(h, h), GELU(), layer_norm(h))

    def forward(self, x):
        return F.linear(self.net(x), self.weight.t(), self.bias)


class RegionClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.net = nn.Sequential(nn.Linear(h, h), GELU(), layer_norm(h), nn.Linear(h, c["img_label_dim"]))

    def forward(self, x):
        return self.net(x)


def vqa_head(c):
    h = c["hidden_size"]
    return nn.Sequential(nn.Linear(h, 2 * h), GELU(), layer_norm(2 * h), nn.Linear(2 * h, c["num_answers"]))


class Uniter(nn.Module):
    """Backbone + all ORIG pretraining heads + VQA head (the fixture's model.pt keys)."""

    def __init__(self, c, pretraining_heads=True):
        super().__init__()
        self.config = c
        self.uniter = UniterModel(c)
        if pretraining_heads:
            self.cls = OnlyMLMHead(c, self.uniter.embeddings.word_embeddings.weight)
            self.feat_regress = RegionFeatureRegression(c, self.uniter.img_embeddings.img_linear.weight)
            self.region_classifier = RegionClassification(c)
            self.itm_output = nn.Linear(c["hidden_size"], 2)
        self.vqa_output = vqa_head(c)

    def init_weights(self, std, perturbed):
        """ORIG init_weights (N(0,std) weights, zero bias, LN 1/0); perturbed: biases ~ N(0,std), LN gain 1+N(0,std)."""
        ln_gains = {id(m.weight) for m in self.modules() if isinstance(m, nn.LayerNorm)}
        for name, p in self.named_parameters():  # tied parameters are visited once
            with torch.no_grad():
                if name.endswith("weight") and id(p) not in ln_gains:
                    p.normal_(0.0, std)
                elif name.endswith("weight"):
                    p.fill_(1.0)
                    if perturbed:
                        p.add_(torch.randn_like(p) * std)
                else:  # any bias
                    p.zero_()
                    if perturbed:
                        p.normal_(0.0, std)
        with torch.no_grad():  # ORIG zeroes the padding row on every forward
            self.uniter.img_embeddings.mask_embedding.weight[0].fill_(0)

    def state_dict_untied(self, dtype):
        """state_dict with every key in its own contiguous storage (as ORIG's ModelSaver writes it)."""
        return {k: v.detach().to(dtype).clone().contiguous() for k, v in self.state_dict().items()}

    def load(self, sd):
        own = self.state_dict()
        missing = [k for k in own if k not in sd]
        extra = [k for k in sd if k not in own]
        if missing or extra:
            raise ValueError(f"state dict mismatch: missing {missing[:5]}, unexpected {extra[:5]}")
        self.load_state_dict({k: v.float() for k, v in sd.items()})


# ----------------------------------------------------------------------------------------------
# Optimal transport (ORIG model/ot.py) and losses.

def cost_matrix_cosine(x, y, eps=1e-5):
    x_norm = F.normalize(x, p=2, dim=-1, eps=eps)
    y_norm = F.normalize(y, p=2, dim=-1, eps=eps)
    return 1 - x_norm.matmul(y_norm.transpose(1, 2))


def batched_trace(x):
    b, m, n = x.size()
    mask = torch.eye(n, dtype=torch.bool, device=x.device).unsqueeze(0).expand_as(x)
    return x.masked_select(mask).contiguous().view(b, n).sum(dim=-1)


@torch.no_grad()
def ipot(C, x_len, x_pad, y_len, y_pad, joint_pad, beta, iteration, k):
    b, m, n = C.size()
    sigma = torch.ones(b, m, dtype=C.dtype, device=C.device) / x_len.unsqueeze(1)
    T = torch.ones(b, n, m, dtype=C.dtype, device=C.device)
    A = torch.exp(-C.transpose(1, 2) / beta)
    sigma.masked_fill_(x_pad, 0)
    joint_pad = joint_pad.transpose(1, 2)
    T.masked_fill_(joint_pad, 0)
    A.masked_fill_(joint_pad, 0)
    x_len = x_len.unsqueeze(1).unsqueeze(2)
    y_len = y_len.unsqueeze(1).unsqueeze(2)
    x_mask = (x_pad.to(C.dtype) * 1e4).unsqueeze(1)
    y_mask = (y_pad.to(C.dtype) * 1e4).unsqueeze(1)
    for _ in range(iteration):
        Q = A * T
        sigma = sigma.view(b, m, 1)
        for _ in range(k):
            delta = 1 / (y_len * Q.matmul(sigma).view(b, 1, n) + y_mask)
            sigma = 1 / (x_len * delta.matmul(Q) + x_mask)
        T = delta.view(b, n, 1) * Q * sigma
    T.masked_fill_(joint_pad, 0)
    return T


def optimal_transport_dist(txt_emb, img_emb, txt_pad, img_pad, beta=0.5, iteration=50, k=1):
    cost = cost_matrix_cosine(txt_emb, img_emb)
    joint_pad = txt_pad.unsqueeze(-1) | img_pad.unsqueeze(-2)
    cost.masked_fill_(joint_pad, 0)
    txt_len = (txt_pad.size(1) - txt_pad.sum(dim=1)).to(dtype=cost.dtype)
    img_len = (img_pad.size(1) - img_pad.sum(dim=1)).to(dtype=cost.dtype)
    T = ipot(cost.detach(), txt_len, txt_pad, img_len, img_pad, joint_pad, beta, iteration, k)
    return batched_trace(cost.matmul(T.detach()))


def vqa_bce_loss(logits, targets):
    """ORIG train_vqa.py: element-mean BCE x number of answers."""
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean() * targets.size(1)


# ----------------------------------------------------------------------------------------------
# Expected outputs.

def t64(a):
    return torch.from_numpy(np.asarray(a))


@torch.no_grad()
def compute_expected(model, inp):
    """All expected.npz arrays (README table) for inputs.npz dict `inp`, eval mode, fp32."""
    model.eval()
    ids, tm = t64(inp["input_ids"]), t64(inp["txt_mask"])
    feat, pos, im = t64(inp["img_feat"]), t64(inp["img_pos"]), t64(inp["img_mask"])
    lt = ids.size(1)
    out = {}

    # (a) plain forward
    seq, hidden, probs = model.uniter(ids, tm, feat, pos, im, trace=True)
    pooled = model.uniter.pooler(seq)
    out["hidden_states"] = torch.stack(hidden)
    out["seq"] = seq
    out["attn_probs"] = torch.stack(probs)
    out["pooled"] = pooled
    out["vqa_logits"] = model.vqa_output(pooled)
    out["itm_logits"] = model.itm_output(pooled)
    ot = optimal_transport_dist(seq[:, :lt].float(), seq[:, lt:].float(), tm == 0, im == 0)
    out["ot_dist"] = ot

    # (b) MLM
    labels = t64(inp["txt_labels"])
    mlm_seq = model.uniter(t64(inp["mlm_input_ids"]), tm, feat, pos, im)
    sel = labels != -1
    mlm_h = mlm_seq[:, :lt][sel.unsqueeze(-1).expand(-1, -1, mlm_seq.size(-1))].view(-1, mlm_seq.size(-1))
    out["mlm_seq"] = mlm_seq
    out["mlm_logits"] = model.cls(mlm_h)

    # (c) MRM
    mrm = t64(inp["mrm_mask"])
    mrm_seq = model.uniter(ids, tm, t64(inp["mrm_img_feat"]), pos, im, mrm_mask=mrm)
    msel = mrm.bool()
    mrm_h = mrm_seq[:, lt:][msel.unsqueeze(-1).expand(-1, -1, mrm_seq.size(-1))].view(-1, mrm_seq.size(-1))
    out["mrm_seq"] = mrm_seq
    out["mrfr_pred"] = model.feat_regress(mrm_h)
    out["mrc_logits"] = model.region_classifier(mrm_h)

    # losses
    itm_t = t64(inp["itm_targets"])
    out["vqa_loss"] = vqa_bce_loss(out["vqa_logits"], t64(inp["vqa_targets"]))
    out["itm_loss"] = F.cross_entropy(out["itm_logits"], itm_t, reduction="none").mean()
    pos_d, neg_d = ot.masked_select(itm_t == 1), ot.masked_select(itm_t == 0)
    out["ot_loss"] = (pos_d.sum() - neg_d.sum()) / (pos_d.size(0) + neg_d.size(0))
    out["itm_ot_loss"] = out["itm_loss"] + 0.1 * out["ot_loss"]
    out["mlm_loss"] = F.cross_entropy(out["mlm_logits"], labels[sel], reduction="none").mean()
    out["mrfr_loss"] = F.mse_loss(out["mrfr_pred"], t64(inp["feat_targets"]), reduction="none").mean()
    mrc_t = t64(inp["mrc_targets"])
    out["mrc_kl_loss"] = F.kl_div(F.log_softmax(out["mrc_logits"], dim=-1), mrc_t, reduction="none").mean()
    hard = torch.max(mrc_t[:, 1:], dim=-1)[1] + 1
    out["mrc_loss"] = F.cross_entropy(out["mrc_logits"], hard, ignore_index=0, reduction="none").mean()
    return {k: v.float().numpy() for k, v in out.items()}


def load_fixture(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    model = Uniter(c)
    model.load(torch.load(os.path.join(d, "model.pt"), map_location="cpu"))
    inp = dict(np.load(os.path.join(d, "inputs.npz")))
    return model, inp


# ----------------------------------------------------------------------------------------------
# Fixture generation.

def lengths(rng, b, lt, nr):
    """Example 0 full-length text, example 1 all regions, others padded in both."""
    tl = rng.integers(3, lt, size=b)  # [3, lt-1]
    nbb = rng.integers(2, nr, size=b)  # [2, nr-1]
    tl[0] = lt
    if b > 1:
        nbb[1] = nr
    return tl, nbb


def make_inputs(rng, b, lt, nr, vocab, answers):
    tl, nbb = lengths(rng, b, lt, nr)
    ids = np.zeros((b, lt), np.int64)
    txt_mask = np.zeros((b, lt), np.int64)
    img_feat = np.zeros((b, nr, IMG_DIM), np.float32)
    img_pos = np.zeros((b, nr, 7), np.float32)
    img_mask = np.zeros((b, nr), np.int64)
    soft = np.zeros((b, nr, IMG_LABEL_DIM), np.float32)
    mlm_ids = np.zeros((b, lt), np.int64)
    txt_labels = np.full((b, lt), -1, np.int64)
    mrm_mask = np.zeros((b, nr), np.int64)
    for i in range(b):
        n, r = tl[i], nbb[i]
        ids[i, 0], ids[i, n - 1] = CLS, SEP
        ids[i, 1:n - 1] = rng.integers(FIRST_WORD_ID, vocab, size=n - 2)
        txt_mask[i, :n] = 1
        img_feat[i, :r] = np.maximum(rng.standard_normal((r, IMG_DIM)) * 2.0, 0.0)
        xs = np.sort(rng.random((r, 2)), axis=1)
        ys = np.sort(rng.random((r, 2)), axis=1)
        w, h = xs[:, 1] - xs[:, 0], ys[:, 1] - ys[:, 0]
        img_pos[i, :r] = np.stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1], w, h, w * h], axis=1)
        img_mask[i, :r] = 1
        logits = rng.standard_normal((r, IMG_LABEL_DIM)) * 3.0
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        soft[i, :r] = e / e.sum(axis=1, keepdims=True)
        # MLM (ORIG data/mlm.py random_word): p=0.15, 80% [MASK] / 10% random / 10% kept; >= 1 per sentence.
        mlm_ids[i] = ids[i]
        words = list(range(1, n - 1))
        chosen = [t for t in words if rng.random() < 0.15] or [words[0]]
        for t in chosen:
            txt_labels[i, t] = ids[i, t]
            p = rng.random()
            if p < 0.8:
                mlm_ids[i, t] = MASK
            elif p < 0.9:
                mlm_ids[i, t] = rng.integers(FIRST_WORD_ID, vocab)
        # MRM (ORIG data/mrm.py): each real region with p=0.15, >= 1 per image.
        m = rng.random(r) < 0.15
        if not m.any():
            m[rng.integers(r)] = True
        mrm_mask[i, :r] = m
    vqa = np.zeros((b, answers), np.float32)
    for i in range(b):
        k = rng.integers(1, 4)
        vqa[i, rng.choice(answers, size=k, replace=False)] = rng.choice([0.3, 0.6, 0.9, 1.0], size=k)
    mrm_feat = img_feat * (1 - mrm_mask)[:, :, None].astype(np.float32)
    sel = mrm_mask == 1
    return dict(
        input_ids=ids, txt_mask=txt_mask, img_feat=img_feat, img_pos=img_pos, img_mask=img_mask,
        txt_lens=tl.astype(np.int64), num_bbs=nbb.astype(np.int64),
        mlm_input_ids=mlm_ids, txt_labels=txt_labels,
        mlm_pos=np.argwhere(txt_labels != -1).astype(np.int64),
        mrm_mask=mrm_mask, mrm_img_feat=mrm_feat,
        mrm_pos=np.argwhere(sel).astype(np.int64),
        feat_targets=img_feat[sel], img_soft_labels=soft, mrc_targets=soft[sel],
        vqa_targets=vqa, itm_targets=(np.arange(b) % 2 == 0).astype(np.int64),
    )


def generate(a):
    c = make_config(a.config, a.vocab, a.answers, a.std)
    torch.manual_seed(a.seed)
    model = Uniter(c)
    model.init_weights(a.std, perturbed=not a.orig_init)
    dtype = torch.float16 if a.fp16 else torch.float32
    sd = model.state_dict_untied(dtype)
    model.load(sd)  # expected values use the (possibly fp16-rounded) stored weights
    inp = make_inputs(np.random.default_rng(a.seed), a.batch, a.lt, a.nr, c["vocab_size"], c["num_answers"])
    exp = compute_expected(model, inp)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    meta = dict(config=a.config, seed=a.seed, fp16=a.fp16, batch=a.batch, lt=a.lt, nr=a.nr, std=a.std,
                perturbed_init=not a.orig_init, torch=torch.__version__,
                generator="tools/reference/uniter_ref.py")
    with open(os.path.join(a.out, "fixture.json"), "w") as f:
        json.dump(meta, f, indent=2)
    torch.save(sd, os.path.join(a.out, "model.pt"))
    np.savez(os.path.join(a.out, "inputs.npz"), **inp)
    np.savez(os.path.join(a.out, "expected.npz"), **exp)
    print(f"wrote {a.out}")


def compare(d):
    model, inp = load_fixture(d)
    ours = compute_expected(model, inp)
    ref = np.load(os.path.join(d, "expected.npz"))
    worst = 0.0
    if sorted(ref.files) != sorted(ours):
        raise SystemExit(f"array names differ: {sorted(ref.files)} vs {sorted(ours)}")
    for k in ref.files:
        if ref[k].shape != ours[k].shape:
            raise SystemExit(f"{k}: shape {ours[k].shape}, want {ref[k].shape}")
        d_abs = float(np.abs(ours[k] - ref[k]).max()) if ref[k].size else 0.0
        worst = max(worst, d_abs)
        print(f"{k:14s} max_abs_diff={d_abs:.3e} max_abs_ref={float(np.abs(ref[k]).max()):.3e}")
    print(f"worst={worst:.3e}")
    return worst


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("expect")
    e.add_argument("dir")
    e.add_argument("--out")
    cp = sub.add_parser("compare")
    cp.add_argument("dir")
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--std", type=float, default=0.02)
    g.add_argument("--vocab", type=int)
    g.add_argument("--answers", type=int)
    g.add_argument("--fp16", action="store_true")
    g.add_argument("--orig-init", action="store_true")
    g.add_argument("--batch", type=int, default=3)
    g.add_argument("--lt", type=int, default=12)
    g.add_argument("--nr", type=int, default=10)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("REF_THREADS", "2")))
    if a.cmd == "expect":
        model, inp = load_fixture(a.dir)
        np.savez(a.out or os.path.join(a.dir, "expected.npz"), **compute_expected(model, inp))
    elif a.cmd == "compare":
        compare(a.dir)
    else:
        generate(a)


if __name__ == "__main__":
    main(sys.argv[1:])
