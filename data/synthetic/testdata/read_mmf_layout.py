"""Reads an MMF data directory as MMF's readers do, for data/synthetic's test of WriteMMF:

    python3 read_mmf_layout.py MMF_DATA   # prints a JSON summary

The steps follow MMF's AnnotationDatabase._load_npy (np.load with allow_pickle; a first item without image_id is
metadata), VocabDict (stripped lines, <unk> first when absent) and LMDBFeatureReader (lmdb.open with
subdir=isdir, lock=False; the pickled "keys" list; the key of a feature path is its integer suffix when that is a
key, else the path without .npy; records are pickled dicts).
"""
import json
import os
import pickle
import sys

import lmdb
import numpy as np

root = os.path.join(sys.argv[1], "datasets")


def imdb(path):
    db = np.load(path, allow_pickle=True)
    data = list(db)
    if "image_id" not in data[0]:
        data = data[1:]
    return data


class Features:
    def __init__(self, path):
        self.env = lmdb.open(path, subdir=os.path.isdir(path), readonly=True, lock=False, readahead=False, meminit=False)
        with self.env.begin(write=False, buffers=True) as txn:
            self.ids = pickle.loads(txn.get(b"keys"))
        self.index = {k: i for i, k in enumerate(self.ids)}

    def get(self, feature_path):
        split = feature_path.split(".npy")[0]
        try:
            key = str(int(split.split("_")[-1])).encode()
            self.index[key]
        except (ValueError, KeyError):
            key = split.encode()
            self.index[key]
        with self.env.begin(write=False, buffers=True) as txn:
            return pickle.loads(txn.get(key))


words = [l.strip() for l in open(os.path.join(root, "vqa2/defaults/extras/vocabs/answers_vqa.txt"))]
if "<unk>" not in words:
    words = ["<unk>"] + words
out = {"answers": words, "splits": {}}
feats = {"trainval2014": Features(os.path.join(root, "coco/defaults/features/trainval2014.lmdb")),
         "test2015": Features(os.path.join(root, "coco/defaults/features/test2015.lmdb"))}
for subset, karpathy in (("train2014", "train"), ("val2014", "val"), ("test2015", "test")):
    qs = imdb(os.path.join(root, "vqa2/defaults/annotations/imdb_%s.npy" % subset))
    caps = imdb(os.path.join(root, "coco/defaults/annotations/imdb_karpathy_%s_by_image.npy" % karpathy))
    store = feats["test2015" if subset == "test2015" else "trainval2014"]
    images = {}
    for q in qs:
        f = store.get(q["feature_path"])
        assert f["features"].shape[0] == f["num_boxes"] == f["bbox"].shape[0], q["feature_path"]
        images[str(q["image_id"])] = [float(f["features"].astype(np.float64).sum()), f["bbox"].tolist()[0],
                                      int(f["image_width"]), int(f["image_height"])]
    for c in caps:
        feats["trainval2014"].get(c["feature_path"])
    out["splits"][subset] = {
        "questions": [[q["question_id"], q["question_str"], q.get("answers")] for q in qs],
        "captions": [[c["image_id"], c["captions"]] for c in caps],
        "images": images,
    }
json.dump(out, sys.stdout)
