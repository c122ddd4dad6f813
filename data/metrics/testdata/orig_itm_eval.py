#!/usr/bin/python3
"""ORIG UNITER's itm_eval (utils/itm_eval.py) with numpy in place of torch: torch.topk(10) is a stable descending
argsort cut to 10 (ties keep the lower index first, as topk returns them). Reads
{"scores": [[...] per caption], "txt_ids", "img_ids", "txt2img", "img2txts"} from stdin, prints the eval_log JSON:

    /usr/bin/python3 orig_itm_eval.py < input.json
"""
import json
import sys

import numpy as np


def topk(a, k, dim):
    order = np.argsort(-a, axis=dim, kind="stable")
    return order[:, :k] if dim == 1 else order[:k, :]


def itm_eval(score_matrix, txt_ids, img_ids, txt2img, img2txts):
    # image retrieval
    img2j = {i: j for j, i in enumerate(img_ids)}
    rank_txt = topk(score_matrix, 10, 1)
    gt_img_j = np.array([img2j[txt2img[txt_id]] for txt_id in txt_ids])[:, None]
    rank = np.nonzero(rank_txt == gt_img_j)[1]
    if rank.size:
        ir_r1 = (rank < 1).sum() / len(txt_ids)
        ir_r5 = (rank < 5).sum() / len(txt_ids)
        ir_r10 = (rank < 10).sum() / len(txt_ids)
    else:
        ir_r1, ir_r5, ir_r10 = 0, 0, 0

    # text retrieval
    txt2i = {t: i for i, t in enumerate(txt_ids)}
    rank_img = topk(score_matrix, 10, 0)
    tr_r1, tr_r5, tr_r10 = 0, 0, 0
    for j, img_id in enumerate(img_ids):
        gt_is = [txt2i[t] for t in img2txts[img_id]]
        ranks = [np.nonzero(rank_img[:, j] == i)[0] for i in gt_is]
        rank = min([10] + [r.item() for r in ranks if r.size])
        if rank < 1:
            tr_r1 += 1
        if rank < 5:
            tr_r5 += 1
        if rank < 10:
            tr_r10 += 1
    tr_r1 /= len(img_ids)
    tr_r5 /= len(img_ids)
    tr_r10 /= len(img_ids)

    tr_mean = (tr_r1 + tr_r5 + tr_r10) / 3
    ir_mean = (ir_r1 + ir_r5 + ir_r10) / 3
    r_mean = (tr_mean + ir_mean) / 2
    return {'txt_r1': tr_r1, 'txt_r5': tr_r5, 'txt_r10': tr_r10, 'txt_r_mean': tr_mean,
            'img_r1': ir_r1, 'img_r5': ir_r5, 'img_r10': ir_r10, 'img_r_mean': ir_mean, 'r_mean': r_mean}


inp = json.load(sys.stdin)
out = itm_eval(np.array(inp["scores"], dtype=np.float32), inp["txt_ids"], inp["img_ids"], inp["txt2img"],
               inp["img2txts"])
json.dump({k: float(v) for k, v in out.items()}, sys.stdout)
