#!/usr/bin/python3
"""Runs the batching loop of ORIG UNITER's TokenBucketSampler.__iter__ (data/sampler.py, copied below unchanged but
for the two random.shuffle calls, which the Go side makes) on the JSON input from stdin
{"lens", "order", "bucket_size", "batch_size", "size_multiple", "droplast"} and prints the batches, before their
final shuffle, as a JSON list of lists of example indices:

    /usr/bin/python3 orig_token_bucket.py < input.json
"""
import json
import sys
from itertools import islice


def partition_all(n, seq):  # cytoolz.partition_all
    it = iter(seq)
    while True:
        chunk = tuple(islice(it, n))
        if not chunk:
            return
        yield chunk


class TokenBucketSampler:
    def __init__(self, lens, bucket_size, batch_size, droplast=False, size_multiple=8):
        self._lens = lens
        self._max_tok = batch_size
        self._bucket_size = bucket_size
        self._droplast = droplast
        self._size_mul = size_multiple

    def _sort_fn(self, i):
        return self._lens[i]

    def batches(self, ids):  # __iter__ after `random.shuffle(ids)`, before `random.shuffle(batches)`
        buckets = [sorted(ids[i:i+self._bucket_size],
                          key=self._sort_fn, reverse=True)
                   for i in range(0, len(ids), self._bucket_size)]
        # fill batches until max_token (include padding)
        batches = []
        for bucket in buckets:
            max_len = 0
            batch_indices = []
            for indices in partition_all(self._size_mul, bucket):
                max_len = max(max_len, max(self._lens[i] for i in indices))
                if (max_len * (len(batch_indices) + self._size_mul)
                        > self._max_tok):
                    if not batch_indices:
                        raise ValueError(
                            "max_tokens too small / max_seq_len too long")
                    assert len(batch_indices) % self._size_mul == 0
                    batches.append(batch_indices)
                    batch_indices = list(indices)
                else:
                    batch_indices.extend(indices)
            if not self._droplast and batch_indices:
                batches.append(batch_indices)
        return batches


inp = json.load(sys.stdin)
s = TokenBucketSampler(inp["lens"], inp["bucket_size"], inp["batch_size"], inp["droplast"], inp["size_multiple"])
json.dump(s.batches(inp["order"]), sys.stdout)
