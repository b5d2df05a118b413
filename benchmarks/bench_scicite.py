"""SciCite quality bar: frozen and fine-tuned embedding + Dense(3), three seeds (reference: ../shared/DESIGN.md).

    .venv/bin/python benchmarks/bench_scicite.py [--model runs/demo/model] [--seeds 0 1 2] [--modes frozen]

Without ``--model`` it first trains the demo embeddings on the bundled sample (``runs/bench/model``).
Bar: test accuracy >= 0.81 and macro-F1 >= 0.78 frozen (what word2vec CBOW reaches on the same sample).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cordswivel
from cordswivel.config import DEMO_COOCCUR, DEMO_SWIVEL, ClassifierConfig
from cordswivel.data import cord19_sample_paths, find_data_dir
from cordswivel.pipeline.train import train_embeddings
from cordswivel.tutorial.analysis import group_cosines
from cordswivel.tutorial.scicite import load_scicite, train_classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modes", nargs="+", choices=("frozen", "fine-tuned"), default=["frozen", "fine-tuned"])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    if args.model:
        model = cordswivel.load(args.model)
    else:
        model = train_embeddings(
            "runs/bench/model",
            corpus=cord19_sample_paths(args.data_dir),
            cooccur_config=DEMO_COOCCUR,
            swivel_config=DEMO_SWIVEL,
            resume=True,
            overwrite=True,
        )
    data = load_scicite(find_data_dir(args.data_dir) / "scicite")
    result = {
        "benchmark": "scicite",
        "vocab_size": len(model),
        "heatmap": dataclasses.asdict(group_cosines(model)),
        "runs": {},
    }
    for name in args.modes:
        trainable = name == "fine-tuned"
        runs = []
        for seed in args.seeds:
            started = time.perf_counter()
            trained = train_classifier(model, data, ClassifierConfig(trainable=trainable, seed=seed))
            metrics = trained.test
            runs.append(
                {
                    "seed": seed,
                    "validation_accuracy": round(trained.validation.accuracy, 4),  # the dev figure to choose on
                    "accuracy": round(metrics.accuracy, 4),
                    "macro_f1": round(metrics.macro_f1, 4),
                    "loss": round(metrics.loss, 4),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(name, runs[-1], file=sys.stderr, flush=True)
        result["runs"][name] = {
            "per_seed": runs,
            "mean_validation_accuracy": round(statistics.mean(r["validation_accuracy"] for r in runs), 4),
            "mean_accuracy": round(statistics.mean(r["accuracy"] for r in runs), 4),
            "mean_macro_f1": round(statistics.mean(r["macro_f1"] for r in runs), 4),
        }
    result["bar"] = {"accuracy": 0.81, "macro_f1": 0.78, "within_minus_between_cosine": 0.40}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
