#!/usr/bin/python3
"""Writes the feature-store fixtures of data/features with the reference Python stack (numpy, lmdb,
msgpack + msgpack_numpy), independently of the Go writers. Run from this directory with Debian's python:

    apt-get install -y python3-numpy python3-lmdb python3-msgpack python3-msgpack-numpy
    /usr/bin/python3 make_fixtures.py

Outputs (tiny: D=8 features, C=5 classes, 3-4 boxes):
  img_db/                              an ORIG img_dir (DetectFeatLmdb layout):
    nbb_th0.2_max100_min10.json          name -> boxes kept (2 of the 3 boxes of coco_val2014_000000000042)
    feat_th0.2_max100_min10/             LMDB, msgpack(msgpack_numpy) float16 values
    feat_th0.2_max100_min10_compressed/  LMDB, np.savez_compressed values
  npz/                                 np.savez files: pixel boxes + f16 features, an ORIG-style norm_bb [N,6] dump,
                                       and a float32 dump with a 7-column norm_bb and no class probabilities
  features.tsv                         bottom-up-attention TSV (base64 float32), second line with a cls_prob column
  expected.json                        the values a reader must return, per store and image id
"""
import base64
import io
import json
import os
import shutil

import lmdb
import msgpack
import msgpack_numpy
import numpy as np

D, C = 8, 5


