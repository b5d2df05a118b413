"""What the demo found (``DemoResult``), as one self-contained HTML page (images embedded) a
researcher can open or send, and as the ``metrics.json`` that programs read."""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..config import ClassifierConfig, CooccurConfig, SwivelConfig
from ..fileio import atomic_write_text, save_figure
from ..tutorial.analysis import GroupCoherence, SimilarityMatrix
from ..tutorial.scicite import ClassifierResult, Prediction
from .train import TrainingResult

TITLE = "cordswivel: CORD-19 Swivel embeddings and SciCite"
PUBLISHED_TEST_ACCURACY = 0.790  # the TF-Hub tutorial with tensorflow/cord-19/swivel-128d/3


@dataclass(frozen=True)
class DemoResult:
    """Everything the tutorial shows, for the embeddings trained by the demo."""

    out_dir: Path
    cooccur_config: CooccurConfig
    swivel_config: SwivelConfig
    training: TrainingResult
    heatmap: SimilarityMatrix
    coherence: GroupCoherence
    neighbours: list[tuple[str, list[tuple[str, float]]]]
    classifier: ClassifierResult
    predictions: list[Prediction]
    training_seconds: float  # counting and training, wall time
    seconds: float  # the whole demo

    @property
    def classifier_config(self) -> ClassifierConfig:
        return self.classifier.config

    def metrics(self) -> dict[str, Any]:
        """The content of metrics.json."""
        corpus = self.training.embedding.config["corpus"]
        return {
            "scicite": {
                name: {"loss": m.loss, "accuracy": m.accuracy, "macro_f1": m.macro_f1}
                for name, m in (("validation", self.classifier.validation), ("test", self.classifier.test))
            },
            "training": {
                "seconds": self.training_seconds,
                "final_loss": self.training.losses[-1],
                "epochs": len(self.training.losses),
                "stop_reason": self.training.stop_reason,
            },
            "heatmap": {
                "within_group_mean_cosine": self.coherence.within_group_mean_cosine,
                "between_group_mean_cosine": self.coherence.between_group_mean_cosine,
                "oov_terms": list(self.heatmap.oov),
            },
            "corpus": {k: corpus[k] for k in ("tokens", "units", "types", "vocab_size", "nnz")},
            "settings": {
                "cooccurrence": self.cooccur_config.to_dict(),
                "swivel": self.swivel_config.to_dict(),
                "classifier": self.classifier_config.to_dict(),
            },
            "demo_seconds": self.seconds,
        }


def plot_training_loss(losses: tuple[float, ...] | list[float], path: str | os.PathLike) -> Path:
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    ax.plot(range(1, len(losses) + 1), losses, "o-", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean block loss")
    ax.set_title("Swivel training loss")
    fig.tight_layout()
    return save_figure(fig, path)


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f2f2f2}img{max-width:100%}h2{border-bottom:1px solid #ddd;margin-top:2em}
.small{color:#666;font-size:90%}"""


def write_report(path: str | os.PathLike, result: DemoResult) -> Path:
    """Write the report page; the plots are the PNG files the demo drew in ``result.out_dir``."""
    out, corpus = result.out_dir, result.training.embedding.config["corpus"]
    test, validation, config = result.classifier.test, result.classifier.validation, result.classifier_config
    settings = {
        **{k: v for k, v in result.cooccur_config.to_dict().items() if k != "text_fields"},
        **result.swivel_config.to_dict(),
    }
    corpus_rows = {
        "tokens": corpus["tokens"],
        "text units": corpus["units"],
        "distinct tokens": corpus["types"],
        "vocabulary": corpus["vocab_size"],
        "non-zero co-occurrence cells": corpus["nnz"],
        "files": ", ".join(Path(p).name for p in corpus.get("paths", [])),
    }
    coherence = {
        "within_group_mean_cosine": f"{result.coherence.within_group_mean_cosine:.3f}",
        "between_group_mean_cosine": f"{result.coherence.between_group_mean_cosine:.3f}",
        "terms not in vocabulary": ", ".join(result.heatmap.oov) or "none",
    }
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(TITLE)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(TITLE)}</h1>",
        "<h2>Corpus</h2>",
        _table(["statistic", "value"], [[k, f"{v:,}" if isinstance(v, int) else v] for k, v in corpus_rows.items()]),
        "<h2>Swivel training</h2>",
        _table(["setting", "value"], [[k, v] for k, v in settings.items()]),
        _table(
            ["result", "value"],
            [
                ["seconds", f"{result.training_seconds:.0f}"],
                ["final loss", f"{result.training.losses[-1]:.4f}"],
                ["epochs", len(result.training.losses)],
                ["stopped", result.training.stop_reason],
            ],
        ),
        _image(out / "training_loss.png", "training loss per epoch"),
        "<h2>Similarity of the tutorial's terms</h2>",
        "<p>Inner products of the terms' embeddings divided by their maximum, as the TF-Hub tutorial draws "
        "them; the three groups (viruses, places, symptoms) should show as bright diagonal blocks.</p>",
        _image(out / "heatmap.png", "similarity heatmap"),
        _table(["measure", "value"], [[k, v] for k, v in coherence.items()]),
        "<h2>Nearest neighbours (cosine)</h2>",
        _table(
            ["term", "neighbours"],
            [[t, ", ".join(f"{w} ({s:.2f})" for w, s in n) or "(not in vocabulary)"] for t, n in result.neighbours],
        ),
        "<h2>SciCite citation intent</h2>",
        "<p>Frozen embedding layer on raw strings &rarr; Dense(3) logits; Adam; cross-entropy from logits; "
        f"{config.epochs} epochs, batch {config.batch_size}"
        f"{' (embedding fine-tuned)' if config.trainable else ''}.</p>",
        _image(out / "scicite" / "curves.png", "accuracy and loss per epoch"),
        _table(
            ["split", "loss", "accuracy", "macro-F1"],
            [
                [name, f"{m.loss:.3f}", f"{m.accuracy:.3f}", f"{m.macro_f1:.3f}"]
                for name, m in (("validation", validation), ("test", test))
            ],
        ),
        _table(
            ["class (test)", "precision", "recall", "F1", "support"],
            [
                [name, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", c.support]
                for name, c in test.per_class.items()
            ],
        ),
        _image(out / "scicite" / "confusion.png", "confusion matrix"),
        "<h3>Predictions on the first 20 test sentences</h3>",
        _table(["sentence", "label", "prediction"], [[p.text, p.label, p.prediction] for p in result.predictions]),
        "<p class='small'>Made by cordswivel; reference: the TF-Hub tutorial of tensorflow/cord-19/swivel-128d/3 "
        f"(test accuracy {PUBLISHED_TEST_ACCURACY:.3f} with the published module).</p></body></html>",
    ]
    path = Path(path)
    atomic_write_text(path, "\n".join(parts))
    return path
