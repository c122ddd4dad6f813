"""Writes MMF-format region features with the real writers, for data/features' tests (python3 write_mmf_features.py DIR):

  DIR/trainval2014.lmdb/   an LMDB directory as MMF tools/scripts/features/lmdb_conversion.py --mode convert writes
                           it: one pickled dict per image under its feature path, and the pickled key list "keys";
  DIR/numeric.lmdb         the same images in a single LMDB file (lmdb.open(subdir=False)) keyed by the bare image id;
  DIR/npy/                 per-image <name>.npy features and <name>_info.npy info dicts (lmdb_conversion.py extract);
  DIR/bad.lmdb/            records that must be refused: no bbox, a truncated pickle, a non-dict;
  DIR/expected.json        the images as {key: {width, height, features, boxes, class_probs}}.
"""
import json
import os
import pickle
import sys

import lmdb
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(3)
images = {}
for image_id, n in [(9, 3), (42, 1), (100001, 5)]:
    name = "COCO_train2014_%012d" % image_id
    w, h = int(rng.integers(100, 700)), int(rng.integers(100, 700))
    x1 = rng.uniform(0, w / 2, n)
    y1 = rng.uniform(0, h / 2, n)
    bbox = np.stack([x1, y1, x1 + rng.uniform(1, w / 2, n), y1 + rng.uniform(1, h / 2, n)], 1).astype(np.float32)
    item = {
        "feature_path": name,
        "features": rng.normal(size=(n, 8)).astype(np.float32),
        "image_height": h,
        "image_width": np.int64(w),  # MMF's info files hold numpy scalars as often as ints
        "num_boxes": n,
        "objects": rng.integers(0, 1600, n),
        "cls_prob": rng.dirichlet(np.ones(5), n).astype(np.float32),
        "bbox": bbox,
    }
    images[name] = (image_id, item)


def write_lmdb(path, key_of, **kw):
    env = lmdb.open(path, map_size=1 << 24, **kw)
    keys = []
    with env.begin(write=True) as txn:
        for name, (image_id, item) in images.items():
            key = key_of(name, image_id).encode()
            keys.append(key)
            txn.put(key, pickle.dumps(item))
        txn.put(b"keys", pickle.dumps(keys))
    env.close()


write_lmdb(os.path.join(out, "trainval2014.lmdb"), lambda name, _: name)
write_lmdb(os.path.join(out, "numeric.lmdb"), lambda _, image_id: str(image_id), subdir=False)

os.makedirs(os.path.join(out, "npy", "train2014"))
for name, (_, item) in images.items():
    base = os.path.join(out, "npy", "train2014", name)
    np.save(base + ".npy", item["features"])
    info = {k: item[k] for k in ("bbox", "num_boxes", "image_height", "image_width", "objects", "cls_prob")}
    info["image_id"] = name
    np.save(base + "_info.npy", info)

env = lmdb.open(os.path.join(out, "bad.lmdb"), map_size=1 << 24)
with env.begin(write=True) as txn:
    no_bbox = dict(images["COCO_train2014_000000000042"][1])
    del no_bbox["bbox"]
    txn.put(b"no_bbox", pickle.dumps(no_bbox))
    txn.put(b"truncated", pickle.dumps(images["COCO_train2014_000000000009"][1])[:-40])
    txn.put(b"not_a_dict", pickle.dumps([1, 2]))
    txn.put(b"keys", pickle.dumps([b"no_bbox", b"truncated", b"not_a_dict", b"listed_only"]))
env.close()

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({name: {"image_id": image_id, "width": int(item["image_width"]), "height": item["image_height"],
                      "features": item["features"].ravel().tolist(), "boxes": item["bbox"].ravel().tolist(),
                      "class_probs": item["cls_prob"].ravel().tolist(), "num_boxes": item["num_boxes"]}
               for name, (image_id, item) in images.items()}, f)
