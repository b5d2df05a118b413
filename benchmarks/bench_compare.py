"""cordswivel against gensim Word2Vec (CBOW and skip-gram) on the bundled sample, measured in one run.

    .venv/bin/python benchmarks/bench_compare.py [--seeds 0] [--workers 2]

Needs gensim (``pip install -e '.[bench]'``; ``make bench`` installs it). Each system builds
embeddings in a subprocess of its own from the corpus files: wall time and peak memory of that
subprocess are measured. cordswivel: the demo settings (cased, min count 10, window 10, dim 128,
shard size auto, trained until the stopping rule ends it). gensim: the same tokens
(cordswivel's tokenizer), min count 10, window 10, dim 128, 5 epochs, ``--workers`` threads. Each
set of vectors then trains the SciCite classifier (frozen + Dense(3), the tutorial's protocol), and
is scored on the development word pairs of ``DATA/wordsim-dev`` (MEN, SimLex-999, WordSim-353:
Spearman on the covered pairs, words looked up case-insensitively as gensim's
``evaluate_word_pairs(case_insensitive=True)``), next to the seconds it took to build: quality per
second of each system.

Projection to the published module's scale (500 M tokens, V = 135,168): word2vec's time grows with
tokens x epochs, at the rate measured here; cordswivel's is counting (at the rate measured here)
plus 40 epochs of 33 x 33 blocks of 4096, each timed here on synthetic shards (it grows with V^2).
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

from memory import PeakMemory

FULL_TOKENS, FULL_VOCAB, FULL_SHARD = 500_000_000, 135_168, 4096
SWIVEL_EPOCHS, W2V_EPOCHS = 40, 5
WORD_PAIRS = {"MEN": "EN-MEN-TR-3k.txt", "SimLex-999": "SimLex-999.txt", "WS-353": "EN-WS-353-ALL.txt"}


def build_swivel(out: Path, data_dir: str | None, workers: int) -> dict:
    from cordswivel.config import DEMO_COOCCUR, DEMO_SWIVEL
    from cordswivel.corpus.reader import open_corpus
    from cordswivel.counting.cooccur import count_cooccurrences
    from cordswivel.data import cord19_sample_paths
    from cordswivel.pipeline.train import train_embeddings

    started = time.perf_counter()
    stats = count_cooccurrences(
        open_corpus(cord19_sample_paths(data_dir)), out / "shards", DEMO_COOCCUR, workers=workers
    )
    model = train_embeddings(out / "model", cooccur_dir=out / "shards", swivel_config=DEMO_SWIVEL)
    return {
        "vectors": str(out / "model"),
        "tokens": stats.tokens,
        "vocab_size": len(model),
        "count_seconds": round(stats.seconds, 2),
        "train_seconds": round(model.config["training_seconds"], 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def build_word2vec(out: Path, data_dir: str | None, workers: int, sg: int) -> dict:
    from gensim.models import Word2Vec

    from cordswivel.corpus.reader import open_corpus
    from cordswivel.corpus.tokenizer import tokenize
    from cordswivel.data import cord19_sample_paths

    started = time.perf_counter()
    sentences = [tokens for unit in open_corpus(cord19_sample_paths(data_dir)).units() if (tokens := tokenize(unit))]
    tokenized = time.perf_counter()
    model = Word2Vec(
        sentences, vector_size=128, window=10, min_count=10, sg=sg, workers=workers, epochs=W2V_EPOCHS, seed=0
    )
    trained = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    model.wv.save_word2vec_format(str(out / "vectors.bin"), binary=True)
    return {
        "vectors": str(out / "vectors.bin"),
        "tokens": sum(map(len, sentences)),
        "vocab_size": len(model.wv),
        "tokenize_seconds": round(tokenized - started, 2),
        "train_seconds": round(trained - tokenized, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def block_seconds(repeat_epochs: int = 2) -> float:
    """Seconds per 4096 x 4096 block, dim 128, timed on synthetic shards of 3 x 3 blocks."""
    from bench_train import write_synthetic_shards
    from cordswivel.config import SwivelConfig
    from cordswivel.counting.shards import CooccurrenceShards
    from cordswivel.training.swivel import SwivelTrainer

    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic_shards(Path(tmp) / "shards", 3 * FULL_SHARD, FULL_SHARD)
        trainer = SwivelTrainer(SwivelConfig(epochs=repeat_epochs)).fit(
            CooccurrenceShards(Path(tmp) / "shards"), Path(tmp) / "w"
        )
    return trainer.epoch_seconds_[-1] / 9


def scicite(vectors: str, seeds: list[int], data_dir: str | None) -> dict:
    import cordswivel
    from cordswivel.config import ClassifierConfig
    from cordswivel.data import find_data_dir
    from cordswivel.tutorial.scicite import load_scicite, train_classifier

    data = load_scicite(find_data_dir(data_dir) / "scicite")
    model = cordswivel.load(vectors)
    results = [train_classifier(model, data, ClassifierConfig(seed=seed)) for seed in seeds]
    runs = [r.test for r in results]
    return {
        "accuracy": round(sum(r.accuracy for r in runs) / len(runs), 4),
        "macro_f1": round(sum(r.macro_f1 for r in runs) / len(runs), 4),
        "validation_accuracy": round(sum(r.validation.accuracy for r in results) / len(results), 4),
    }


def word_pairs(vectors: str, data_dir: str | None, sets: dict[str, str] = WORD_PAIRS) -> dict:
    """Spearman and coverage of the vectors on each development word-pair set."""
    import cordswivel
    from cordswivel.data import find_data_dir

    model = cordswivel.load(vectors)
    scores = {}
    for name, file in sets.items():
        result = model.evaluate_word_pairs(find_data_dir(data_dir) / "wordsim-dev" / file, case_insensitive=True)
        scores[name] = {
            "spearman": round(result.spearman, 4),
            "covered": result.pairs_covered,
            "total": result.pairs_total,
        }
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="SciCite classifier seeds")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--data-dir")
    parser.add_argument("--build", choices=("swivel", "cbow", "skipgram"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # the child: build one system's vectors and print what it measured
        out = Path(args.out)
        result = (
            build_swivel(out, args.data_dir, args.workers)
            if args.build == "swivel"
            else build_word2vec(out, args.data_dir, args.workers, sg=int(args.build == "skipgram"))
        )
        print(json.dumps(result))
        return 0

    try:
        import gensim  # noqa: F401
    except ImportError:
        sys.exit("bench_compare needs gensim: .venv/bin/pip install -e '.[bench]'")
    systems = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("swivel", "cbow", "skipgram"):
            command = [
                sys.executable,
                __file__,
                "--build",
                name,
                "--out",
                str(Path(tmp) / name),
                "--workers",
                str(args.workers),
            ] + (["--data-dir", args.data_dir] if args.data_dir else [])
            with PeakMemory() as peak:
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True)
                wall = time.perf_counter() - started
            if done.returncode:
                sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            systems[name] = {
                "wall_seconds": round(wall, 1),
                "peak_rss_mb": round(peak.rss / 1e6),
                "peak_pss_mb": round(peak.pss / 1e6),
                **measured,
            }
            print(name, json.dumps(systems[name]), file=sys.stderr, flush=True)
        for name, system in systems.items():
            system["word_pairs"] = word_pairs(system["vectors"], args.data_dir)
            system["scicite"] = scicite(system.pop("vectors"), args.seeds, args.data_dir)
            print(name, system["scicite"], file=sys.stderr, flush=True)
        per_block = block_seconds()

    swivel = systems["swivel"]
    count_rate = swivel["tokens"] / swivel["count_seconds"]
    blocks = (FULL_VOCAB // FULL_SHARD) ** 2
    projection = {
        "tokens": FULL_TOKENS,
        "vocab_size": FULL_VOCAB,
        "swivel": {
            "count_seconds": round(FULL_TOKENS / count_rate),
            "epoch_seconds": round(blocks * per_block),
            "epochs": SWIVEL_EPOCHS,
            "block_seconds": round(per_block, 3),
            "hours": round((FULL_TOKENS / count_rate + SWIVEL_EPOCHS * blocks * per_block) / 3600, 2),
        },
    }
    for name in ("cbow", "skipgram"):
        system = systems[name]
        token_epoch_seconds = system["train_seconds"] / (system["tokens"] * W2V_EPOCHS)
        tokenize_rate = system["tokens"] / system["tokenize_seconds"]
        projection[name] = {
            "epochs": W2V_EPOCHS,
            "words_per_second": round(1 / token_epoch_seconds),
            "hours": round((FULL_TOKENS / tokenize_rate + FULL_TOKENS * W2V_EPOCHS * token_epoch_seconds) / 3600, 2),
        }
    result = {
        "benchmark": "compare",
        "workers": args.workers,
        "seeds": args.seeds,
        "sample": systems,
        "projection": projection,
        "target": "projected cordswivel hours below gensim skip-gram's",
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
