"""Writes MMF annotation databases with the real writers, for data/imdb's tests: python3 write_imdbs.py DIR."""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
entries = [{"image_name": "COCO_val2014_%012d" % i, "image_id": i, "question_id": 100 * i + 1,
            "question_str": "what is ΟΔΟΣ %d?" % i, "question_tokens": ["what", "is"],
            "answers": ["yes"] * 9 + ["<copy>"], "all_answers": ["yes"] * 10,
            "feature_path": "COCO_val2014_%012d.npy" % i} for i in (1, 2)]
entries[1].pop("answers")  # MMF falls back to all_answers
np.save(os.path.join(out, "imdb_with_metadata.npy"),
        np.array([{"version": 1, "create_time": "now", "dataset_type": "val"}] + entries, dtype=object))
np.save(os.path.join(out, "imdb_plain.npy"), np.array(entries, dtype=object))
np.save(os.path.join(out, "imdb_dict.npy"), {"metadata": {"version": 2}, "data": entries})
with open(os.path.join(out, "db.json"), "w") as f:
    json.dump({"metadata": {"version": 1}, "data": entries}, f)
with open(os.path.join(out, "db.jsonl"), "w") as f:
    for e in entries:
        f.write(json.dumps(e) + "\n")
with open(os.path.join(out, "questions.json"), "w") as f:
    json.dump({"info": {}, "task_type": "Open-Ended", "questions": [{"question_id": 1}]}, f)
with open(os.path.join(out, "other.json"), "w") as f:
    json.dump({"foo": [1, 2], "bar": {}}, f)
np.save(os.path.join(out, "numeric.npy"), np.zeros(3))
