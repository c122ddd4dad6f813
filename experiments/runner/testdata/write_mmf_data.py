"""Writes an MMF data directory with the real Python writers, from a dataset in the synthetic generator's layout
(official VQA v2 / COCO JSON files and per-image .npz features), for the runner's MMF-layout test:

    python3 write_mmf_data.py SYNTHETIC_DIR MMF_DATA

It writes what MMF's vqa2 and masked_coco configurations list under MMF_DATA/datasets: imdb_<subset>.npy (np.save
of an object array: a metadata dict, then one dict per question; the test split without answers),
answers_vqa.txt (without "<unk>", which MMF's VocabDict then puts first), imdb_karpathy_<split>_by_image.npy, and
the feature LMDBs trainval2014.lmdb and test2015.lmdb as MMF's tools/scripts/features/lmdb_conversion.py does
(lmdb.open, one pickle.dumps(dict) per image under its feature path, pickle.dumps of the key list under b"keys").
"""
import json
import os
import pickle
import sys

import lmdb
import numpy as np

src, out = sys.argv[1], os.path.join(sys.argv[2], "datasets")
subsets = {"train": "train2014", "val": "val2014", "test": "test2015"}
karpathy = {"train": "train", "val": "val", "test": "test"}


def path(*parts):
    p = os.path.join(out, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def name(split, image_id):
    return "COCO_%s_%012d" % (subsets[split], image_id)


with open(os.path.join(src, "answers.txt")) as f:
    answers = [a for a in f.read().split("\n") if a and a != "<unk>"]
with open(path("vqa2", "defaults", "extras", "vocabs", "answers_vqa.txt"), "w") as f:
    f.write("\n".join(answers) + "\n")

images = {}  # feature path -> (split, synthetic key)
for split in ("train", "val", "test"):
    qs = json.load(open(os.path.join(src, "questions", "v2_OpenEnded_mscoco_%s_questions.json" % split)))
    anns = json.load(open(os.path.join(src, "annotations", "v2_mscoco_%s_annotations.json" % split)))
    by_q = {a["question_id"]: a for a in anns["annotations"]}
    db = [{"version": 1, "dataset_type": subsets[split], "has_answer": split != "test"}]
    for q in qs["questions"]:
        n = name(split, q["image_id"])
        e = {"image_name": n, "image_id": q["image_id"], "question_id": q["question_id"],
             "question_str": q["question"], "question_tokens": q["question"].lower().rstrip("?").split(),
             "feature_path": n + ".npy"}
        if split != "test":
            e["answers"] = e["all_answers"] = [a["answer"] for a in by_q[q["question_id"]]["answers"]]
        db.append(e)
        images[n] = (split, "synthetic_%06d" % q["image_id"])
    np.save(path("vqa2", "defaults", "annotations", "imdb_%s.npy" % subsets[split]), np.array(db, dtype=object))

    caps = json.load(open(os.path.join(src, "annotations", "captions_%s.json" % split)))
    by_image = {}
    for c in caps["annotations"]:
        by_image.setdefault(c["image_id"], []).append(c["caption"])
    db = [{"version": 1, "dataset_type": karpathy[split]}]
    for img in caps["images"]:
        n = name(split, img["id"])
        db.append({"image_id": img["id"], "image_name": n, "feature_path": n + ".npy", "captions": by_image[img["id"]]})
        images[n] = (split, "synthetic_%06d" % img["id"])
    np.save(path("coco", "defaults", "annotations", "imdb_karpathy_%s_by_image.npy" % karpathy[split]),
            np.array(db, dtype=object))


def convert(lmdb_path, keep):
    env = lmdb.open(path("coco", "defaults", "features", lmdb_path), map_size=1 << 30)
    id_list = []
    with env.begin(write=True) as txn:
        for n, (split, key) in sorted(images.items()):
            if not keep(split):
                continue
            z = np.load(os.path.join(src, "features", key + ".npz"))
            item = {"feature_path": n, "features": z["features"], "image_height": int(z["image_h"]),
                    "image_width": int(z["image_w"]), "num_boxes": int(z["num_bbox"]),
                    "objects": z["cls_prob"].argmax(1), "cls_prob": z["cls_prob"], "bbox": z["boxes"]}
            id_list.append(n.encode())
            txn.put(n.encode(), pickle.dumps(item))
        txn.put(b"keys", pickle.dumps(id_list))
    env.close()


convert("trainval2014.lmdb", lambda split: True)  # masked_coco reads every split there, as MMF's masked.yaml says
convert("test2015.lmdb", lambda split: split == "test")
