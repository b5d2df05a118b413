"""The demo behind ``make demo``: the TF-Hub CORD-19 tutorial end to end on embeddings trained here.

Swivel settings are chosen for the 3.6 M-token bundled sample: shards of 1,024 words give every row
17 updates per epoch (4,096-word shards give only 4, and Adagrad then needs far more epochs), min
count 10 keeps a 17,408-word cased vocabulary, and 20 epochs reach clean neighbours in about 2.5
minutes on 2 cores. Then the tutorial: similarity heatmap, neighbours, SciCite classifier, report.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .analysis import TUTORIAL_TERMS, group_cosines, neighbour_table, plot_heatmap, similarity_matrix
from .cooccur import CooccurConfig
from .data import cord19_sample_paths, find_data_dir
from .fileio import atomic_write_json
from .pipeline import train_embeddings
from .report import plot_training_loss, write_report
from .scicite import ClassifierConfig, load_scicite, prediction_rows, train_classifier, write_classifier_outputs
from .swivel import SwivelConfig

DEMO_COOCCUR = CooccurConfig(min_count=10, window=10, shard_size=1024)
DEMO_SWIVEL = SwivelConfig(embedding_dim=128, epochs=20, seed=0)


def run_demo(out_dir: str | os.PathLike, *, data_dir=None, workers: int | None = None,
             classifier_config: ClassifierConfig = ClassifierConfig(), swivel_config: SwivelConfig = DEMO_SWIVEL,
             corpus_paths=None, cooccur_config: CooccurConfig = DEMO_COOCCUR,
             log: Callable[[str], None] = print, count_progress=None, epoch_progress=None,
             on_classifier_epoch=None) -> dict:
    """Everything the tutorial shows, into ``out_dir``; returns the metrics written to metrics.json.

    ``corpus_paths``/``cooccur_config`` replace the bundled sample and its settings (for tests).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log("1/4 training Swivel embeddings")
    model = train_embeddings(out_dir / "model", corpus=corpus_paths or cord19_sample_paths(data_dir),
                             cooccur_config=cooccur_config, swivel_config=swivel_config, workers=workers,
                             resume=True, overwrite=True, count_progress=count_progress,
                             epoch_progress=epoch_progress)
    training_seconds = time.perf_counter() - started
    log("2/4 similarity heatmap and neighbours")
    heatmap = similarity_matrix(model, TUTORIAL_TERMS)
    plot_heatmap(heatmap, out_dir / "heatmap.png")
    coherence = group_cosines(model)
    neighbours = neighbour_table(model, TUTORIAL_TERMS)
    log("3/4 SciCite classifier")
    data = load_scicite(find_data_dir(data_dir) / "scicite")
    result = train_classifier(model, data, classifier_config, on_epoch=on_classifier_epoch)
    write_classifier_outputs(result, data, out_dir / "scicite")
    log("4/4 report")
    losses = [float(line.split("\t")[1]) for line in
              (out_dir / "model" / "training_loss.tsv").read_text().splitlines()[1:]]
    plot_training_loss(losses, out_dir / "training_loss.png")
    corpus = model.config["corpus"]
    metrics = {
        "scicite": {split: {k: result.metrics[split][k] for k in ("loss", "accuracy", "macro_f1")}
                    for split in ("validation", "test")},
        "training": {"seconds": training_seconds, "final_loss": losses[-1], "epochs": len(losses)},
        "heatmap": {**coherence, "oov_terms": list(heatmap.oov)},
        "corpus": {k: corpus[k] for k in ("tokens", "units", "types", "vocab_size", "nnz")},
        "settings": {"cooccurrence": asdict(cooccur_config), "swivel": asdict(swivel_config),
                     "classifier": asdict(classifier_config)},
    }
    metrics["settings"]["cooccurrence"]["text_fields"] = list(cooccur_config.text_fields)
    write_report(out_dir / "report.html", title="cordswivel: CORD-19 Swivel embeddings and SciCite",
                 corpus={"tokens": corpus["tokens"], "text units": corpus["units"], "distinct tokens": corpus["types"],
                         "vocabulary": corpus["vocab_size"], "non-zero co-occurrence cells": corpus["nnz"],
                         "files": ", ".join(Path(p).name for p in corpus.get("paths", []))},
                 settings={**{k: v for k, v in asdict(cooccur_config).items() if k != "text_fields"},
                           **asdict(swivel_config)},
                 training={"seconds": f"{training_seconds:.0f}", "final loss": f"{losses[-1]:.4f}"},
                 images={"loss": out_dir / "training_loss.png", "heatmap": out_dir / "heatmap.png",
                         "curves": out_dir / "scicite" / "curves.png",
                         "confusion": out_dir / "scicite" / "confusion.png"},
                 neighbours=neighbours,
                 heatmap_info={**coherence, "terms not in vocabulary": ", ".join(heatmap.oov) or "none"},
                 scicite=result.metrics, predictions=prediction_rows(result.model, data.test))
    metrics["demo_seconds"] = time.perf_counter() - started
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics
