"""SciCite citation intent (Cohan et al., NAACL 2019) and the TF-Hub tutorial's classifier on it.

Data: the allenai release's ``train.jsonl``, ``dev.jsonl`` and ``test.jsonl`` (JSON lines with ``string``
and ``label``; ``NaN`` literals occur and are accepted), one row per ``unique_id`` as TensorFlow
Datasets keeps them (train 8,194 / validation 916 / test 1,859), labels in TFDS order
(method, background, result).

Classifier (docs/design.md, "SciCite"): the text embedding as a Keras layer on raw strings (frozen unless
``trainable``) -> Dense(3) logits; Adam; sparse categorical cross-entropy from logits; 35 epochs;
batch 32; training data shuffled with a 10,000 buffer; validation after every epoch.

TensorFlow is imported inside the functions that use it, as in ``swivel``: the demo counts on forked
worker processes before it trains, and forking is unsafe once TensorFlow is loaded.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ..config import ClassifierConfig
from ..embedding.vectors import TextEmbedding
from ..errors import CorpusError, DataDirError, ErrorKind, ModelFormatError
from ..fileio import atomic_directory, atomic_write_json, read_json, save_figure

log = logging.getLogger(__name__)

LABELS = ("method", "background", "result")
SPLIT_FILES = {"train": "train.jsonl", "validation": "dev.jsonl", "test": "test.jsonl"}


@dataclass(frozen=True)
class Split:
    """Sentences and integer labels (index into ``LABELS``) of one split."""

    texts: tuple[str, ...]
    labels: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class SciCite:
    """The three splits, as TensorFlow Datasets names them."""

    train: Split
    validation: Split
    test: Split


def _find_scicite_dir(path: Path) -> Path:
    for candidate in (path, path / "scicite"):
        if all((candidate / name).is_file() for name in SPLIT_FILES.values()):
            return candidate
    raise DataDirError(
        f"{path}: no SciCite files (expected {', '.join(SPLIT_FILES.values())} there or in "
        f"a scicite/ folder; see README.md, 'Data')"
    )


def read_split(path: str | os.PathLike) -> Split:
    """One SciCite JSON lines file, deduplicated by ``unique_id`` (the first row wins, as TFDS)."""
    path = Path(path)
    texts, labels, seen = [], [], set()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise CorpusError(
                    path, f"invalid UTF-8 at byte {exc.start}", line=number, kind=ErrorKind.INVALID_UTF8
                ) from None
            except ValueError as exc:
                raise CorpusError(path, f"malformed JSON ({exc})", line=number, kind=ErrorKind.MALFORMED_JSON) from None
            if not isinstance(row, dict) or not isinstance(row.get("string"), str):
                raise CorpusError(
                    path, "expected an object with a text field 'string'", line=number, kind=ErrorKind.WRONG_TYPE
                )
            if row.get("label") not in LABELS:
                raise CorpusError(
                    path,
                    f"unknown label {row.get('label')!r} (expected one of {', '.join(LABELS)})",
                    line=number,
                    kind=ErrorKind.UNKNOWN_LABEL,
                )
            key = row.get("unique_id", f"line{number}")
            if key in seen:
                continue
            seen.add(key)
            texts.append(row["string"])
            labels.append(LABELS.index(row["label"]))
    if not texts:
        raise CorpusError(path, "no examples", kind=ErrorKind.EMPTY_FILE)
    return Split(tuple(texts), np.asarray(labels, dtype=np.int64))


def load_scicite(path: str | os.PathLike) -> SciCite:
    """SciCite from a directory holding the three files (or the allenai ``scicite/`` folder)."""
    directory = _find_scicite_dir(Path(path))
    return SciCite(**{split: read_split(directory / name) for split, name in SPLIT_FILES.items()})


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one class, and how many examples it has."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """Classification quality on one split; ``loss`` is the mean cross-entropy (NaN when not known)."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion_matrix: list[list[int]]  # rows: truth, columns: prediction
    loss: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classification_metrics(
    labels: np.ndarray, predictions: np.ndarray, num_classes: int = len(LABELS), *, loss: float = float("nan")
) -> Metrics:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    per_class = {}
    for k in range(num_classes):
        tp = confusion[k, k]
        predicted, actual = confusion[:, k].sum(), confusion[k, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        name = LABELS[k] if num_classes == len(LABELS) else str(k)
        per_class[name] = ClassScores(float(precision), float(recall), float(f1), int(actual))
    return Metrics(
        accuracy=float(np.trace(confusion) / max(confusion.sum(), 1)),
        macro_f1=float(np.mean([c.f1 for c in per_class.values()])),
        per_class=per_class,
        confusion_matrix=confusion.tolist(),
        loss=loss,
    )


# --------------------------------------------------------------------------- classifier


@dataclass(frozen=True)
class ClassifierResult:
    """A trained classifier, its training curves and its quality on validation and test."""

    model: Any  # the tf-keras model: strings -> logits
    history: dict[str, list[float]]  # per-epoch loss, accuracy, val_loss, val_accuracy
    validation: Metrics
    test: Metrics
    config: ClassifierConfig

    def to_dict(self) -> dict[str, Any]:
        """The content of metrics.json."""
        return {
            "validation": self.validation.to_dict(),
            "test": self.test.to_dict(),
            "history": self.history,
            "config": self.config.to_dict(),
        }


def build_classifier(embedding: TextEmbedding, config: ClassifierConfig = ClassifierConfig()) -> Any:
    """The tutorial's model: text embedding layer -> Dense(3) logits, compiled with Adam."""
    import tensorflow as tf
    import tf_keras as keras

    keras.utils.set_random_seed(config.seed)
    model = keras.Sequential(
        [
            keras.layers.InputLayer(input_shape=[], dtype=tf.string),
            embedding.keras_layer(trainable=config.trainable),
            keras.layers.Dense(len(LABELS), name="logits"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _dataset(split: Split, config: ClassifierConfig, *, shuffle: bool) -> Any:
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((list(split.texts), split.labels))
    if shuffle:
        data = data.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
    return data.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def train_classifier(
    embedding: TextEmbedding,
    data: SciCite,
    config: ClassifierConfig = ClassifierConfig(),
    *,
    on_epoch: Callable[[int, dict], None] | None = None,
) -> ClassifierResult:
    """Train on ``data.train`` with validation each epoch, then evaluate on validation and test."""
    import tf_keras as keras

    config.validate()
    model = build_classifier(embedding, config)
    callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=on_epoch)] if on_epoch else []
    history = model.fit(
        _dataset(data.train, config, shuffle=True),
        epochs=config.epochs,
        validation_data=_dataset(data.validation, config, shuffle=False),
        callbacks=callbacks,
        verbose=0,
    )
    return ClassifierResult(
        model,
        {k: [float(v) for v in values] for k, values in history.history.items()},
        validation=evaluate(model, data.validation),
        test=evaluate(model, data.test),
        config=config,
    )


def predict_logits(model: Any, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """Logits (n, 3) of a classifier for ``texts``, in batches."""
    import tensorflow as tf

    texts = list(texts)
    out = [
        model(tf.constant(texts[k : k + batch_size]), training=False).numpy() for k in range(0, len(texts), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, len(LABELS)), np.float32)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def evaluate(model: Any, split: Split) -> Metrics:
    """``classification_metrics`` on one split, with the loss (mean cross-entropy from logits)."""
    logits = predict_logits(model, split.texts)
    loss = float(-log_softmax(logits)[np.arange(len(split)), split.labels].mean())
    return classification_metrics(split.labels, logits.argmax(axis=1), loss=loss)


# --------------------------------------------------------------------------- outputs


def plot_curves(history: dict[str, list[float]], path: str | os.PathLike) -> None:
    """Accuracy and loss per epoch, training vs validation, as the tutorial draws them."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    for ax, key, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss")):
        ax.plot(epochs, history[key], "o-", label="training", markersize=3)
        ax.plot(epochs, history[f"val_{key}"], "s-", label="validation", markersize=3)
        ax.set_title(f"{title} per epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def plot_confusion(
    confusion: list[list[int]], path: str | os.PathLike, title: str = "SciCite test confusion matrix"
) -> None:
    fig = Figure(figsize=(5, 4.2))
    ax = fig.subplots()
    sns.heatmap(np.asarray(confusion), annot=True, fmt="d", cmap="Blues", xticklabels=LABELS, yticklabels=LABELS, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


@dataclass(frozen=True)
class Prediction:
    """One sentence with its true and predicted label (a row of the tutorial's table)."""

    text: str
    label: str
    prediction: str


def prediction_rows(model: Any, split: Split, count: int = 20) -> list[Prediction]:
    """The first ``count`` sentences of a split with true and predicted labels."""
    texts = split.texts[:count]
    predicted = predict_logits(model, texts).argmax(axis=1)
    return [
        Prediction(t, LABELS[int(y)], LABELS[int(p)])
        for t, y, p in zip(texts, split.labels[:count], predicted, strict=True)
    ]


def write_classifier_outputs(
    result: ClassifierResult, data: SciCite, out_dir: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """metrics.json, curves.png, confusion.png, predictions.csv and the saved classifier: one directory,
    written atomically (an existing one is replaced only with ``overwrite``)."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        atomic_write_json(tmp / "metrics.json", result.to_dict())
        plot_curves(result.history, tmp / "curves.png")
        plot_confusion(result.test.confusion_matrix, tmp / "confusion.png")
        with open(tmp / "predictions.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["text", "label", "prediction"])
            writer.writeheader()
            writer.writerows(asdict(row) for row in prediction_rows(result.model, data.test))
        save_classifier(result.model, tmp / "classifier")
    return out_dir


def save_classifier(model: Any, path: str | os.PathLike) -> Path:
    """Save the classifier as a TensorFlow SavedModel (strings in, logits out) plus its labels."""
    import tensorflow as tf

    path = Path(path)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(texts: Any) -> dict[str, Any]:
        return {"logits": model(texts, training=False)}

    with atomic_directory(path, overwrite=True) as tmp:
        model.save(tmp, save_format="tf", signatures={"serving_default": serve})
        atomic_write_json(tmp / "labels.json", {"labels": list(LABELS)})
    return path


@dataclass(frozen=True)
class Intent:
    """A sentence's predicted citation intent and the probability of each label."""

    label: str
    probabilities: dict[str, float]


def predict_intents(
    classify: Callable[[Sequence[str]], tuple[np.ndarray, list[str]]], texts: Sequence[str]
) -> list[Intent]:
    """Intents of ``texts`` from a ``load_classifier`` callable (softmax of its logits)."""
    if not texts:
        return []
    logits, labels = classify(texts)
    probabilities = np.exp(log_softmax(np.asarray(logits, np.float64)))
    return [
        Intent(labels[int(p.argmax())], {label: float(x) for label, x in zip(labels, p, strict=True)})
        for p in probabilities
    ]


def load_classifier(path: str | os.PathLike) -> Callable[[Sequence[str]], tuple[np.ndarray, list[str]]]:
    """A saved classifier: a callable from a list of strings to (logits, labels)."""
    import tensorflow as tf

    path = Path(path)
    if not (path / "saved_model.pb").is_file() or not (path / "labels.json").is_file():
        raise ModelFormatError(f"{path}: not a saved cordswivel classifier (expected saved_model.pb and labels.json)")
    meta = read_json(path / "labels.json")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise ModelFormatError(f'{path / "labels.json"}: expected {{"labels": [label names]}}')
    try:
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        width = serve.structured_outputs["logits"].shape[-1]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as exc:
        raise ModelFormatError(f"{path}: unreadable saved classifier ({type(exc).__name__})") from None
    if width != len(labels):
        raise ModelFormatError(f"{path / 'labels.json'}: {len(labels)} labels for {width} classifier outputs")
    return lambda texts: (serve(tf.constant(list(texts), dtype=tf.string))["logits"].numpy(), labels)