def image(seed, n, w, h):
    """Deterministic detections: f16-exact features, pixel boxes inside the image, class rows summing to 1."""
    rng = np.random.RandomState(seed)
    feat = (rng.randint(-64, 64, size=(n, D)) / 16.0).astype(np.float16)
    x1 = rng.randint(0, w // 2, size=n)
    y1 = rng.randint(0, h // 2, size=n)
    x2 = x1 + rng.randint(1, w // 2, size=n)
    y2 = y1 + rng.randint(1, h // 2, size=n)
    boxes = np.stack([x1, y1, x2, y2], 1).astype(np.float32)
    cls = rng.randint(1, 9, size=(n, C)).astype(np.float32)
    cls = (cls / cls.sum(1, keepdims=True)).astype(np.float16).astype(np.float32)
    return feat, boxes, cls


def norm_bb(boxes, w, h):
    nb = boxes / np.array([w, h, w, h], np.float32)
    wh = nb[:, 2:4] - nb[:, 0:2]
    return np.concatenate([nb, wh], 1).astype(np.float16)  # ORIG: [x1,y1,x2,y2,w,h], float16


def pos7(boxes, w, h, nb=None):
    """UNITER's 7-d position vector: ORIG appends w*h to norm_bb; from pixel boxes it is computed directly."""
    if nb is None:
        x1, y1, x2, y2 = (boxes / np.array([w, h, w, h], np.float64)).T
        nb = np.stack([x1, y1, x2, y2, x2 - x1, y2 - y1], 1)
    nb = nb.astype(np.float32)
    return np.concatenate([nb, nb[:, 4:5] * nb[:, 5:]], 1)


def record(img_id, w, h, feat, boxes, cls, nbb=None, nb=None):
    n = nbb if nbb is not None else len(feat)
    return {"pos7": pos7(boxes[:n], w, h, None if nb is None else nb[:n]).ravel().tolist(),"image_id": img_id, "width": w, "height": h, "num_boxes": n, "dim": D,
            "features": feat[:n].astype(np.float32).ravel().tolist(),
            "boxes": boxes[:n].astype(np.float32).ravel().tolist(),
            "num_classes": C if cls is not None else 0,
            "class_probs": cls[:n].astype(np.float32).ravel().tolist() if cls is not None else None}


def write_lmdb(path, items):
    shutil.rmtree(path, ignore_errors=True)
    env = lmdb.open(path, map_size=1 << 24, lock=False)
    with env.begin(write=True) as txn:
        for k, v in items:
            txn.put(k.encode("utf-8"), v)
    env.close()


expected = {"img_db": {}, "img_db_compressed": {}, "npz": {}, "tsv": {}}

# img_db (msgpack-numpy) as ORIG's convert_imgdir.py dumps it
shutil.rmtree("img_db", ignore_errors=True)
os.makedirs("img_db")
nbbs = {}
imgs = [("coco_val2014_000000000042", 3, 2, 640, 480, 1), ("coco_val2014_000000000073", 4, 4, 500, 375, 2)]
items = []
for img_id, n, nbb, w, h, seed in imgs:
    feat, boxes, cls = image(seed, n, w, h)
    nb = norm_bb(boxes, w, h)
    conf = cls[:, 1:].max(1).astype(np.float16)
    dump = {"features": feat, "norm_bb": nb, "conf": conf, "soft_labels": cls.astype(np.float16)}
    items.append((img_id + ".npz", msgpack.packb(dump, default=msgpack_numpy.encode, use_bin_type=True)))
    nbbs[img_id + ".npz"] = nbb
    expected["img_db"][img_id] = record(img_id, 1, 1, feat, nb[:, :4], cls, nbb, nb)
write_lmdb("img_db/feat_th0.2_max100_min10", items)

# compressed img_db: values are np.savez_compressed bytes
items = []
for img_id, n, w, h, seed in [("vg_000000001", 3, 800, 600, 3)]:
    feat, boxes, cls = image(seed, n, w, h)
    nb = norm_bb(boxes, w, h)
    buf = io.BytesIO()
    np.savez_compressed(buf, features=feat, norm_bb=nb, conf=cls[:, 1:].max(1).astype(np.float16),
                        soft_labels=cls.astype(np.float16))
    items.append((img_id + ".npz", buf.getvalue()))
    nbbs[img_id + ".npz"] = n
    expected["img_db_compressed"][img_id] = record(img_id, 1, 1, feat, nb[:, :4], cls, nb=nb)
write_lmdb("img_db/feat_th0.2_max100_min10_compressed", items)
with open("img_db/nbb_th0.2_max100_min10.json", "w") as f:
    json.dump(nbbs, f, sort_keys=True)

# directory of .npz files
shutil.rmtree("npz", ignore_errors=True)
os.makedirs("npz")
feat, boxes, cls = image(4, 3, 200, 400)
np.savez("npz/synthetic_000001.npz", features=feat, boxes=boxes, image_w=np.int64(200), image_h=np.int64(400),
         num_bbox=np.int64(3), cls_prob=cls)
expected["npz"]["synthetic_000001"] = record("synthetic_000001", 200, 400, feat, boxes, cls)
feat, boxes, cls = image(5, 2, 300, 300)
nb = norm_bb(boxes, 300, 300)
np.savez("npz/synthetic_000002.npz", features=feat, norm_bb=nb, conf=cls[:, 1:].max(1), soft_labels=cls)
expected["npz"]["synthetic_000002"] = record("synthetic_000002", 1, 1, feat, nb[:, :4], cls, nb=nb)
feat, boxes, _ = image(6, 2, 320, 240)
nb7 = norm_bb(boxes, 320, 240).astype(np.float32)
nb7 = np.concatenate([nb7, nb7[:, 4:5] * nb7[:, 5:]], 1)  # a 7-column norm_bb that already holds the area
np.savez("npz/synthetic_000003.npz", features=feat.astype(np.float32), norm_bb=nb7)
expected["npz"]["synthetic_000003"] = record("synthetic_000003", 1, 1, feat, nb7[:, :4], None, nb=nb7[:, :6])

# bottom-up-attention TSV (generate_tsv.py: base64 of float32 arrays)
def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32)).decode("ascii")


with open("features.tsv", "w") as f:
    for img_id, n, w, h, seed, with_cls in [("9", 3, 640, 480, 6, False), ("25", 2, 500, 333, 7, True)]:
        feat, boxes, cls = image(seed, n, w, h)
        fields = [img_id, str(w), str(h), str(n), b64(boxes), b64(feat)] + ([b64(cls)] if with_cls else [])
        f.write("\t".join(fields) + "\n")
        expected["tsv"][img_id] = record(img_id, w, h, feat, boxes, cls if with_cls else None)

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
