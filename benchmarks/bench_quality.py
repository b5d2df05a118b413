"""Quality per training second: cordswivel's defaults against gensim CBOW, skip-gram and FastText.

    .venv/bin/python benchmarks/bench_quality.py [--systems ...] [--seeds 0] [--workers 2]

Needs gensim (``make bench`` installs it). Every system reads the same tokens of the bundled sample
(cordswivel's tokenizer, cased) with the same settings: min count 5 (cordswivel's default), window
10, dim 128, ``--workers`` workers. cordswivel trains with its defaults (``--shard-size auto``, the
stopping rule) and again at shard sizes 512, 1024, 2048 and 4096 given explicitly; gensim trains its
default 5 epochs. Each system builds in a subprocess of its own; then each is scored on the dev word
pairs (``DATA/wordsim-dev``: Spearman on the covered pairs, words looked up case-insensitively, with
coverage) and SciCite's validation split (the tutorial's frozen classifier, mean over ``--seeds``).
Only dev data: the test splits and kept-aside sets are for checking the result, not choosing it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from bench_compare import scicite, word_pairs

MIN_COUNT, WINDOW, DIM = 5, 10, 128
SYSTEMS = ("cordswivel", "swivel-512", "swivel-1024", "swivel-2048", "swivel-4096", "cbow", "skipgram", "fasttext")
DEV_PAIRS = {
    "MEN": "EN-MEN-TR-3k.txt",
    "SimLex-999": "SimLex-999.txt",
    "WS-353": "EN-WS-353-ALL.txt",
    "MTurk-771": "EN-MTurk-771.txt",
    "RW": "EN-RW-STANFORD.txt",
}


def build_cordswivel(out: Path, data_dir: str | None, workers: int, shard_size: int | None) -> dict:
    from cordswivel.config import CooccurConfig, SwivelConfig
    from cordswivel.data import cord19_sample_paths
    from cordswivel.pipeline.train import run_training

    result = run_training(
        out,
        corpus=cord19_sample_paths(data_dir),
        cooccur_config=CooccurConfig(min_count=MIN_COUNT, window=WINDOW, shard_size=shard_size),
        swivel_config=SwivelConfig(embedding_dim=DIM),
        workers=workers,
    )
    config = result.embedding.config
    return {
        "vectors": str(out),
        "vocab_size": len(result.embedding),
        "shard_size": config["cooccurrence"]["shard_size"],
        "epochs": len(result.losses),
        "stop_reason": result.stop_reason,
        "count_seconds": round(config["corpus"]["seconds"], 1),
        "train_seconds": round(result.seconds, 1),
    }


def build_gensim(out: Path, data_dir: str | None, workers: int, kind: str) -> dict:
    from gensim.models import FastText, Word2Vec

    from cordswivel.corpus.reader import open_corpus
    from cordswivel.corpus.tokenizer import tokenize
    from cordswivel.data import cord19_sample_paths

    sentences = [tokens for unit in open_corpus(cord19_sample_paths(data_dir)).units() if (tokens := tokenize(unit))]
    started = time.perf_counter()
    options = dict(vector_size=DIM, window=WINDOW, min_count=MIN_COUNT, workers=workers, seed=0)
    if kind == "fasttext":
        model = FastText(sentences, **options)  # CBOW with character n-grams 3-6, gensim's defaults
    else:
        model = Word2Vec(sentences, sg=int(kind == "skipgram"), **options)
    trained = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    model.wv.save_word2vec_format(str(out / "vectors.bin"), binary=True)  # vocabulary words only
    return {"vectors": str(out / "vectors.bin"), "vocab_size": len(model.wv), "train_seconds": round(trained, 1)}


def build(name: str, out: Path, data_dir: str | None, workers: int) -> dict:
    if name == "cordswivel":
        return build_cordswivel(out, data_dir, workers, None)
    if name.startswith("swivel-"):
        return build_cordswivel(out, data_dir, workers, int(name.split("-")[1]))
    return build_gensim(out, data_dir, workers, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="SciCite classifier seeds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir")
    parser.add_argument("--build", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # the child: build one system's vectors and print what it measured
        print(json.dumps(build(args.build, Path(args.out), args.data_dir, args.workers)))
        return 0
    if any(not s.startswith(("cordswivel", "swivel")) for s in args.systems):
        try:
            import gensim  # noqa: F401
        except ImportError:
            sys.exit("bench_quality needs gensim: .venv/bin/pip install -e '.[bench]'")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.systems:
            command = [sys.executable, __file__, "--build", name, "--out", str(Path(tmp) / name)]
            command += ["--workers", str(args.workers)] + (["--data-dir", args.data_dir] if args.data_dir else [])
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
            system = {"wall_seconds": round(time.perf_counter() - started, 1)}
            system |= json.loads(done.stdout.strip().splitlines()[-1])
            system["word_pairs"] = word_pairs(system["vectors"], args.data_dir, DEV_PAIRS)
            scores = scicite(system.pop("vectors"), args.seeds, args.data_dir)
            system["scicite_validation_accuracy"] = scores["validation_accuracy"]
            results[name] = system
            print(name, json.dumps(system), file=sys.stderr, flush=True)
    print(f"{'system':<12} {'train s':>8} " + " ".join(f"{k:>16}" for k in DEV_PAIRS) + "  SciCite val")
    for name, system in results.items():
        pairs = " ".join(
            f"{p['spearman']:>7.3f} ({p['covered']:>4}/{p['total']:<4})" for p in system["word_pairs"].values()
        )
        print(f"{name:<12} {system['train_seconds']:>8.1f} {pairs}  {system['scicite_validation_accuracy']:.3f}")
    print(json.dumps({"benchmark": "quality", "workers": args.workers, "seeds": args.seeds, "systems": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
