#!/usr/bin/python3
"""Reads a feature store the way the reference Python code does and prints its content as JSON (the layout of
expected.json), so that features_test.go can check stores written by the Go writers:

    /usr/bin/python3 read_with_python.py npz|tsv|img_db|img_db_compressed PATH

npz: np.load of every <id>.npz; tsv: bottom-up-attention's base64 float32 decoding; img_db*: ORIG UNITER's
DetectFeatLmdb(PATH, compress=...) with its default thresholds, including the 7-d position vector its
_get_img_feat builds from norm_bb (reported as "pos7").
"""
import base64
import io
import json
import os
import sys

import lmdb
import msgpack
import msgpack_numpy
import numpy as np

msgpack_numpy.patch()


def record(img_id, w, h, feat, boxes, cls, **extra):
    r = {"image_id": img_id, "width": int(w), "height": int(h), "num_boxes": int(feat.shape[0]),
         "dim": int(feat.shape[1]), "features": feat.astype(np.float32).ravel().tolist(),
         "boxes": boxes.astype(np.float32).ravel().tolist(),
         "num_classes": int(cls.shape[1]) if cls is not None else 0,
         "class_probs": cls.astype(np.float32).ravel().tolist() if cls is not None else None}
    r.update(extra)
    return r


def main(kind, path):
    out = {}
    if kind == "npz":
        for fn in sorted(os.listdir(path)):
            d = np.load(os.path.join(path, fn))
            img_id = fn[:-len(".npz")]
            n = int(d["num_bbox"])
            assert d["norm_bb"].shape == (n, 6)
            out[img_id] = record(img_id, d["image_w"], d["image_h"], d["features"], d["boxes"],
                                 d["cls_prob"] if "cls_prob" in d.files else None)
    elif kind == "tsv":
        with open(path) as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                n = int(fields[3])
                boxes = np.frombuffer(base64.b64decode(fields[4]), dtype=np.float32).reshape(n, 4)
                feat = np.frombuffer(base64.b64decode(fields[5]), dtype=np.float32).reshape(n, -1)
                cls = None
                if len(fields) > 6:
                    cls = np.frombuffer(base64.b64decode(fields[6]), dtype=np.float32).reshape(n, -1)
                out[fields[0]] = record(fields[0], fields[1], fields[2], feat, boxes, cls)
    else:
        compress = kind == "img_db_compressed"
        name2nbb = json.load(open(f"{path}/nbb_th0.2_max100_min10.json"))
        db_name = "feat_th0.2_max100_min10" + ("_compressed" if compress else "")
        env = lmdb.open(f"{path}/{db_name}", readonly=True, create=False)
        txn = env.begin(buffers=True)
        for key, dump in txn.cursor():
            fname = bytes(key).decode("utf-8")
            nbb = name2nbb[fname]
            if compress:
                with io.BytesIO(dump) as reader:
                    z = np.load(reader, allow_pickle=True)
                    img_dump = {k: z[k] for k in z.files}
            else:
                img_dump = msgpack.loads(dump, raw=False)
            img_dump = {k: arr[:nbb, ...].astype(np.float32) for k, arr in img_dump.items()}  # get_dump
            bb = img_dump["norm_bb"]
            pos7 = np.concatenate([bb, bb[:, 4:5] * bb[:, 5:]], -1)  # DetectFeatTxtTokDataset._get_img_feat
            img_id = fname[:-len(".npz")]
            out[img_id] = record(img_id, 1, 1, img_dump["features"], bb[:, :4], img_dump.get("soft_labels"),
                                 pos7=pos7.ravel().tolist(), conf=img_dump["conf"].tolist())
        env.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
