"""Training end to end in the Python API: what it returns equals what it saved; misuse stops before work."""

from __future__ import annotations

import numpy as np
import pytest

import cordswivel
from cordswivel.config import CooccurConfig, SwivelConfig
from cordswivel.errors import ConfigError
from cordswivel.pipeline.train import LOSS_FILE, loss_table, run_training, train_embeddings, work_dir_for

from helpers import hold_lock_elsewhere, planted_corpus

COOC = CooccurConfig(min_count=1, window=5, shard_size=8)
SWIV = SwivelConfig(embedding_dim=8, epochs=3, seed=2, tolerance=0)


def test_result_matches_the_saved_model(tmp_path):
    planted_corpus(tmp_path / "c.txt", units=600)
    result = run_training(
        tmp_path / "m", corpus=[tmp_path / "c.txt"], cooccur_config=COOC, swivel_config=SWIV, workers=1
    )
    saved = cordswivel.load(tmp_path / "m")
    np.testing.assert_array_equal(result.embedding.table, saved.table)
    *lines, last = (tmp_path / "m" / LOSS_FILE).read_text().splitlines()[1:]
    rows = [line.split("\t") for line in lines]
    # 32 words in shards of 8: 4 row updates an epoch
    assert last == "# stopped: reached the maximum of 3 epochs (12 row updates)" == "# stopped: " + result.stop_reason
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    np.testing.assert_allclose([float(r[1]) for r in rows], result.losses, atol=1e-6)
    assert result.seconds == pytest.approx(sum(result.epoch_seconds)) and result.losses[-1] < result.losses[0]
    assert saved.config["final_loss"] == pytest.approx(result.losses[-1])
    assert saved.config["corpus"]["units"] == 600 and saved.config["cooccurrence"]["shard_size"] == 8
    assert not work_dir_for(tmp_path / "m").exists()

    again = train_embeddings(
        tmp_path / "m2",
        cooccur_dir=None,
        corpus=[tmp_path / "c.txt"],
        cooccur_config=COOC,
        swivel_config=SWIV,
        workers=1,
    )
    np.testing.assert_array_equal(again.table, saved.table)  # same seed, same vectors


def test_misuse_is_refused_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="give CORPUS paths or --cooccur DIR"):
        run_training(tmp_path / "m")
    with pytest.raises(ConfigError, match="give CORPUS paths or --cooccur DIR"):
        run_training(tmp_path / "m", corpus=["x"], cooccur_dir="y")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep").write_text("")
    with pytest.raises(ConfigError, match="exists and is not empty"):
        run_training(tmp_path / "m", corpus=["x"])
    assert not work_dir_for(tmp_path / "m").exists()


def test_a_second_run_into_the_same_output_is_refused(tmp_path):
    planted_corpus(tmp_path / "c.txt", units=50)
    other = hold_lock_elsewhere(tmp_path / "m")  # a live run owns m and m.partial
    try:
        with pytest.raises(ConfigError, match="another run is using it"):
            run_training(tmp_path / "m", corpus=[tmp_path / "c.txt"], workers=1)
    finally:
        other.stdin.close()
        other.wait(timeout=30)
    assert not work_dir_for(tmp_path / "m").exists()


def test_loss_table_format():
    assert (
        loss_table([1.5, 0.25], [2.0, 3.456], "why")
        == "epoch\tloss\tseconds\n1\t1.500000\t2.00\n2\t0.250000\t3.46\n# stopped: why\n"
    )


def test_every_word_that_passes_the_min_count_reaches_the_model_and_its_exports(tmp_path):
    """No word is dropped to fill whole shards: 37 words in shards of 8 are 5 shards, 3 rows padding."""
    import collections

    import tensorflow as tf

    from cordswivel.corpus.tokenizer import tokenize
    from cordswivel.embedding.formats import export_word2vec, load_text_vectors
    from cordswivel.embedding.hub import export_hub_module

    rng = np.random.default_rng(5)
    words = [f"w{k}" for k in range(45)]
    lines = [" ".join(rng.choice(words, 12, p=np.arange(45, 0, -1) / (45 * 46 / 2))) for _ in range(120)]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n")
    counts = collections.Counter(t for line in lines for t in tokenize(line))
    passed = sorted((w for w, c in counts.items() if c >= 4), key=lambda w: (-counts[w], w))
    assert len(passed) % 8 and len(passed) > 8  # a size that whole shards would cut
    model = train_embeddings(
        tmp_path / "m",
        corpus=[tmp_path / "c.txt"],
        cooccur_config=CooccurConfig(min_count=4, window=5, shard_size=8),
        swivel_config=SWIV,
        workers=1,
    )
    assert list(model.vocab) == passed and model.table.shape == (len(passed) + 1, 8)
    assert model.config["corpus"]["vocab_size"] == len(passed)
    w2v = load_text_vectors(export_word2vec(model, tmp_path / "w2v.txt"))
    assert list(w2v.vocab) == passed
    hub_dir = export_hub_module(model, tmp_path / "hub")
    assert (hub_dir / "assets" / "vocab.txt").read_text().split("\n")[: len(passed)] == passed
    module = cordswivel.load(hub_dir)
    np.testing.assert_allclose(module.embed(passed[-3:]), model.embed(passed[-3:]), atol=1e-6)
    assert tf.is_tensor(module.keras_layer()(tf.constant(passed[-1:])))


def test_a_run_that_fails_before_writing_anything_leaves_no_work_directory(tmp_path):
    planted_corpus(tmp_path / "c.txt", units=20)
    with pytest.raises(ConfigError, match="empty vocabulary"):
        run_training(
            tmp_path / "m", corpus=[tmp_path / "c.txt"], cooccur_config=CooccurConfig(min_count=10**6), workers=1
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]  # no m.partial, no lock file
