"""Seconds per Swivel training epoch against the FLOP bound measured in the same run.

    .venv/bin/python benchmarks/bench_train.py [--shard-size 4096] [--min-count 5] [--epochs 2]
    .venv/bin/python benchmarks/bench_train.py --full-size [--epochs 1] [--precision auto|float32|bfloat16]

Counts the bundled sample (cased, window 10), or with ``--full-size`` writes synthetic shards of the
published module's size (V = 135,168, 33 x 33 blocks of 4096, 1% of cells non-zero), trains
``--epochs`` epochs (the first includes XLA compilation) and compares the last epoch with
``6 * V^2 * dim / R``, where R is the float32 matmul rate of a (4096 x 128) by (128 x 4096) product
measured here, with TensorFlow (the library that trains) and with NumPy. Also reports the peak
memory of training. Target: within 1.3x of the (float32) bound. ``--precision`` as training's
(default auto: bfloat16 operands where the CPU computes them natively; float32 or bfloat16 to choose).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from cordswivel.config import PRECISIONS, CooccurConfig, SwivelConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.shards import BLOCK_DIR, CELL, CooccurrenceShards, CooccurStats, block_name, write_metadata
from cordswivel.counting.vocab import Vocabulary
from cordswivel.data import cord19_sample_paths
from cordswivel.training.swivel import SwivelTrainer

from memory import PeakMemory


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


def write_synthetic_shards(out: Path, vocab_size: int, shard_size: int, density: float = 0.01, seed: int = 0) -> None:
    """A co-occurrence directory of random counts, denser towards frequent (low-id) words."""
    rng = np.random.default_rng(seed)
    n = vocab_size // shard_size
    (out / BLOCK_DIR).mkdir(parents=True)
    row_sums, col_sums = np.zeros(vocab_size), np.zeros(vocab_size)
    cells = int(density * shard_size * shard_size)
    for r in range(n):
        for c in range(n):
            local = (shard_size * rng.random((2, cells)) ** 2).astype(np.int64)
            flat = np.unique(local[0] * shard_size + local[1])
            block = np.empty(flat.size, dtype=CELL)
            block["row"], block["col"] = flat // shard_size, flat % shard_size
            block["count"] = rng.gamma(0.5, 20.0, flat.size) + 0.1
            np.save(out / BLOCK_DIR / block_name(r, c), block)
            row_sums[r::n] += np.bincount(block["row"], block["count"], shard_size)
            col_sums[c::n] += np.bincount(block["col"], block["count"], shard_size)
    Vocabulary(tuple(f"w{k}" for k in range(vocab_size)), np.arange(vocab_size, 0, -1, dtype=np.int64) + 50).save(out)
    np.save(out / "row_sums.npy", row_sums)
    np.save(out / "col_sums.npy", col_sums)
    nnz = sum(np.load(p).size for p in (out / BLOCK_DIR).iterdir())
    stats = CooccurStats(
        tokens=0, units=0, types=vocab_size, vocab_size=vocab_size, nnz=nnz, total=float(row_sums.sum()), seconds=0.0
    )  # synthetic: no corpus behind it
    write_metadata(out, CooccurConfig(shard_size=shard_size, text_fields=()), n, stats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shard-size", type=int, default=4096)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--full-size", action="store_true", help="train on synthetic shards of --vocab-size words")
    parser.add_argument("--vocab-size", type=int, default=135_168, help="with --full-size (default %(default)s)")
    parser.add_argument("--data-dir")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="matmul operands (default %(default)s, as training's; the bound stays the float32 matmul rate)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.full_size:  # in a child process, so its garbage does not count in training's peak memory
            writer = multiprocessing.get_context("spawn").Process(
                target=write_synthetic_shards, args=(Path(tmp) / "shards", args.vocab_size, args.shard_size)
            )
            writer.start()
            writer.join()
        else:
            count_cooccurrences(
                open_corpus(cord19_sample_paths(args.data_dir)),
                Path(tmp) / "shards",
                CooccurConfig(min_count=args.min_count, shard_size=args.shard_size),
                workers=os.cpu_count(),
            )
        shards = CooccurrenceShards(Path(tmp) / "shards")
        rates = matmul_rate()
        with PeakMemory() as peak:
            trainer = SwivelTrainer(
                SwivelConfig(embedding_dim=args.dim, epochs=args.epochs, tolerance=0, precision=args.precision)
            ).fit(shards, Path(tmp) / "w")
    size = len(shards.vocab)
    flops = 6 * size * size * args.dim
    epoch = trainer.epoch_seconds_[-1]
    result = {
        "benchmark": "train",
        "vocab_size": size,
        "shard_size": args.shard_size,
        "blocks": shards.num_shards**2,
        "dim": args.dim,
        "epoch_seconds": [round(s, 2) for s in trainer.epoch_seconds_],
        "matmul_gflops": {k: round(v / 1e9, 1) for k, v in rates.items()},
        "bound_seconds": {k: round(flops / v, 2) for k, v in rates.items()},
        "ratio_to_bound": {k: round(epoch / (flops / v), 2) for k, v in rates.items()},
        "peak_rss_mb": round(peak.rss / 1e6),
        "synthetic": args.full_size,
        "precision": trainer.precision_,
        "target_ratio": 1.3,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
