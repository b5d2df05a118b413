"""The demo pipeline end to end: a fast run on a small corpus, and (slow) the real bundled-data demo."""

from __future__ import annotations

import json

import pytest

from conftest import SHARED
from cordswivel.cooccur import CooccurConfig
from cordswivel.demo import run_demo
from cordswivel.scicite import LABELS, ClassifierConfig
from cordswivel.swivel import SwivelConfig
from test_swivel import planted_corpus


def test_fast_demo_writes_report_and_metrics(tmp_path):
    corpus = tmp_path / "corpus.txt"
    planted_corpus(corpus, units=800)
    with open(corpus, "a") as handle:  # the tutorial's terms, so some of them are known
        handle.write("coronavirus SARS MERS g0w1\nItaly Spain Europe g1w1\ncough fever throat g2w1\n" * 5)
    scicite = tmp_path / "data" / "scicite"
    scicite.mkdir(parents=True)
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        rows = [{"string": f"g{k % 3}w{k % 5} g{k % 3}w{(k + 1) % 5}", "label": LABELS[k % 3], "unique_id": str(k)}
                for k in range(30)]
        (scicite / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    metrics = run_demo(tmp_path / "out", data_dir=tmp_path / "data", workers=1, corpus_paths=[corpus],
                       cooccur_config=CooccurConfig(min_count=1, window=5, shard_size=8),
                       swivel_config=SwivelConfig(embedding_dim=8, epochs=2),
                       classifier_config=ClassifierConfig(epochs=2, batch_size=8), log=lambda m: None)
    out = tmp_path / "out"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    for key in ("loss", "accuracy", "macro_f1"):
        assert 0 <= saved["scicite"]["test"][key] < 10
    assert saved["training"]["seconds"] > 0
    assert set(saved["heatmap"]) >= {"within_group_mean_cosine", "between_group_mean_cosine"}
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "<table>" in page and "coronavirus" in page
    for name in ("heatmap.png", "training_loss.png", "scicite/curves.png", "scicite/predictions.csv"):
        assert (out / name).is_file(), name


@pytest.mark.slow
def test_real_demo_reaches_the_tutorial_quality(tmp_path):
    if not (SHARED / "data").is_dir():
        pytest.skip("the bundled data is absent")
    metrics = run_demo(tmp_path / "demo", log=lambda m: None)
    assert metrics["scicite"]["test"]["accuracy"] >= 0.79      # the published module's 0.790
    heat = metrics["heatmap"]
    assert heat["within_group_mean_cosine"] - heat["between_group_mean_cosine"] >= 0.40
    assert metrics["demo_seconds"] < 600
