"""The demo behind ``make demo``: the TF-Hub CORD-19 tutorial end to end on embeddings trained here.

Swivel embeddings on the bundled CORD-19 sample (settings: ``config.DEMO_COOCCUR``,
``config.DEMO_SWIVEL``), then the tutorial: similarity heatmap, neighbours, SciCite classifier, and
the report (``report``): ``OUT/report.html`` and ``OUT/metrics.json``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import DEMO_COOCCUR, DEMO_SWIVEL, ClassifierConfig, CooccurConfig, SwivelConfig
from ..counting.execution import Progress
from ..data import cord19_sample_paths, find_data_dir
from ..errors import ConfigError
from ..fileio import atomic_write_json, output_lock
from ..tutorial.analysis import TUTORIAL_TERMS, group_cosines, neighbour_table, plot_heatmap, similarity_matrix
from ..tutorial.scicite import load_scicite, prediction_rows, train_classifier, write_classifier_outputs
from .report import DemoResult, plot_training_loss, write_report
from .train import run_training


def run_demo(
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    classifier_config: ClassifierConfig = ClassifierConfig(),
    swivel_config: SwivelConfig = DEMO_SWIVEL,
    corpus_paths: Sequence[str | os.PathLike] | None = None,
    cooccur_config: CooccurConfig = DEMO_COOCCUR,
    log: Callable[[str], None] = print,
    count_progress: Progress | None = None,
    epoch_progress: Callable[[int, int], Any] | None = None,
    on_classifier_epoch: Callable[[int, dict], None] | None = None,
    overwrite: bool = False,
) -> DemoResult:
    """Everything the tutorial shows, into ``out_dir`` (report.html, metrics.json, model, plots).

    ``corpus_paths``/``cooccur_config`` replace the bundled sample and its settings (for tests). An
    interrupted demo continues; a finished one (``metrics.json`` written) runs again only with
    ``overwrite``.
    """
    out_dir = Path(out_dir)
    if (out_dir / "metrics.json").exists() and not overwrite:
        raise ConfigError(
            f"{out_dir}: holds a finished demo (open {out_dir / 'report.html'}); use --overwrite to run it again"
        )
    corpus_paths = corpus_paths or cord19_sample_paths(data_dir)
    with output_lock(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        log("1/4 training Swivel embeddings")
        training = run_training(
            out_dir / "model",
            corpus=corpus_paths,
            cooccur_config=cooccur_config,
            swivel_config=swivel_config,
            workers=workers,
            resume=True,
            overwrite=True,
            count_progress=count_progress,
            epoch_progress=epoch_progress,
        )
        training_seconds = time.perf_counter() - started
        model = training.embedding
        log("2/4 similarity heatmap and neighbours")
        heatmap = similarity_matrix(model, TUTORIAL_TERMS)
        plot_heatmap(heatmap, out_dir / "heatmap.png")
        log("3/4 SciCite classifier")
        data = load_scicite(find_data_dir(data_dir) / "scicite")
        classifier = train_classifier(model, data, classifier_config, on_epoch=on_classifier_epoch)
        write_classifier_outputs(classifier, data, out_dir / "scicite", overwrite=True)  # an interrupted demo's
        log("4/4 report")
        plot_training_loss(training.losses, out_dir / "training_loss.png")
        result = DemoResult(
            out_dir=out_dir,
            cooccur_config=cooccur_config,
            swivel_config=swivel_config,
            training=training,
            heatmap=heatmap,
            coherence=group_cosines(model),
            neighbours=neighbour_table(model, TUTORIAL_TERMS),
            classifier=classifier,
            predictions=prediction_rows(classifier.model, data.test),
            training_seconds=training_seconds,
            seconds=0.0,
        )
        write_report(out_dir / "report.html", result)
        result = dataclasses.replace(result, seconds=time.perf_counter() - started)
        atomic_write_json(out_dir / "metrics.json", result.metrics())
        return result
