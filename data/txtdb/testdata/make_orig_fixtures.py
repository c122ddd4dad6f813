#!/usr/bin/python3
"""Writes orig/, tiny txt_dbs and img_dbs of UNITER's downstream tasks in the layout ORIG's prepro.py and
DetectFeatLmdb use, with the reference Python stack (lmdb, msgpack, lz4.frame, numpy, msgpack_numpy) and
independently of the Go writers. Run from this directory with Debian's python:

    apt-get install -y python3-numpy python3-lmdb python3-msgpack python3-msgpack-numpy python3-lz4
    /usr/bin/python3 make_orig_fixtures.py [OUT_DIR]   # default: orig

Outputs (D=8 features, C=5 detector classes):
  txt/itm_flickr30k_test.db   image-text retrieval: 5 captions of 3 images, txt2img.json and img2txts.json
  txt/ve_dev.db               SNLI-VE: 3 hypotheses with VQA-style targets {labels: [k], scores: [1.0]}
                              (ORIG utils/misc.py VE_ENT2IDX: contradiction 0, entailment 1, neutral 2)
  txt/nlvr2_dev.db            NLVR2 as process_nlvr2 writes it: the annotation line plus input_ids, the image pair
                              img_fname and target 1/0 (None without a label); one example dropped as missing
  txt/refcoco_val.db          RefCOCO as process_referring_expressions writes it: one record per sentence plus
                              refs.json, images.json, annotations.json, categories.json
  img/flickr30k/              img_db feat_th0.2_max100_min10 (msgpack-numpy values) + nbb file
  img/nlvr2_dev/              img_db feat_th0.2_max100_min10_compressed (np.savez_compressed values) + nbb file
  img/re_coco_gt/feat_numbb100/   one region per ground-truth annotation, in images.json ann_ids order
  img/re_coco_det/feat_numbb100/  detector regions (conf_th -1, num_bb 100 in ORIG's RefCOCO configs)
The values are listed below; txtdb and dataset tests check them.
"""
import io
import json
import os
import shutil
import sys

import lmdb
import msgpack
import msgpack_numpy
import numpy as np
from lz4.frame import compress

OUT = sys.argv[1] if len(sys.argv) > 1 else "orig"
D, C = 8, 5
META = {"UNK": 100, "CLS": 101, "SEP": 102, "MASK": 103, "v_range": [106, 28996], "toker": "bert-base-cased",
        "tokenizer": "bert-base-cased"}


def write_lmdb(path, items):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    env = lmdb.open(path, map_size=1 << 24, lock=False)
    with env.begin(write=True) as txn:
        for k, v in items:
            txn.put(k.encode("utf-8"), v)
    env.close()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def write_txt_db(name, records, side, meta_extra):
    """records: [(key, dict)] stored as ORIG TxtLmdb does: compress(msgpack.dumps(value, use_bin_type=True))."""
    path = f"{OUT}/txt/{name}"
    write_lmdb(path, [(k, compress(msgpack.dumps(r, use_bin_type=True))) for k, r in records])
    write_json(f"{path}/meta.json", dict(META, **meta_extra))
    for fname, obj in side.items():
        write_json(f"{path}/{fname}.json", obj)


def detections(seed, boxes_px, w, h):
    """f16-exact features, ORIG norm_bb [x1,y1,x2,y2,w,h] (float16), conf and soft labels for pixel boxes."""
    rng = np.random.RandomState(seed)
    n = len(boxes_px)
    feat = (rng.randint(-64, 64, size=(n, D)) / 16.0).astype(np.float16)
    b = np.asarray(boxes_px, np.float64) / np.array([w, h, w, h])
    nb = np.concatenate([b, b[:, 2:4] - b[:, 0:2]], 1).astype(np.float16)
    cls = rng.randint(1, 9, size=(n, C)).astype(np.float32)
    cls = (cls / cls.sum(1, keepdims=True)).astype(np.float16)
    return {"features": feat, "norm_bb": nb, "conf": cls[:, 1:].max(1), "soft_labels": cls}


