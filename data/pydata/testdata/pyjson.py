"""Test helper for data/pydata: writes pickles and .npy files with the real Python writers, and reads files back
with the real Python readers, printing the values as canonical JSON that the Go test compares with its own.

    python3 pyjson.py write DIR   # writes DIR/*.pkl, DIR/*.npy and DIR/expected.json
    python3 pyjson.py read FILE.. # prints one canonical JSON line per file (pickle.load or np.load)
"""
import collections
import json
import math
import pickle
import sys

import numpy as np


def canon(v):
    """Canonical JSON form of a decoded value (mirrors canonical in pydata_test.go)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return {"int": str(int(v))}
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return {"float": "nan" if math.isnan(f) else repr(f)}
    if isinstance(v, np.str_):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, dict):
        return {"dict": [[canon(k), canon(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return {"list": [canon(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [canon(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"set": sorted(json.dumps(canon(x), sort_keys=True, separators=(",", ":")) for x in v)}
    if isinstance(v, np.ndarray):
        d = v.dtype
        dt = "|O" if d.kind == "O" else d.str
        flat = v.reshape(-1).tolist()
        return {"array": dt, "shape": list(v.shape), "values": [canon(x) for x in flat]}
    raise TypeError(type(v))


def sample():
    """A value with every kind of thing MMF's files hold."""
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    return {
        "none": None, "t": True, "f": False, "small": 7, "int16": 40000, "neg": -5, "int32": 2**31 - 1,
        "big": 2**40 + 3, "negbig": -(2**50), "float": 0.1, "negzero": -0.0, "inf": float("inf"),
        "str": "héllo ✓ 𝄞", "empty": "", "bytes": b"\x00\xffabc", "list": [1, "two", [3.0]],
        "tuple": (1, (2, 3)), "set": {1, 2}, "frozen": frozenset(["x"]), "od": od,
        "f4": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "f2": np.array([1.5, -2, 65504], np.float16),
        "f8": np.array([[1e-300, 2.5]]), "i8": np.array([-1, 2**40]), "i4": np.array([3], np.int32),
        "u1": np.array([0, 255], np.uint8), "b1": np.array([True, False]), "i2": np.array([-300], np.int16),
        "u2": np.array([65535], np.uint16), "u4": np.array([2**32 - 1], np.uint32), "i1": np.array([-128], np.int8),
        "u8": np.array([2**63], np.uint64), "zero_d": np.array(3.25, np.float32), "empty_arr": np.zeros((0, 4), np.float32),
        "U": np.array(["ab", "ü"]), "S": np.array([b"xy", b"z"]),
        "obj": np.array([{"k": 1}, "s", None], dtype=object),
        "np_int": np.int64(640), "np_float": np.float32(0.5), "np_bool": np.bool_(True), "np_str": np.str_("ñ"),
        1: "int key", (1, "a"): "tuple key",
    }


def write(d):
    v = sample()
    for proto in (2, 3, 4, 5):
        with open(f"{d}/sample_p{proto}.pkl", "wb") as f:
            pickle.dump(v, f, protocol=proto)
    imdb = np.array([{"version": 1, "dataset_type": "train"}] +
                    [{"image_id": i, "question_id": 10 * i, "question_str": f"q{i}?", "answers": ["yes"] * 10}
                     for i in range(3)], dtype=object)
    np.save(f"{d}/imdb_list.npy", imdb)
    np.save(f"{d}/imdb_dict.npy", {"metadata": {"version": 1}, "data": [{"image_id": 9, "captions": ["a b"]}]})
    np.save(f"{d}/numeric.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
    np.save(f"{d}/info.npy", {"bbox": np.ones((2, 4), np.float32), "image_width": np.int64(640), "objects": np.array([1, 2])})
    expected = {name: canon(x) for name, x in [
        ("sample", v), ("imdb_list", imdb), ("imdb_dict", np.load(f"{d}/imdb_dict.npy", allow_pickle=True)),
        ("numeric", np.load(f"{d}/numeric.npy")), ("info", np.load(f"{d}/info.npy", allow_pickle=True))]}
    with open(f"{d}/expected.json", "w") as f:
        json.dump(expected, f)


def read(paths):
    for p in paths:
        if p.endswith(".npy"):
            v = np.load(p, allow_pickle=True)
        else:
            with open(p, "rb") as f:
                v = pickle.load(f)
        print(json.dumps(canon(v)))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        read(sys.argv[2:])
