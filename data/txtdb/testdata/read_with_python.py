#!/usr/bin/python3
"""Reads a txt_db the way ORIG UNITER's TxtTokLmdb does and prints {"meta", "id2len", "txt2img", "img2txts",
"records"} as JSON, so that txtdb_test.go can check what the Go writer produced:

    /usr/bin/python3 read_with_python.py TXT_DB_DIR
"""
import json
import sys

import lmdb
import msgpack
from lz4.frame import decompress

db_dir = sys.argv[1]
env = lmdb.open(db_dir, readonly=True, create=False)
txn = env.begin(buffers=True)
records = {bytes(k).decode("utf-8"): msgpack.loads(decompress(v), raw=False) for k, v in txn.cursor()}
env.close()
out = {"records": records}
for name in ["meta", "id2len", "txt2img", "img2txts"]:
    out[name] = json.load(open(f"{db_dir}/{name}.json"))
json.dump(out, sys.stdout)
