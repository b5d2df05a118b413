"""Each command end to end in a subprocess, as a user runs it: outputs checked against the Python API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cordswivel

from helpers import planted_corpus, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    words = planted_corpus(root / "corpus.txt", units=2000)
    result = run_cli(
        "cooccur",
        root / "corpus.txt",
        "--out",
        root / "cooc",
        "--min-count",
        1,
        "--window",
        5,
        "--shard-size",
        8,
        "--workers",
        2,
        "--memory-limit",
        "600MB",
    )
    assert result.returncode == 0, result.stderr
    assert "2,000 units" in result.stdout
    result = run_cli(
        "train",
        "--cooccur",
        root / "cooc",
        "--out",
        root / "model",
        "--dim",
        16,
        "--epochs",
        25,
        "--tolerance",
        0,
        "--seed",
        1,
    )
    assert result.returncode == 0, result.stderr
    return root, words


def test_train_then_query(trained):
    root, _words = trained
    model = cordswivel.load(root / "model")
    assert len(model) == 32 and model.embedding_dim == 16
    assert (root / "model" / "training_loss.tsv").read_text().count("\n") == 27  # header, 25 epochs, why it stopped
    assert not (root / "model.partial").exists()
    result = run_cli("neighbors", root / "model", "g0w0", "nothere", "-k", 3)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("g0w0: g0w") and first.count("g0w") == 4
    assert second == "nothere: not in vocabulary"
    result = run_cli("embed", root / "model", "g1w1 g1w2", "")
    data = json.loads(result.stdout)
    np.testing.assert_allclose(data[0]["embedding"], model.embed(["g1w1 g1w2"])[0], atol=1e-6)
    assert not any(data[1]["embedding"])
    pairs = root / "pairs.tsv"
    pairs.write_text("g0w0\tg0w1\t10\ng0w0\tg1w0\t1\ng2w3\tg2w4\t9\ng2w3\tg3w4\t2\nfoo\tbar\t1\n")
    result = run_cli("evaluate-pairs", root / "model", pairs)
    scores = json.loads(result.stdout)
    assert scores["pairs_covered"] == 4 and scores["pairs_total"] == 5 and scores["spearman"] > 0.5


def test_train_from_corpus_in_one_command_and_refuses_to_overwrite(trained):
    root, _ = trained
    result = run_cli(
        "train",
        root / "corpus.txt",
        "--out",
        root / "m2",
        "--min-count",
        1,
        "--shard-size",
        8,
        "--dim",
        8,
        "--epochs",
        2,
        "--workers",
        1,
        "--devices",
        "CPU:0",
    )
    assert result.returncode == 0, result.stderr
    assert "vocabulary 32 x 8" in result.stdout
    again = run_cli("train", root / "corpus.txt", "--out", root / "m2", "--min-count", 1, "--shard-size", 8)
    assert again.returncode == 2 and "exists and is not empty" in again.stderr


def test_heatmap_scicite_and_predict_commands(trained):
    root, _ = trained
    result = run_cli("heatmap", root / "model", "g0w0", "g0w1", "g1w0", "nothere", "--out", root / "heat.png", "-k", 2)
    assert result.returncode == 0, result.stderr
    assert (root / "heat.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "not in vocabulary (the model's OOV vector): nothere" in result.stderr
    scicite = root / "scicite"
    scicite.mkdir()
    labels = ["method", "background", "result"]
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        (scicite / name).write_text(
            "".join(
                json.dumps({"string": f"g{k % 3}w1 g{k % 3}w2", "label": labels[k % 3], "unique_id": str(k)}) + "\n"
                for k in range(24)
            )
        )
    result = run_cli("scicite", root / "model", "--out", root / "sc", "--scicite", scicite, "--epochs", 2)
    assert result.returncode == 0, result.stderr
    assert "test: loss" in result.stdout
    metrics = json.loads((root / "sc" / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 2
    result = run_cli("predict", root / "sc" / "classifier", "g2w1 g2w2")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert set(row["probabilities"]) == set(labels) and sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-3)
