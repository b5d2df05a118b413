"""Counting throughput and peak memory on synthetic Zipf corpora, under a memory limit.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10M,30M,100M] [--memory-limit 1GB]
                                               [--workers 2] [--corpus-dir DIR] [--no-sample]

Writes Zipf-distributed text (100,000 word types, P(rank r) ~ 1 / (r + 2.7), units of 5-40 tokens)
of each size to ``--corpus-dir`` (reused when already there; default a temporary folder), then times
``count_cooccurrences`` (window 10, min count 5, shard 4096) on each and on the bundled sample. Peak
memory is sampled every 50 ms over this process and its workers: ``rss`` sums resident sets (pages
shared after fork counted per process), ``pss`` splits shared pages (the memory really held).
Targets (issue 14): >= 3 M tokens/s on Zipf 30 M under ``--memory-limit 200MB`` with peak RSS <= 700 MB,
and time per token at 100 M within 10% of the 10 M figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from cordswivel.config import CooccurConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.execution import parse_size
from cordswivel.data import cord19_sample_paths

from memory import PeakMemory

TYPES = 100_000


def zipf_words(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(letters of all words, start of each word, length of each word); frequent words are short."""
    lengths = (2 + np.log2(np.arange(TYPES) + 2) / 2 + rng.integers(0, 3, TYPES)).astype(np.int64)
    letters = rng.integers(ord("a"), ord("z") + 1, lengths.sum()).astype(np.uint8)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    # make every word unique by spelling its rank in base 26 into its first letters
    for k in range(4):
        digit = (np.arange(TYPES) // 26**k) % 26
        has = lengths > k
        letters[starts[has] + k] = ord("a") + digit[has]
    return letters, starts, lengths


def write_zipf_corpus(path: Path, tokens: int, seed: int = 0, chunk: int = 1 << 22) -> None:
    """``tokens`` Zipf-distributed words, one unit of 5-40 tokens per line."""
    rng = np.random.default_rng(seed)
    letters, starts, lengths = zipf_words(rng)
    cdf = np.cumsum(1.0 / (np.arange(TYPES) + 2.7))
    cdf /= cdf[-1]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        for first in range(0, tokens, chunk):
            n = min(chunk, tokens - first)
            ranks = np.minimum(np.searchsorted(cdf, rng.random(n)), TYPES - 1)
            sizes = lengths[ranks] + 1
            ends = np.cumsum(sizes)
            out = np.full(ends[-1], ord(" "), dtype=np.uint8)
            # byte k of the output is letter (k - word start) of its word
            owner = np.repeat(np.arange(n), sizes)
            offset = np.arange(ends[-1]) - np.repeat(ends - sizes, sizes)
            letter = offset < lengths[ranks][owner]
            out[letter] = letters[starts[ranks][owner[letter]] + offset[letter]]
            breaks = np.cumsum(rng.integers(5, 41, n // 5 + 2))
            out[ends[breaks[breaks <= n] - 1] - 1] = ord("\n")
            out[-1] = ord("\n")
            handle.write(out.tobytes())
    tmp.replace(path)


def measure(paths, out: Path, memory_limit: int, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    with PeakMemory() as peak:
        started = time.perf_counter()
        stats = count_cooccurrences(
            open_corpus(paths),
            out,
            CooccurConfig(window=10, min_count=5, shard_size=4096),
            workers=workers,
            memory_limit=memory_limit,
        )
        seconds = time.perf_counter() - started
    shards_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out, ignore_errors=True)
    return {
        "tokens": stats.tokens,
        "vocab_size": stats.vocab_size,
        "nnz": stats.nnz,
        "spills": stats.spills,
        "pass_seconds": stats.pass_seconds,
        "seconds": round(seconds, 2),
        "tokens_per_second": round(stats.tokens / seconds),
        "peak_rss_mb": round(peak.rss / 1e6),
        "peak_pss_mb": round(peak.pss / 1e6),
        "shards_mb": round(shards_bytes / 1e6),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10M,30M,100M", help="corpus sizes in tokens (default %(default)s)")
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--corpus-dir", help="where the synthetic corpora are kept (default: a temporary folder)")
    parser.add_argument("--no-sample", action="store_true", help="skip the bundled sample")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    limit = parse_size(args.memory_limit)
    sizes = [int(float(s.strip().upper().rstrip("M")) * 1e6) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(args.corpus_dir or tmp)
        corpus_dir.mkdir(parents=True, exist_ok=True)
        rows = []
        if not args.no_sample:
            rows.append(
                {
                    "corpus": "bundled sample",
                    **measure(cord19_sample_paths(args.data_dir), Path(tmp) / "shards", limit, args.workers),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
        for size in sizes:
            path = corpus_dir / f"zipf-{size // 1_000_000}M.txt"
            if not path.exists():
                started = time.perf_counter()
                write_zipf_corpus(path, size)
                print(f"wrote {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            rows.append({"corpus": path.name, **measure([path], Path(tmp) / "shards", limit, args.workers)})
            print(json.dumps(rows[-1]), file=sys.stderr)
    zipf = [r for r in rows if r["corpus"].startswith("zipf")]
    per_million = [r["seconds"] / (r["tokens"] / 1e6) for r in zipf]
    result = {
        "benchmark": "scale",
        "memory_limit_mb": round(limit / 1e6),
        "workers": args.workers,
        "runs": rows,
        "seconds_per_million_tokens": [round(x, 3) for x in per_million],
        "linearity": round(max(per_million) / min(per_million), 2) if per_million else None,
        "target_tokens_per_second": 3_000_000,
        "target_peak_mb": max(700, round(limit / 1e6) + 500),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
