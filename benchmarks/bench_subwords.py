"""Subword vectors: fit time, rare words with every pair scored against gensim FastText, SavedModel cost.

    .venv/bin/python benchmarks/bench_subwords.py [--model runs/demo/model] [--fasttext PATH] [--repeat 3]

1. Fits the default subword table to ``--model`` (its own subwords dropped first) and times it.
2. Scores the dev word pairs (``wordsim-dev``, words as written): RW with every pair scored (a word
   outside the vocabulary by its subword vector), and MEN and SimLex-999 on their in-vocabulary pairs,
   which subwords must leave unchanged. The anchor is gensim's ``FastText`` (CBOW, n-grams 3-6, 5
   epochs) trained on the same tokens with the model's min count and window and dim 128, which builds
   vectors for unseen words from the same n-gram scheme (``--fasttext PATH`` reuses a saved one; the
   ``bench`` extra installs gensim).
3. Exports the model as a TF-Hub SavedModel with and without subwords: size on disk, and sentences/s
   of ``module(batch)`` over SciCite's sentences in batches of 1,000 (best of ``--repeat``, alternating).

Targets: RW >= FastText's; MEN and SimLex unchanged; the fit <= 30 s; the SavedModel grows by at most
the n-gram table; throughput within 20% of the module without subwords.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scipy import stats

from cordswivel.config import SubwordConfig
from cordswivel.data import cord19_sample_paths, find_data_dir
from cordswivel.embedding.loading import load
from cordswivel.tutorial.scicite import load_scicite

PAIRS = {"RW": "EN-RW-STANFORD.txt", "MEN": "EN-MEN-TR-3k.txt", "SimLex-999": "SimLex-999.txt"}


def read_pairs(path: Path) -> list[tuple[str, str, float]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split("\t") if "\t" in line else line.split()
        if len(parts) == 3:
            try:
                pairs.append((parts[0], parts[1], float(parts[2])))
            except ValueError:
                continue
    return pairs


def fasttext_model(path: str | None, min_count: int, window: int):
    from gensim.models import FastText

    if path and Path(path).exists():
        return FastText.load(path), None
    from cordswivel.corpus.reader import open_corpus
    from cordswivel.corpus.tokenizer import tokenize

    sentences = [t for unit in open_corpus(cord19_sample_paths(None)).units() if (t := tokenize(unit))]
    started = time.perf_counter()
    model = FastText(sentences, vector_size=128, window=window, min_count=min_count, workers=2, seed=0)
    seconds = time.perf_counter() - started
    if path:
        model.save(path)
    return model, seconds


def throughput(module, sentences: list[str], repeat: int) -> float:
    import tensorflow as tf

    batches = [tf.constant(sentences[k : k + 1000]) for k in range(0, len(sentences), 1000)]
    module(batches[0])  # traced and warm
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for batch in batches:
            module(batch)
        best = min(best, time.perf_counter() - started)
    return len(sentences) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="runs/demo/model", help="model (default %(default)s: make demo)")
    parser.add_argument("--fasttext", help="a gensim FastText model to reuse, or where to save the one trained")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not Path(args.model).exists():
        sys.exit(f"bench_subwords: {args.model} not found: run 'make demo' first or pass --model")
    try:
        import gensim  # noqa: F401
    except ImportError:
        sys.exit("bench_subwords: needs gensim: .venv/bin/pip install -e '.[bench]'")
    import tensorflow as tf
    import tensorflow_hub as hub

    from cordswivel.embedding.hub import export_hub_module

    plain = load(args.model).with_subwords(SubwordConfig(buckets=0))
    tf.constant(["warm up TensorFlow's import and string ops"])
    started = time.perf_counter()
    model = plain.with_subwords(SubwordConfig())
    fit_seconds = time.perf_counter() - started
    cooccurrence = plain.config.get("cooccurrence", {})
    min_count, window = cooccurrence.get("min_count", 10), cooccurrence.get("window", 10)
    fasttext, fasttext_seconds = fasttext_model(args.fasttext, min_count, window)
    report: dict = {
        "benchmark": "subwords",
        "model": args.model,
        "vocab_size": len(model),
        "buckets": model.subwords.buckets,
        "fit_seconds": round(fit_seconds, 2),
        "fit_relative_error": round(model.config["subwords"]["relative_error"], 3),
        "fasttext": {"min_count": min_count, "window": window, "vocab_size": len(fasttext.wv)},
    }
    if fasttext_seconds is not None:
        report["fasttext"]["train_seconds"] = round(fasttext_seconds, 1)
    data = find_data_dir() / "wordsim-dev"
    for name, file in PAIRS.items():
        pairs = read_pairs(data / file)
        human = [s for *_, s in pairs]
        ft = [float(fasttext.wv.similarity(a, b)) for a, b, _ in pairs]
        ft_known = [
            k for k, (a, b, _) in enumerate(pairs) if a in fasttext.wv.key_to_index and b in fasttext.wv.key_to_index
        ]
        ours = model.evaluate_word_pairs(data / file)
        before = plain.evaluate_word_pairs(data / file)
        report[name] = {
            "pairs": len(pairs),
            "cordswivel_every_pair": round(ours.spearman, 4),
            "pairs_by_subwords": ours.pairs_subword,
            "cordswivel_in_vocabulary": round(ours.spearman_in_vocabulary, 4),
            "without_subwords": round(before.spearman, 4),
            "pairs_in_vocabulary": before.pairs_covered,
            "fasttext_every_pair": round(float(stats.spearmanr(ft, human).statistic), 4),
            "fasttext_in_vocabulary": round(
                float(stats.spearmanr([ft[k] for k in ft_known], [human[k] for k in ft_known]).statistic), 4
            ),
        }
    scicite = load_scicite(find_data_dir() / "scicite")
    sentences = list(scicite.train.texts) + list(scicite.validation.texts) + list(scicite.test.texts)
    with tempfile.TemporaryDirectory() as scratch:
        sizes, modules = {}, {}
        for name, embedding in (("without_subwords", plain), ("with_subwords", model)):
            path = export_hub_module(embedding, Path(scratch) / name)
            sizes[name] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            modules[name] = hub.load(str(path))
        rates: dict[str, list[float]] = {name: [] for name in modules}
        for _ in range(2):  # alternating, so that a drifting VM affects both
            for name, module in modules.items():
                rates[name].append(throughput(module, sentences, args.repeat))
    table_bytes = model.subwords.vectors.nbytes
    report["saved_model"] = {
        "bytes": sizes,
        "growth_bytes": sizes["with_subwords"] - sizes["without_subwords"],
        "ngram_table_bytes": table_bytes,
        "sentences_per_second": {name: round(max(r)) for name, r in rates.items()},
        "sentences": len(sentences),
    }
    report["targets"] = {
        "RW": "cordswivel_every_pair >= fasttext_every_pair",
        "MEN, SimLex-999": "cordswivel_in_vocabulary == without_subwords",
        "fit_seconds": 30,
        "growth_bytes": "<= ngram_table_bytes (+ a small graph)",
        "sentences_per_second": "with_subwords >= 0.8 x without_subwords",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