def write_img_db(name, lmdb_name, images, nbb=None, compressed=False):
    """images: [(key, dump)]; nbb: {key: boxes kept} written as ORIG's nbb file for thresholded LMDBs."""
    path = f"{OUT}/img/{name}"
    items = []
    for key, dump in images:
        if compressed:
            buf = io.BytesIO()
            np.savez_compressed(buf, **dump)
            items.append((key, buf.getvalue()))
        else:
            items.append((key, msgpack.packb(dump, default=msgpack_numpy.encode, use_bin_type=True)))
    write_lmdb(f"{path}/{lmdb_name}", items)
    if nbb is not None:
        write_json(f"{path}/nbb_th0.2_max100_min10.json", nbb)


def grid_boxes(n, w, h):
    """n distinct pixel boxes inside a w×h image."""
    return [[10 * i + 1, 5 * i + 2, 10 * i + 1 + w // 4, 5 * i + 2 + h // 3] for i in range(n)]


shutil.rmtree(OUT, ignore_errors=True)

# --- Flickr30k-like img_db shared by retrieval and SNLI-VE (msgpack-numpy values, nbb file).
flickr = [("flickr30k_000000001.npz", 5, 3, 500, 375), ("flickr30k_000000002.npz", 4, 4, 333, 500),
          ("flickr30k_000000003.npz", 6, 2, 640, 480)]
write_img_db("flickr30k", "feat_th0.2_max100_min10",
             [(k, detections(i + 1, grid_boxes(n, w, h), w, h)) for i, (k, n, _, w, h) in enumerate(flickr)],
             nbb={k: nbb for k, _, nbb, _, _ in flickr})

# --- Image-text retrieval (itm_flickr30k_*.db): captions with their image.
itm = [("100", "flickr30k_000000001.npz", [1037, 1697, 1110, 2710, 119]),
       ("101", "flickr30k_000000001.npz", [170, 1697, 119]),
       ("200", "flickr30k_000000002.npz", [1160, 6363, 1132, 1919, 1107, 170, 2754, 119]),
       ("201", "flickr30k_000000002.npz", [6363, 1919, 119]),
       ("300", "flickr30k_000000003.npz", [170, 1590, 1107, 170, 2626, 1402, 119])]
img2txts = {}
for k, img, _ in itm:
    img2txts.setdefault(img, []).append(k)
write_txt_db("itm_flickr30k_test.db",
             [(k, {"input_ids": ids, "img_fname": img, "raw": f"caption {k}"}) for k, img, ids in itm],
             {"id2len": {k: len(ids) for k, _, ids in itm}, "txt2img": {k: img for k, img, _ in itm},
              "img2txts": img2txts},
             {"annotations": ["flickr30k_test.jsonl"], "output": "itm_flickr30k_test.db"})

# --- SNLI-VE (ve_dev.db): the VQA record layout with 3 answers.
ve = [("2248275918.jpg#2r1c", "flickr30k_000000001.npz", [1103, 1697, 1110, 6417, 119], 0),
      ("2248275918.jpg#2r1e", "flickr30k_000000001.npz", [1103, 1697, 1110, 1280, 119], 1),
      ("3141613533.jpg#0r2n", "flickr30k_000000003.npz", [1103, 1590, 1110, 1240, 1106, 1301, 119], 2)]
write_txt_db("ve_dev.db",
             [(k, {"input_ids": ids, "img_fname": img, "target": {"labels": [lab], "scores": [1.0]}})
              for k, img, ids, lab in ve],
             {"id2len": {k: len(ids) for k, _, ids, _ in ve}, "txt2img": {k: img for k, img, _, _ in ve},
              "img2txts": {"flickr30k_000000001.npz": ["2248275918.jpg#2r1c", "2248275918.jpg#2r1e"],
                           "flickr30k_000000003.npz": ["3141613533.jpg#0r2n"]}},
             {"annotations": ["snli_ve_dev.jsonl"], "output": "ve_dev.db"})

# --- NLVR2 (nlvr2_dev.db) exactly as prepro.py process_nlvr2 builds it from the annotation lines.
nlvr2_lines = [
    {"identifier": "dev-850-0-0", "sentence": "There are two dogs.", "label": "True",
     "ids": [1247, 1132, 1160, 6363, 119]},
    {"identifier": "dev-850-0-1", "sentence": "One image shows exactly one dog.", "label": "False",
     "ids": [1448, 3077, 2196, 2839, 1141, 3676, 119]},
    {"identifier": "dev-851-2-0", "sentence": "The left image has a cat.", "ids": [1109, 1286, 3077, 1144, 170, 5855, 119]},
    {"identifier": "dev-999-1-0", "sentence": "Missing image.", "label": "True", "ids": [15852, 3077, 119]},
]
missing = {"nlvr2_dev-999-1-img1.npz"}
records, id2len, txt2img = [], {}, {}
for ex in nlvr2_lines:
    id_ = ex["identifier"]
    img_id = "-".join(id_.split("-")[:-1])
    img_fname = (f"nlvr2_{img_id}-img0.npz", f"nlvr2_{img_id}-img1.npz")
    if img_fname[0] in missing or img_fname[1] in missing:
        continue
    input_ids = ex.pop("ids")
    target = (1 if ex["label"] == "True" else 0) if "label" in ex else None
    txt2img[id_] = img_fname
    id2len[id_] = len(input_ids)
    ex.update({"input_ids": input_ids, "img_fname": img_fname, "target": target})
    records.append((id_, ex))
write_txt_db("nlvr2_dev.db", records, {"id2len": id2len, "txt2img": txt2img},
             {"annotations": ["/ann/dev.json"], "missing_imgs": "/ann/missing_nlvr2_imgs.json",
              "output": "/txt_db/nlvr2_dev.db", "task": "nlvr"})
nlvr2_imgs = [("nlvr2_dev-850-0-img0.npz", 4, 3), ("nlvr2_dev-850-0-img1.npz", 5, 5),
              ("nlvr2_dev-851-2-img0.npz", 3, 3), ("nlvr2_dev-851-2-img1.npz", 6, 4),
              ("nlvr2_dev-999-1-img0.npz", 3, 3)]
write_img_db("nlvr2_dev", "feat_th0.2_max100_min10_compressed",
             [(k, detections(20 + i, grid_boxes(n, 400, 300), 400, 300)) for i, (k, n, _) in enumerate(nlvr2_imgs)],
             nbb={k: nbb for k, _, nbb in nlvr2_imgs}, compressed=True)

# --- RefCOCO (refcoco_val.db) as process_referring_expressions builds it.
coco_images = [{"id": 42, "file_name": "COCO_train2014_000000000042.jpg", "height": 480, "width": 640},
               {"id": 73, "file_name": "COCO_train2014_000000000073.jpg", "height": 375, "width": 500}]
coco_anns = [  # COCO [x, y, w, h] boxes
    {"id": 1001, "image_id": 42, "bbox": [10.0, 20.0, 100.0, 200.0], "area": 20000.0, "category_id": 1, "iscrowd": 0},
    {"id": 1002, "image_id": 42, "bbox": [300.5, 40.25, 120.0, 90.0], "area": 10800.0, "category_id": 18, "iscrowd": 0},
    {"id": 1003, "image_id": 42, "bbox": [400.0, 300.0, 200.0, 150.0], "area": 30000.0, "category_id": 1, "iscrowd": 0},
    {"id": 2001, "image_id": 73, "bbox": [50.0, 60.0, 150.0, 100.0], "area": 15000.0, "category_id": 3, "iscrowd": 0},
    {"id": 2002, "image_id": 73, "bbox": [250.0, 100.0, 200.0, 250.0], "area": 50000.0, "category_id": 1, "iscrowd": 0},
]
categories = [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 3, "name": "car", "supercategory": "vehicle"},
              {"id": 18, "name": "dog", "supercategory": "animal"}]
iid_to_ann_ids = {"42": [1002, 1001, 1003], "73": [2001, 2002]}  # the order of the BUTD gt features
refs = [
    {"ref_id": 7, "ann_id": 1001, "image_id": 42, "split": "val", "category_id": 1, "sent_ids": [70, 71],
     "file_name": "COCO_train2014_000000000042_1001.jpg",
     "sentences": [{"sent_id": 70, "sent": "man on the left", "raw": "man on the left", "tokens": [], "ids": [1299, 1113, 1103, 1286]},
                   {"sent_id": 71, "sent": "left guy", "raw": "left guy", "tokens": [], "ids": [1286, 3837]}]},
    {"ref_id": 8, "ann_id": 1002, "image_id": 42, "split": "val", "category_id": 18, "sent_ids": [80],
     "file_name": "COCO_train2014_000000000042_1002.jpg",
     "sentences": [{"sent_id": 80, "sent": "brown dog", "raw": "brown dog", "tokens": [], "ids": [3058, 3676]}]},
    {"ref_id": 9, "ann_id": 2002, "image_id": 73, "split": "val", "category_id": 1, "sent_ids": [90],
     "file_name": "COCO_train2014_000000000073_2002.jpg",
     "sentences": [{"sent_id": 90, "sent": "person right", "raw": "person right", "tokens": [], "ids": [1825, 1268]}]},
    {"ref_id": 10, "ann_id": 2001, "image_id": 73, "split": "train", "category_id": 3, "sent_ids": [100],
     "file_name": "COCO_train2014_000000000073_2001.jpg",
     "sentences": [{"sent_id": 100, "sent": "car", "raw": "car", "tokens": [], "ids": [1610]}]},
]
split = "val"
image_set = {r["image_id"] for r in refs if r["split"] == split}
images = [{"id": im["id"], "file_name": im["file_name"], "ann_ids": iid_to_ann_ids[str(im["id"])],
           "height": im["height"], "width": im["width"]} for im in coco_images if im["id"] in image_set]
annotations = [{k: a[k] for k in ["id", "area", "bbox", "image_id", "category_id", "iscrowd"]}
               for a in coco_anns if a["image_id"] in image_set]
Anns = {a["id"]: a for a in annotations}
refs_split = [r for r in refs if r["split"] == split]
records, id2len = [], {}
for ref in refs_split:
    img_fname = f"visual_grounding_coco_gt_{int(ref['image_id']):012}.npz"
    for sent in ref["sentences"]:
        input_ids = sent["ids"]
        id2len[str(sent["sent_id"])] = len(input_ids)
        records.append((str(sent["sent_id"]), {
            "sent_id": sent["sent_id"], "sent": sent["sent"], "ref_id": ref["ref_id"], "ann_id": ref["ann_id"],
            "image_id": ref["image_id"], "bbox": Anns[ref["ann_id"]]["bbox"], "input_ids": input_ids,
            "img_fname": img_fname}))
for ref in refs_split:
    for sent in ref["sentences"]:
        del sent["ids"]
write_txt_db("refcoco_val.db", records,
             {"id2len": id2len, "images": images, "annotations": annotations, "categories": categories,
              "refs": refs_split},
             {"annotations": ["/ann/refcoco/refs(unc).p", "/ann/refcoco/instances.json",
                              "/ann/iid2bb_id/iid_to_ann_ids.json"], "missing_imgs": None,
              "output": "/txt_db/refcoco_val.db", "task": "re"})


def xyxy(b):
    return [b[0], b[1], b[0] + b[2], b[1] + b[3]]


gt, det = [], []
for im in coco_images:
    w, h = im["width"], im["height"]
    boxes = [xyxy(Anns[a]["bbox"]) for a in iid_to_ann_ids[str(im["id"])]]
    gt.append((f"visual_grounding_coco_gt_{im['id']:012}.npz", detections(40 + im["id"], boxes, w, h)))
    # detections: the gt boxes shifted by a few pixels, in another order, plus a background box
    shifted = [[b[0] + 4, b[1] - 3, b[2] + 6, b[3] + 2] for b in reversed(boxes)] + [[0, 0, w / 2, h / 2]]
    det.append((f"visual_grounding_det_coco_{im['id']:012}.npz", detections(60 + im["id"], shifted, w, h)))
write_img_db("re_coco_gt", "feat_numbb100", gt)
write_img_db("re_coco_det", "feat_numbb100", det)
