"""Swivel loss against an independent NumPy formula, and training on planted word groups."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cordswivel.config import CooccurConfig, SwivelConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.shards import CooccurrenceShards
from cordswivel.errors import ConfigError
from cordswivel.training.swivel import SwivelTrainer, block_loss_and_gradients

from helpers import planted_corpus


def numpy_block_loss(rows, cols, counts, row_sums, col_sums, total, base, scale, exponent):
    """docs/design.md, "Swivel", cell by cell."""
    loss = 0.0
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            s = float(rows[i] @ cols[j])
            x = counts[i, j]
            pmi_base = -np.log(row_sums[i] + 1) - np.log(col_sums[j] + 1) + np.log(total + 1)
            if x > 0:
                err = s - (np.log(x) + pmi_base)
                loss += 0.5 * (base + scale * x**exponent) * err**2
            else:
                loss += np.log1p(np.exp(s - pmi_base))
    return loss / np.sqrt(counts.size)


def dense_reference(rows, cols, counts, row_bias, col_bias, log_total, base, scale, exponent):
    """The loss and dL/dR, dL/dC of one block from its dense count matrix, cell by cell in TensorFlow ops
    (the formulation training used before observed cells came as sparse lists)."""
    scores = tf.matmul(rows, cols, transpose_b=True)
    observed = counts > 0
    target = log_total - row_bias[:, None] - col_bias[None, :]
    err = scores - (target + tf.math.log(tf.where(observed, counts, tf.ones_like(counts))))
    confidence = base + scale * tf.pow(counts, exponent)
    multiplier = tf.math.rsqrt(tf.cast(tf.size(counts), tf.float32))
    loss = multiplier * tf.reduce_sum(tf.where(observed, 0.5 * confidence * tf.square(err), tf.math.softplus(err)))
    grad = multiplier * tf.where(observed, confidence * err, tf.math.sigmoid(err))
    return loss, tf.matmul(grad, cols), tf.matmul(grad, rows, transpose_a=True)


@pytest.mark.parametrize("seed, scale", [(0, 0.5), (1, 3.0)])  # scale 3: scores far from the targets
def test_block_loss_matches_numpy_the_dense_form_and_autodiff(seed, scale):
    rng = np.random.default_rng(seed)
    s, t, d = 6, 5, 4
    rows = rng.normal(0, scale, (s, d)).astype(np.float32)
    cols = rng.normal(0, scale, (t, d)).astype(np.float32)
    counts = np.where(rng.random((s, t)) < 0.5, rng.gamma(1.0, 3.0, (s, t)), 0).astype(np.float32)
    row_sums, col_sums = rng.uniform(5, 50, s), rng.uniform(5, 50, t)
    total = 1000.0
    biases = (
        tf.constant(np.log(row_sums + 1), tf.float32),
        tf.constant(np.log(col_sums + 1), tf.float32),
        tf.constant(np.log(total + 1), tf.float32),
    )
    flat = np.flatnonzero(counts).astype(np.int32)
    cells = tf.constant(np.concatenate([flat, [0, 0]]).astype(np.int32))  # two padding entries at the end
    values = tf.constant(np.concatenate([counts.ravel()[flat], [0, 0]]).astype(np.float32))
    r, c = tf.constant(rows), tf.constant(cols)
    with tf.GradientTape() as tape:
        tape.watch([r, c])
        loss, grad_rows, grad_cols = block_loss_and_gradients(r, c, cells, values, *biases, (0.1, 0.25, 0.5))
    auto_rows, auto_cols = tape.gradient(loss, [r, c])
    expected = numpy_block_loss(rows, cols, counts, row_sums, col_sums, total, 0.1, 0.25, 0.5)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(grad_rows.numpy(), auto_rows.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad_cols.numpy(), auto_cols.numpy(), rtol=1e-4, atol=1e-6)
    ref_loss, ref_rows, ref_cols = dense_reference(r, c, tf.constant(counts), *biases, 0.1, 0.25, 0.5)
    assert float(loss) == pytest.approx(float(ref_loss), rel=1e-5)
    np.testing.assert_allclose(grad_rows.numpy(), ref_rows.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad_cols.numpy(), ref_cols.numpy(), rtol=1e-4, atol=1e-6)


def test_dense_terms_are_stable_far_from_zero():
    from cordswivel.training.swivel import dense_block_terms

    scores = tf.constant([[-200.0, -20.0, 0.0, 20.0, 200.0]])
    column_loss, grad = dense_block_terms(scores, tf.zeros(1), tf.zeros(5), tf.constant(0.0))
    np.testing.assert_allclose(column_loss.numpy(), np.logaddexp(0, scores.numpy()[0]), rtol=1e-6)
    np.testing.assert_allclose(
        grad.numpy(), 1 / (1 + np.exp(-scores.numpy().astype(np.float64))), rtol=1e-6, atol=1e-30
    )


def test_a_large_blocks_loss_sums_as_exactly_as_float64_allows():
    from cordswivel.training.swivel import block_terms

    rng = np.random.default_rng(0)
    s = 2048
    scores = rng.normal(-3.0, 2.0, (s, s)).astype(np.float32)
    row_bias, col_bias = rng.normal(5, 1, s).astype(np.float32), rng.normal(5, 1, s).astype(np.float32)
    cells = np.sort(rng.choice(s * s, 40_000, replace=False)).astype(np.int32)
    counts = rng.integers(1, 50, cells.size).astype(np.float32)
    parts, _ = tf.function(block_terms, jit_compile=True)(
        tf.constant(scores),
        tf.constant(cells),
        tf.constant(counts),
        row_bias,
        col_bias,
        tf.constant(12.0),
        (0.1, 0.25, 0.5),
    )
    z = scores.astype(np.float64) - (12.0 - row_bias[:, None].astype(np.float64) - col_bias[None, :])
    terms = np.logaddexp(0, z).ravel()
    err = z.ravel()[cells] - np.log(counts)
    terms[cells] = 0.5 * (0.1 + 0.25 * counts.astype(np.float64) ** 0.5) * err**2
    assert float(tf.reduce_sum(parts)) == pytest.approx(terms.sum(), rel=2e-6)  # one float32 sum: ~1e-4 off


@pytest.fixture(scope="module")
def planted_shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    words = planted_corpus(root / "c.txt")
    count_cooccurrences(
        open_corpus([root / "c.txt"]), root / "cooc", CooccurConfig(min_count=1, window=5, shard_size=8), workers=1
    )
    return words, CooccurrenceShards(root / "cooc")


def test_training_puts_each_word_nearest_its_group(planted_shards, tmp_path):
    words, shards = planted_shards
    trainer = SwivelTrainer(SwivelConfig(embedding_dim=16, epochs=25, seed=1, tolerance=0)).fit(shards, tmp_path)
    assert trainer.losses_[-1] < trainer.losses_[0]
    vectors = trainer.vectors_ / np.linalg.norm(trainer.vectors_, axis=1, keepdims=True)
    vocab = shards.vocab.tokens
    group_of = {w: g for g, group in enumerate(words) for w in group}
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i, word in enumerate(vocab):
        assert group_of[vocab[int(np.argmax(sims[i]))]] == group_of[word], word


def test_resume_continues_to_the_same_vectors(planted_shards, tmp_path):
    _, shards = planted_shards
    config = SwivelConfig(embedding_dim=8, epochs=4, seed=3, tolerance=0)
    full = SwivelTrainer(config).fit(shards, tmp_path / "full")
    SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=2, seed=3, tolerance=0)).fit(shards, tmp_path / "part")
    resumed = SwivelTrainer(config).fit(shards, tmp_path / "part", resume=True)
    assert len(resumed.losses_) == 4
    np.testing.assert_allclose(resumed.vectors_, full.vectors_, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("optimizer", ["rmsprop", "sgd"])
def test_other_optimizers_reduce_the_loss(planted_shards, tmp_path, optimizer):
    _, shards = planted_shards
    trainer = SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=5, optimizer=optimizer, learning_rate=0.05)).fit(
        shards, tmp_path
    )
    assert trainer.losses_[-1] < trainer.losses_[0]


def test_invalid_settings():
    for bad in (
        SwivelConfig(embedding_dim=0),
        SwivelConfig(epochs=0),
        SwivelConfig(optimizer="lbfgs"),
        SwivelConfig(learning_rate=0),
        SwivelConfig(tolerance=-0.1),
    ):
        with pytest.raises(ConfigError):
            SwivelTrainer(bad)


MULTI_DEVICE = """
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cordswivel.config import SwivelConfig
from cordswivel.counting.shards import CooccurrenceShards
from cordswivel.training.devices import distribution_strategy
from cordswivel.training.swivel import SwivelTrainer
shards = CooccurrenceShards(sys.argv[1])
assert distribution_strategy(["/cpu:0", "/cpu:1"]).num_replicas_in_sync == 2
for optimizer in ("adagrad", "sgd"):
    config = SwivelConfig(embedding_dim=8, epochs=3, seed=2, optimizer=optimizer, learning_rate=0.5, tolerance=0)
    one = SwivelTrainer(config, devices=["/cpu:0"]).fit(shards, sys.argv[2] + optimizer + "1")
    two = SwivelTrainer(config, devices=["/cpu:0", "/cpu:1"]).fit(shards, sys.argv[2] + optimizer + "2")
    assert not np.array_equal(one.vectors_, SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=2, seed=2, tolerance=0,
        optimizer=optimizer, learning_rate=0.5)).fit(shards, sys.argv[2] + optimizer + "0").vectors_)
    np.testing.assert_allclose(two.vectors_, one.vectors_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two.losses_, one.losses_, rtol=1e-6)
