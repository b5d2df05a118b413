"""SciCite loading, metrics against scikit-learn's definitions, and the classifier on an easy task."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cordswivel.config import ClassifierConfig
from cordswivel.errors import CorpusError, ModelFormatError
from cordswivel.tutorial.scicite import (
    LABELS,
    classification_metrics,
    load_classifier,
    load_scicite,
    read_split,
    train_classifier,
    write_classifier_outputs,
)

from helpers import SHARED, easy_task

SCICITE = SHARED / "data" / "scicite"


def test_bundled_scicite_matches_tfds_counts_and_label_order():
    if not SCICITE.is_dir():
        pytest.skip(f"{SCICITE} is absent")
    data = load_scicite(SCICITE)
    assert (len(data.train), len(data.validation), len(data.test)) == (8194, 916, 1859)
    # validation has no duplicates: SOURCE.md's counts; test drops one row of each of its two duplicate
    # groups (SOURCE.md: raw 605 method / 997 background / 259 result)
    assert np.bincount(data.validation.labels).tolist() == [255, 538, 123]
    assert np.bincount(data.test.labels).tolist() == [604, 996, 259]


def test_reader_dedupes_tolerates_nan_and_names_bad_labels(tmp_path):
    rows = [
        {"string": "first", "label": "method", "unique_id": "u1", "citeStart": float("nan")},
        {"string": "duplicate", "label": "method", "unique_id": "u1"},
        {"string": "second", "label": "result", "unique_id": "u2"},
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")  # json.dumps writes NaN literals
    split = read_split(path)
    assert split.texts == ("first", "second") and split.labels.tolist() == [0, 2]
    path.write_text(path.read_text() + json.dumps({"string": "x", "label": "other", "unique_id": "u3"}) + "\n")
    with pytest.raises(CorpusError, match=r"train\.jsonl:4: unknown label 'other'"):
        read_split(path)


def test_metrics_agree_with_sklearn_definitions():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    m = classification_metrics(y, p)
    assert m.accuracy == pytest.approx(sklearn.accuracy_score(y, p))
    assert m.macro_f1 == pytest.approx(sklearn.f1_score(y, p, average="macro"))
    precision, recall, f1, support = sklearn.precision_recall_fscore_support(y, p)
    for k, name in enumerate(LABELS):
        assert m.per_class[name].precision == pytest.approx(precision[k])
        assert m.per_class[name].recall == pytest.approx(recall[k])
        assert m.per_class[name].f1 == pytest.approx(f1[k])
        assert m.per_class[name].support == support[k]
    assert m.confusion_matrix == sklearn.confusion_matrix(y, p).tolist()


def test_classifier_separates_an_easy_task_and_round_trips(tmp_path):
    model, data = easy_task()
    result = train_classifier(model, data, ClassifierConfig(epochs=15, batch_size=16, learning_rate=0.05))
    assert result.test.accuracy == 1.0
    assert len(result.history["val_accuracy"]) == 15
    write_classifier_outputs(result, data, tmp_path / "out")
    for name in ("metrics.json", "curves.png", "confusion.png", "predictions.csv", "classifier/saved_model.pb"):
        assert (tmp_path / "out" / name).is_file(), name
    logits, labels = load_classifier(tmp_path / "out" / "classifier")(["alpha beta of", "eta iota the"])
    assert labels == list(LABELS) and logits.argmax(axis=1).tolist() == [0, 2]
    # a corrupted labels.json: one line naming the file, from the API and the CLI alike
    from cordswivel.cli import main

    classifier = tmp_path / "out" / "classifier"
    for text, message in [
        ("{not json", r"labels\.json: not valid JSON"),
        ('{"labels": "method"}', r"labels\.json: expected \{\"labels\": \[label names\]\}"),
        ('{"labels": ["method", "background"]}', r"labels\.json: 2 labels for 3 classifier outputs"),
    ]:
        (classifier / "labels.json").write_text(text)
        with pytest.raises(ModelFormatError, match=message):
            load_classifier(classifier)
        assert main(["predict", str(classifier), "We follow [1]."]) == 1
