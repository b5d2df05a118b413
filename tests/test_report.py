"""The demo report: its tables show the results it is given, escaped, with its four plots embedded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cordswivel.config import ClassifierConfig, CooccurConfig, SwivelConfig
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.fileio import save_figure
from cordswivel.pipeline.report import DemoResult, write_report
from cordswivel.pipeline.train import TrainingResult
from cordswivel.tutorial.analysis import GroupCoherence, SimilarityMatrix
from cordswivel.tutorial.scicite import ClassifierResult, Prediction, classification_metrics


def demo_result(out: Path) -> DemoResult:
    for name in ("training_loss.png", "heatmap.png", "scicite/curves.png", "scicite/confusion.png"):
        fig = Figure(figsize=(1, 1))
        fig.subplots().plot([0, 1])
        save_figure(fig, out / name)
    corpus = {"tokens": 1234, "units": 10, "types": 50, "vocab_size": 2, "nnz": 3, "paths": ["/x/a.txt"]}
    embedding = TextEmbedding(
        Vocabulary(("a", "b"), np.ones(2, np.int64)), np.zeros((3, 2), np.float32), config={"corpus": corpus}
    )
    test = classification_metrics(np.array([0, 1, 2, 1]), np.array([0, 1, 1, 1]), loss=0.5)
    validation = classification_metrics(np.array([0, 1]), np.array([0, 0]), loss=0.75)
    classifier = ClassifierResult(None, {"loss": [1.0]}, validation, test, ClassifierConfig(epochs=1))
    return DemoResult(
        out_dir=out,
        cooccur_config=CooccurConfig(),
        swivel_config=SwivelConfig(epochs=2),
        training=TrainingResult(embedding, (2.0, 1.5), (1.0, 1.0), "reached the maximum of 2 epochs"),
        heatmap=SimilarityMatrix(("a", "zz"), np.eye(2), False, ("zz",)),
        coherence=GroupCoherence(0.6, 0.1),
        neighbours=[("a", [("b", 0.5)]), ("zz", [])],
        classifier=classifier,
        predictions=[Prediction("uses <b>[1]</b>", "method", "result")],
        training_seconds=12.0,
        seconds=30.0,
    )


def test_report_shows_the_results(tmp_path):
    result = demo_result(tmp_path)
    page = write_report(tmp_path / "report.html", result).read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "<td>1,234</td>" in page and "<td>a.txt</td>" in page
    assert "<td>test</td><td>0.500</td><td>0.750</td>" in page  # loss, accuracy 3/4
    assert "uses &lt;b&gt;[1]&lt;/b&gt;" in page and "<b>[1]" not in page
    assert "<td>stopped</td><td>reached the maximum of 2 epochs</td>" in page
    assert "<td>b (0.50)</td>" in page and "(not in vocabulary)" in page and "<td>zz</td>" in page


def test_metrics_are_the_results_as_json(tmp_path):
    metrics = json.loads(json.dumps(demo_result(tmp_path).metrics()))
    assert metrics["scicite"]["test"] == {
        "loss": 0.5,
        "accuracy": 0.75,
        "macro_f1": metrics["scicite"]["test"]["macro_f1"],
    }
    assert abs(metrics["scicite"]["test"]["macro_f1"] - np.mean([1.0, 0.8, 0.0])) < 1e-9
    assert metrics["training"] == {
        "seconds": 12.0,
        "final_loss": 1.5,
        "epochs": 2,
        "stop_reason": "reached the maximum of 2 epochs",
    }
    assert metrics["heatmap"] == {
        "within_group_mean_cosine": 0.6,
        "between_group_mean_cosine": 0.1,
        "oov_terms": ["zz"],
    }
    assert metrics["settings"]["swivel"]["epochs"] == 2 and metrics["demo_seconds"] == 30.0