print("ok")
"""


def test_two_devices_train_like_one(tmp_path):
    """MirroredStrategy over 2 logical CPUs (a subprocess: devices are fixed once TensorFlow starts)."""
    import subprocess
    import sys

    planted_corpus(tmp_path / "c.txt", groups=3, per_group=8, units=1500)
    # 24 words in shards of 8: 3 x 3 blocks, so each diagonal ends in a step with one idle device
    count_cooccurrences(
        open_corpus([tmp_path / "c.txt"]),
        tmp_path / "cooc",
        CooccurConfig(min_count=1, window=5, shard_size=8),
        workers=1,
    )
    done = subprocess.run(
        [sys.executable, "-c", MULTI_DEVICE, str(tmp_path / "cooc"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_diagonals_cover_every_block_once_without_sharing_shards():
    from cordswivel.training.swivel import block_schedule

    for n in (1, 3, 4):
        diagonals = block_schedule(n, seed=0, epoch=1)
        blocks = np.concatenate(diagonals)
        assert sorted(blocks.tolist()) == list(range(n * n))
        for diagonal in diagonals:
            assert len(set(diagonal // n)) == n and len(set(diagonal % n)) == n
    assert not np.array_equal(np.concatenate(block_schedule(4, 0, 1)), np.concatenate(block_schedule(4, 0, 2)))


def test_cell_width_pads_by_at_most_an_eighth_to_few_shapes():
    from cordswivel.training.swivel import cell_width

    widths = {cell_width(m) for m in range(1, 200_000, 7)}
    assert all(m <= cell_width(m) <= max(1024, m * 9 / 8) for m in range(1, 200_000, 7))
    assert len(widths) <= 8 * 8 + 1  # eight per doubling from 1,024 to 200,000


def test_padding_rows_and_columns_get_no_loss_and_no_gradient():
    from cordswivel.training.swivel import PADDING_BIAS

    rng = np.random.default_rng(4)
    rows, cols = (tf.constant(rng.normal(0, 2.0, (6, 4)).astype(np.float32)) for _ in range(2))
    row_bias = np.log(rng.uniform(5, 50, 6) + 1).astype(np.float32)
    col_bias = np.log(rng.uniform(5, 50, 6) + 1).astype(np.float32)
    cells = tf.constant(np.array([0, 7, 14, 21], np.int32))  # observed cells in rows and columns 0-3 only
    counts = tf.constant(rng.gamma(1.0, 3.0, 4).astype(np.float32))
    row_bias[4:], col_bias[5:] = PADDING_BIAS, PADDING_BIAS
    args = (cells, counts, tf.constant(row_bias), tf.constant(col_bias), tf.constant(9.0), (0.1, 0.25, 0.5))
    loss, grad_rows, grad_cols = block_loss_and_gradients(rows, cols, *args)
    assert not grad_rows.numpy()[4:].any() and not grad_cols.numpy()[5:].any()
    trimmed = block_loss_and_gradients(
        rows[:4],
        cols[:5],
        cells - tf.constant([0, 1, 2, 3], tf.int32),
        counts,
        row_bias[:4],
        col_bias[:5],
        tf.constant(9.0),
        (0.1, 0.25, 0.5),
    )  # the same block without padding: (row * 5 + col) for the observed (r, c) = (0,0), (1,1), (2,2), (3,3)
    scale = np.sqrt(20 / 36)  # the loss multiplier counts the padded cells
    assert float(loss) == pytest.approx(float(trimmed[0]) * scale, rel=1e-5)
    np.testing.assert_allclose(grad_rows.numpy()[:4], trimmed[1].numpy() * scale, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("shard_size", [8, 3])  # 3: 11 shards for 32 words, the last one padded
def test_training_stops_by_the_rule_at_two_shard_sizes(tmp_path, shard_size):
    words = planted_corpus(tmp_path / "c.txt")
    count_cooccurrences(
        open_corpus([tmp_path / "c.txt"]),
        tmp_path / "cooc",
        CooccurConfig(min_count=1, window=5, shard_size=shard_size),
        workers=1,
    )
    shards = CooccurrenceShards(tmp_path / "cooc")
    assert len(shards.vocab) == 32 and shards.padded_size == (32 if shard_size == 8 else 33)
    # the planted groups fit almost exactly (the loss falls towards 0): a loose tolerance ends it
    config = SwivelConfig(embedding_dim=8, seed=1, tolerance=0.3, min_row_updates=100, row_updates=400)
    trainer = SwivelTrainer(config).fit(shards, tmp_path / "run")
    n = len(trainer.losses_)
    assert trainer.stop_reason_.startswith("converged: epochs ") and n * shards.num_shards >= 100
    assert n * shards.num_shards < 400 and trainer.vectors_.shape == (32, 8)
    vectors = trainer.vectors_ / np.linalg.norm(trainer.vectors_, axis=1, keepdims=True)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    group_of = {w: g for g, group in enumerate(words) for w in group}
    vocab = shards.vocab.tokens
    assert all(group_of[vocab[int(np.argmax(sims[i]))]] == group_of[w] for i, w in enumerate(vocab))
    again = SwivelTrainer(config).fit(shards, tmp_path / "run", resume=True)  # a converged run stays put
    assert again.losses_ == trainer.losses_
    np.testing.assert_array_equal(again.vectors_, trainer.vectors_)


def test_bfloat16_matmuls_stay_close_to_float32_and_train(planted_shards, tmp_path):
    rng = np.random.default_rng(3)
    rows, cols = (tf.constant(rng.normal(0, 0.5, (16, 8)).astype(np.float32)) for _ in range(2))
    cells = tf.constant(np.arange(0, 256, 3, dtype=np.int32))
    counts = tf.constant(rng.gamma(1.0, 3.0, cells.shape[0]).astype(np.float32))
    biases = (tf.constant(rng.uniform(1, 4, 16), tf.float32), tf.constant(rng.uniform(1, 4, 16), tf.float32), 8.0)
    exact = block_loss_and_gradients(rows, cols, cells, counts, *biases, (0.1, 0.25, 0.5))
    rough = block_loss_and_gradients(rows, cols, cells, counts, *biases, (0.1, 0.25, 0.5), precision="bfloat16")
    assert all(r.dtype == tf.float32 for r in rough)
    assert float(rough[0]) == pytest.approx(float(exact[0]), rel=0.02)
    for a, b in zip(exact[1:], rough[1:], strict=True):
        assert float(tf.norm(a - b) / tf.norm(a)) < 0.05
    _, shards = planted_shards
    trainer = SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=4, precision="bfloat16", tolerance=0)).fit(
        shards, tmp_path
    )
    assert trainer.losses_[-1] < 0.9 * trainer.losses_[0]


def test_a_checkpoint_from_before_newer_settings_resumes(planted_shards, tmp_path):
    import json

    _, shards = planted_shards
    SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=2, seed=3, tolerance=0)).fit(shards, tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as data:
        arrays = {k: data[k] for k in data.files}
    state = json.loads(str(arrays.pop("state")))
    for name in ("tolerance", "precision"):  # settings the checkpoint's version did not have
        del state["config"][name]
    np.savez(tmp_path / "checkpoint.npz", state=np.array(json.dumps(state)), **arrays)
    resumed = SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=3, seed=3, tolerance=0)).fit(
        shards, tmp_path, resume=True
    )
    assert len(resumed.losses_) == 3
    with pytest.raises(ConfigError, match=r"other settings \(precision\)"):
        SwivelTrainer(SwivelConfig(embedding_dim=8, epochs=4, seed=3, precision="bfloat16")).fit(
            shards, tmp_path, resume=True
        )
