#!/usr/bin/python3
"""Writes txt_db/, a tiny ORIG UNITER txt_db, with the reference Python stack the way ORIG's TxtLmdb does
(lmdb + lz4.frame.compress(msgpack.dumps(record, use_bin_type=True))), independently of the Go writer:

    apt-get install -y python3-lmdb python3-msgpack python3-lz4
    /usr/bin/python3 make_fixtures.py

The records (VQA with a soft target, NLVR2 with an image pair and an int target) are listed in RECORDS below;
txtdb_test.go checks them value by value.
"""
import json
import os
import shutil

import lmdb
import msgpack
from lz4.frame import compress

RECORDS = {
    "458752000": {"question_id": 458752000, "image_id": 458752, "question": "What is this photo taken looking through?",
                  "input_ids": [1184, 1110, 1142, 6307, 1678, 2205, 1194, 136],
                  "img_fname": "coco_train2014_000000458752.npz", "answer_type": "other",
                  "target": {"labels": [12, 3101], "scores": [1.0, 0.3]}},
    "262146000": {"question_id": 262146000, "image_id": 262146, "question": "Is the sky blue?",
                  "input_ids": [2181, 1103, 3901, 2221, 136], "img_fname": "coco_train2014_000000262146.npz",
                  "target": {"labels": [], "scores": []}},
    "dev-850-0-0": {"identifier": "dev-850-0-0", "sentence": "There are two dogs.",
                    "input_ids": [1247, 1132, 1160, 6363, 119, 28995],
                    "img_fname": ["nlvr2_dev-850-0-img0.npz", "nlvr2_dev-850-0-img1.npz"], "target": 1},
}

META = {"annotations": ["vqa_train.jsonl"], "output": "txt_db", "format": "lmdb", "tokenizer": "bert-base-cased",
        "toker": "bert-base-cased", "bert": "bert-base-cased", "UNK": 100, "CLS": 101, "SEP": 102, "MASK": 103,
        "v_range": [106, 28996]}

shutil.rmtree("txt_db", ignore_errors=True)
env = lmdb.open("txt_db", map_size=1 << 24, lock=False)
id2len, txt2img, img2txts = {}, {}, {}
with env.begin(write=True) as txn:
    for key, rec in RECORDS.items():
        txn.put(key.encode("utf-8"), compress(msgpack.dumps(rec, use_bin_type=True)))
        id2len[key] = len(rec["input_ids"])
        txt2img[key] = rec["img_fname"]
        for img in rec["img_fname"] if isinstance(rec["img_fname"], list) else [rec["img_fname"]]:
            img2txts.setdefault(img, []).append(key)
env.close()
for name, obj in [("meta.json", META), ("id2len.json", id2len), ("txt2img.json", txt2img),
                  ("img2txts.json", img2txts)]:
    with open(os.path.join("txt_db", name), "w") as f:
        json.dump(obj, f, sort_keys=True)
