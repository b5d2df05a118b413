"""The demo report: one self-contained HTML page (images embedded) a researcher can open or send."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from .fileio import atomic_write_text, save_figure


def plot_training_loss(losses: list[float], path: str | os.PathLike) -> Path:
    from matplotlib.figure import Figure

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


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f2f2f2}img{max-width:100%}h2{border-bottom:1px solid #ddd;margin-top:2em}
.small{color:#666;font-size:90%}"""


def write_report(path: str | os.PathLike, *, title: str, corpus: dict, settings: dict, training: dict,
                 images: dict[str, Path], neighbours: list, heatmap_info: dict, scicite: dict,
                 predictions: list[dict]) -> Path:
    """Write the report page; ``images`` maps 'loss', 'heatmap', 'curves', 'confusion' to PNG files."""
    test, validation = scicite["test"], scicite["validation"]
    per_class = [[name, f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", c["support"]]
                 for name, c in test["per_class"].items()]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        "<h2>Corpus</h2>",
        _table(["statistic", "value"], [[k, f"{v:,}" if isinstance(v, int) else v] for k, v in corpus.items()]),
        "<h2>Swivel training</h2>",
        _table(["setting", "value"], [[k, v] for k, v in settings.items()]),
        _table(["result", "value"], [[k, v] for k, v in training.items()]),
        _image(images["loss"], "training loss per epoch"),
        "<h2>Similarity of the tutorial's terms</h2>",
        "<p>Inner products of the terms' embeddings divided by their maximum, as the TF-Hub tutorial draws "
        "them; the three groups (viruses, places, symptoms) should show as bright diagonal blocks.</p>",
        _image(images["heatmap"], "similarity heatmap"),
        _table(["measure", "value"], [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in heatmap_info.items()]),
        "<h2>Nearest neighbours (cosine)</h2>",
        _table(["term", "neighbours"], [[t, ", ".join(f"{w} ({s:.2f})" for w, s in n) or "(not in vocabulary)"]
                                        for t, n in neighbours]),
        "<h2>SciCite citation intent</h2>",
        "<p>Frozen embedding layer on raw strings &rarr; Dense(3) logits; Adam; cross-entropy from logits; "
        f"{scicite['config']['epochs']} epochs, batch {scicite['config']['batch_size']}"
        f"{' (embedding fine-tuned)' if scicite['config']['trainable'] else ''}.</p>",
        _image(images["curves"], "accuracy and loss per epoch"),
        _table(["split", "loss", "accuracy", "macro-F1"],
               [[name, f"{m['loss']:.3f}", f"{m['accuracy']:.3f}", f"{m['macro_f1']:.3f}"]
                for name, m in (("validation", validation), ("test", test))]),
        _table(["class (test)", "precision", "recall", "F1", "support"], per_class),
        _image(images["confusion"], "confusion matrix"),
        "<h3>Predictions on the first 20 test sentences</h3>",
        _table(["sentence", "label", "prediction"], [[p["text"], p["label"], p["prediction"]] for p in predictions]),
        "<p class='small'>Made by cordswivel; reference: the TF-Hub tutorial of "
        "tensorflow/cord-19/swivel-128d/3 (test accuracy 0.790 with the published module).</p></body></html>",
    ]
    path = Path(path)
    atomic_write_text(path, "\n".join(parts))
    return path
