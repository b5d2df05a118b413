"""Seconds per Swivel training epoch against the FLOP bound measured in the same run.

    .venv/bin/python benchmarks/bench_train.py [--shard-size 4096] [--min-count 5] [--epochs 2]

Counts the bundled sample (cased, window 10), trains ``--epochs`` epochs (the first includes XLA
compilation) and compares the last epoch with ``6 * V^2 * dim / R``, where R is the float32 matmul
rate of a (4096 x 128) by (128 x 4096) product measured here, with TensorFlow (the library that
trains) and with NumPy. Target: within 1.5x of the bound.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cordswivel.cooccur import CooccurConfig, CooccurrenceShards, count_cooccurrences  # noqa: E402
from cordswivel.corpus import open_corpus  # noqa: E402
from cordswivel.data import cord19_sample_paths  # noqa: E402
from cordswivel.swivel import SwivelConfig, SwivelTrainer  # noqa: E402


def matmul_rate(n: int = 4096, d: int = 128, repeat: int = 20) -> dict:
    import tensorflow as tf

    a = tf.random.normal([n, d])
    b = tf.random.normal([d, n])
    mm = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    mm(a, b)
    started = time.perf_counter()
    for _ in range(repeat):
        mm(a, b).numpy()
    tf_rate = 2 * n * n * d * repeat / (time.perf_counter() - started)
    x, y = np.random.rand(n, d).astype(np.float32), np.random.rand(d, n).astype(np.float32)
    x @ y
    started = time.perf_counter()
    for _ in range(repeat):
        x @ y
    np_rate = 2 * n * n * d * repeat / (time.perf_counter() - started)
    return {"tensorflow": tf_rate, "numpy": np_rate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shard-size", type=int, default=4096)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        count_cooccurrences(open_corpus(cord19_sample_paths(args.data_dir)), Path(tmp) / "shards",
                            CooccurConfig(min_count=args.min_count, shard_size=args.shard_size), workers=os.cpu_count())
        shards = CooccurrenceShards(Path(tmp) / "shards")
        rates = matmul_rate()
        trainer = SwivelTrainer(SwivelConfig(embedding_dim=args.dim, epochs=args.epochs)).fit(shards, Path(tmp) / "w")
    size = len(shards.vocab)
    flops = 6 * size * size * args.dim
    epoch = trainer.epoch_seconds_[-1]
    result = {"benchmark": "train", "vocab_size": size, "shard_size": args.shard_size, "blocks": shards.num_shards ** 2,
              "dim": args.dim, "epoch_seconds": [round(s, 2) for s in trainer.epoch_seconds_],
              "matmul_gflops": {k: round(v / 1e9, 1) for k, v in rates.items()},
              "bound_seconds": {k: round(flops / v, 2) for k, v in rates.items()},
              "ratio_to_bound": {k: round(epoch / (flops / v), 2) for k, v in rates.items()},
              "target_ratio": 1.5}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
