"""The demo pipeline end to end: a fast run on a small corpus, and (slow) the real bundled-data demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cordswivel.config import ClassifierConfig, CooccurConfig, SwivelConfig
from cordswivel.errors import ConfigError
from cordswivel.pipeline.demo import run_demo
from cordswivel.tutorial.scicite import LABELS, load_classifier

from helpers import SHARED, planted_corpus


def test_a_finished_demo_runs_again_only_with_overwrite(tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"holds a finished demo .*use --overwrite"):
        run_demo(tmp_path, corpus_paths=[tmp_path / "nothere.txt"])


def test_make_demo_on_a_finished_demo_says_so_and_succeeds(tmp_path):
    """`make demo && ...` (as the README chains it) must not fail because the demo was already run."""
    import os
    import shutil
    import subprocess

    if not shutil.which("make"):
        pytest.skip("no make")
    root = Path(__file__).parents[1]
    shutil.copy(root / "Makefile", tmp_path)
    shutil.copy(root / "pyproject.toml", tmp_path)
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    os.utime(tmp_path / "pyproject.toml", (0, 0))
    (tmp_path / "runs" / "demo").mkdir(parents=True)
    (tmp_path / "runs" / "demo" / "metrics.json").write_text("{}")
    done = subprocess.run(["make", "demo", "VENV=venv"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "holds a finished demo" in done.stdout and "make demo OVERWRITE=1" in done.stdout
    again = subprocess.run(
        ["make", "-n", "demo", "VENV=venv", "OVERWRITE=1"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "cordswivel demo --out runs/demo" in again.stdout and "--overwrite" in again.stdout


def test_fast_demo_writes_report_and_metrics(tmp_path):
    corpus = tmp_path / "corpus.txt"
    planted_corpus(corpus, units=800)
    with open(corpus, "a") as handle:  # the tutorial's terms, so some of them are known
        handle.write("coronavirus SARS MERS g0w1\nItaly Spain Europe g1w1\ncough fever throat g2w1\n" * 5)
    scicite = tmp_path / "data" / "scicite"
    scicite.mkdir(parents=True)
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        rows = [
            {"string": f"g{k % 3}w{k % 5} g{k % 3}w{(k + 1) % 5}", "label": LABELS[k % 3], "unique_id": str(k)}
            for k in range(30)
        ]
        (scicite / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_demo(
        tmp_path / "out",
        data_dir=tmp_path / "data",
        workers=1,
        corpus_paths=[corpus],
        cooccur_config=CooccurConfig(min_count=1, window=5, shard_size=8),
        swivel_config=SwivelConfig(embedding_dim=8, epochs=2),
        classifier_config=ClassifierConfig(epochs=2, batch_size=8),
        log=lambda m: None,
    )
    out = tmp_path / "out"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(result.metrics()))
    # the saved classifier, run here on the test split, gives the metrics the demo reported
    rows = [json.loads(line) for line in (scicite / "test.jsonl").read_text().splitlines()]
    logits, _ = load_classifier(out / "scicite" / "classifier")([r["string"] for r in rows])
    labels = np.array([LABELS.index(r["label"]) for r in rows])
    shifted = logits - logits.max(axis=1, keepdims=True)
    loss = -(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))[np.arange(len(labels)), labels].mean()
    assert saved["scicite"]["test"]["accuracy"] == pytest.approx(np.mean(logits.argmax(axis=1) == labels))
    assert saved["scicite"]["test"]["loss"] == pytest.approx(loss, rel=1e-4)
    assert saved["training"]["epochs"] == 2 and saved["corpus"]["vocab_size"] == len(result.training.embedding)
    lines = (out / "model" / "training_loss.tsv").read_text().splitlines()[1:]
    losses = [float(line.split("\t")[1]) for line in lines if not line.startswith("#")]
    assert saved["training"]["final_loss"] == pytest.approx(losses[-1], abs=1e-6)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "<table>" in page and "coronavirus" in page
    for name in ("heatmap.png", "training_loss.png", "scicite/curves.png", "scicite/predictions.csv"):
        assert (out / name).is_file(), name


@pytest.mark.slow
def test_real_demo_reaches_the_tutorial_quality(tmp_path):
    if not (SHARED / "data").is_dir():
        pytest.skip("the bundled data is absent")
    result = run_demo(tmp_path / "demo", log=lambda m: None)
    assert result.classifier.test.accuracy >= 0.79  # the published module's 0.790
    heat = result.coherence
    assert heat.within_group_mean_cosine - heat.between_group_mean_cosine >= 0.40
    assert result.seconds < 600
