"""Vocabulary + co-occurrence throughput, end to end (corpus files in, shards on disk out).

    .venv/bin/python benchmarks/bench_cooccur.py [--repeat 3] [--workers 2] [--scale 1] [--cli]

Counts the bundled CORD-19 sample (3.6 M tokens) with window 10 and reports tokens/s of the whole
``count_cooccurrences`` call (worker start, the three passes, shard writing) and the time of each
pass. ``--scale K`` reads the sample K times (as K copies of each file) to show the rate once fixed
costs are amortized; ``--cli`` times whole ``cordswivel cooccur`` processes instead (interpreter
start and imports included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cordswivel.config import CooccurConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.shards import CooccurrenceShards
from cordswivel.data import cord19_sample_paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--scale", type=int, default=1, help="read the sample this many times")
    parser.add_argument("--shard-size", type=int, help="rows per shard (default: auto, as cordswivel)")
    parser.add_argument("--data-dir")
    parser.add_argument("--cli", action="store_true", help="time whole 'cordswivel cooccur' processes")
    args = parser.parse_args()
    paths = cord19_sample_paths(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        corpus_paths = []
        for k in range(args.scale):
            for path in paths:
                link = Path(tmp) / "corpus" / f"{k}-{path.name}"
                link.parent.mkdir(exist_ok=True)
                os.symlink(path, link)
                corpus_paths.append(link)
        corpus = open_corpus(corpus_paths)
        times, passes, stats = [], [], None
        for _ in range(args.repeat):
            out = Path(tmp) / "shards"
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            if args.cli:
                command = [sys.executable, "-c", "from cordswivel.cli import main; raise SystemExit(main())"]
                options = ["-q", "cooccur", "--window", "10", "--min-count", "5", "--workers", str(args.workers)]
                options += ["--shard-size", str(args.shard_size or "auto")]
                subprocess.run([*command, *options, "--out", str(out), *map(str, corpus_paths)], check=True)
                stats = CooccurrenceShards(out).stats
            else:
                config = CooccurConfig(window=10, shard_size=args.shard_size)
                stats = count_cooccurrences(corpus, out, config, workers=args.workers)
            times.append(time.perf_counter() - started)
            passes.append(stats.pass_seconds)
    best, median = min(times), statistics.median(times)
    result = {
        "benchmark": "cooccur",
        "tokens": stats.tokens,
        "vocab_size": stats.vocab_size,
        "nnz": stats.nnz,
        "workers": args.workers,
        "scale": args.scale,
        "whole_command": args.cli,
        "seconds": [round(t, 3) for t in times],
        "pass_seconds": passes,
        "tokens_per_second_median": round(stats.tokens / median),
        "tokens_per_second_best": round(stats.tokens / best),
        "target_tokens_per_second": 5_000_000,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
