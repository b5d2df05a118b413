"""Swivel training in TensorFlow 2 (Shazeer et al. 2016, arXiv:1602.02215; docs/design.md, "Swivel").

One step trains one block (row shard r, column shard c) of the co-occurrence matrix. With
s = shard_size, R = W[shard r] (s, d), C = W~[shard c] (s, d) and S = R C^T (s, s):

- observed cell (x > 0): 0.5 * confidence(x) * (S - pmi)^2, pmi = log x - rb_i - cb_j + log_total,
  confidence(x) = base + scale * x ** exponent;
- unobserved cell: softplus(S - pmi*), pmi* = -rb_i - cb_j + log_total;
- block loss = sum / sqrt(s * s); biases are fixed: rb = log(row sums + 1), cb = log(col sums + 1).

Most cells are unobserved, so the loss is computed as the unobserved term on every cell, which needs
no counts, plus a correction on the observed ones: with z = S - pmi*,
L = sum_all softplus(z) + sum_observed [0.5 c(x) (z - log x)^2 - softplus(z)], and dL/dS = sigmoid(z)
everywhere but c(x) (z - log x) on observed cells. Blocks reach the step as their sparse lists of
observed cells; no s x s count array is built. The gradient is written out (dL/dS, then two
matmuls), so a step costs 6 s^2 d FLOPs in TensorFlow matmuls plus one XLA-fused pass (one exp per
cell for softplus and sigmoid, and a gather and scatter of the observed cells). Optimisers (Adagrad,
RMSProp, SGD) update only the 2 s rows a step touches. The output vectors are W + W~.

Blocks are visited diagonal by diagonal (as in DSGD, Gemulla et al. 2011): diagonal t holds the
blocks (r, (r + t) mod N), which share no row and no column shard, so any of them can be trained
at the same time with the result of training them one after another. Under ``tf.distribute``
(a MirroredStrategy over the visible GPUs, one device otherwise) each step trains one block per
device; every device applies all the steps' row updates to its copy of the variables. The result
therefore does not depend on the number of devices. Blocks stream from disk, so training holds
O(V * dim + devices * shard_size^2) memory whatever the number of non-zero cells.

Checkpoint (after every epoch, in the run's work directory): ``checkpoint.npz`` with the embeddings,
the optimiser slots and the state (epoch reached, losses so far, settings) as JSON text, written
atomically as one file; ``checkpoint.json`` repeats the state for people.

TensorFlow is imported inside the functions that use it, deliberately: ``cordswivel train`` counts
first, on worker processes forked from this one, and forking is unsafe once TensorFlow is loaded.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..config import SwivelConfig
from ..counting.shards import CooccurrenceShards
from ..errors import ConfigError, TrainingError
from ..fileio import atomic_save_npz, atomic_write_json
from .devices import check_memory, distribution_strategy, matmul_precision
from .stopping import max_epochs, stop_reason

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.npz"
CHECKPOINT_STATE = "checkpoint.json"
# The fixed bias of padding rows and columns (ids past the vocabulary, which fill the last shards): their
# unobserved target is then beyond any score, so their loss and gradients are exactly zero.
PADDING_BIAS = -1e4


def dense_block_terms(scores: Any, row_bias: Any, col_bias: Any, log_total: Any) -> tuple[Any, Any]:
    """Every cell's unobserved term, counts unseen: (per column, the sum of softplus(z); sigmoid(z))
    for z = S - b.

    b = log_total - rb_i - cb_j is the PMI a count of 1 would have. One exp serves both functions.
    The sums stop at columns: 4,096 float32 terms sum exactly enough, where a whole block summed in
    float32 was 1e-4 off (and XLA folds any further sum inside the pass into that one reduction).
    Shapes: scores (s, t), row_bias (s,), col_bias (t,); TensorFlow ops, meant to be XLA-compiled.
    """
    import tensorflow as tf

    z = scores - (log_total - row_bias[:, None] - col_bias[None, :])
    e = tf.exp(-tf.abs(z))
    inverse = 1.0 / (1.0 + e)
    column_loss = tf.reduce_sum(tf.maximum(z, 0.0) + tf.math.log1p(e), axis=0)
    return column_loss, tf.where(z >= 0, inverse, e * inverse)


def observed_block_terms(
    scores: Any, cells: Any, counts: Any, row_bias: Any, col_bias: Any, log_total: Any, confidence: tuple
) -> tuple[Any, Any]:
    """The observed cells' terms less the unobserved term ``dense_block_terms`` gave them.

    ``cells`` are flat indices (row * t + col) into ``scores`` (s, t) and ``counts`` their counts;
    entries with a zero count are padding and count for nothing. Returns the loss correction and the
    dL/dS correction of each cell: 0.5 c(x) err^2 - softplus(z) and c(x) err - sigmoid(z), with
    err = z - log x and c(x) = base + scale * x ** exponent.
    """
    import tensorflow as tf

    base, scale, exponent = confidence
    t = tf.shape(scores, out_type=cells.dtype)[1]
    observed = tf.cast(counts > 0, scores.dtype)
    safe = tf.where(counts > 0, counts, tf.ones_like(counts))  # padding: finite values, weighted 0
    z = tf.gather(tf.reshape(scores, [-1]), cells) - (
        log_total - tf.gather(row_bias, cells // t) - tf.gather(col_bias, cells % t)
    )
    err = z - tf.math.log(safe)
    weight = observed * (base + scale * tf.pow(safe, exponent))
    loss = tf.reduce_sum(0.5 * weight * tf.square(err) - observed * tf.math.softplus(z))
    return loss, weight * err - observed * tf.math.sigmoid(z)


def block_terms(
    scores: Any, cells: Any, counts: Any, row_bias: Any, col_bias: Any, log_total: Any, confidence: tuple
) -> tuple[Any, Any]:
    """A block's loss (before the 1/sqrt(s t) multiplier) and dL/dS, from its scores and its observed
    cells: the dense terms of every cell, corrected on the observed cells (docs/design.md, "Swivel").

    The loss comes in parts, one per column and the correction, to be summed outside the fused pass
    (XLA would fold that sum into the pass's reduction: slower, and less exact). The terms are computed
    in float32; dL/dS is returned in the dtype of ``scores`` (bfloat16 when the matmuls run in it).
    """
    import tensorflow as tf

    exact = tf.cast(scores, tf.float32)
    column_loss, grad_scores = dense_block_terms(exact, row_bias, col_bias, log_total)
    observed_loss, corrections = observed_block_terms(exact, cells, counts, row_bias, col_bias, log_total, confidence)
    shape = tf.shape(grad_scores)
    grad_scores = tf.tensor_scatter_nd_add(tf.reshape(grad_scores, [-1]), cells[:, None], corrections)
    return tf.concat([column_loss, observed_loss[None]], 0), tf.cast(tf.reshape(grad_scores, shape), scores.dtype)


def block_loss_and_gradients(
    row_vecs: Any,
    col_vecs: Any,
    cells: Any,
    counts: Any,
    row_bias: Any,
    col_bias: Any,
    log_total: Any,
    confidence: tuple,
    *,
    terms: Callable[..., tuple[Any, Any]] = block_terms,
    precision: str = "float32",
) -> tuple[Any, Any, Any]:
    """Loss of one block and its gradients wrt the row and column vectors (TensorFlow).

    The block's observed cells come as flat indices ``cells`` (row * t + col) with their ``counts``;
    zero counts are padding. The work is three matmuls (plain TensorFlow ops: oneDNN on CPU) and
    ``terms``, which training XLA-compiles into one pass over the s * t cells. With ``precision``
    "bfloat16" the matmuls take bfloat16 operands (twice as fast where the hardware has bfloat16
    units; the terms and the returned values stay float32).
    Shapes: row_vecs (s, d), col_vecs (t, d), cells and counts (m,), row_bias (s,), col_bias (t,).
    """
    import tensorflow as tf

    rows, cols = tf.cast(row_vecs, precision), tf.cast(col_vecs, precision)  # no-ops in float32
    scores = tf.matmul(rows, cols, transpose_b=True)  # (s, t)
    loss_parts, grad_scores = terms(scores, cells, counts, row_bias, col_bias, log_total, confidence)
    loss = tf.reduce_sum(loss_parts)
    multiplier = tf.math.rsqrt(tf.cast(tf.size(scores), tf.float32))
    grad_rows = tf.cast(tf.matmul(grad_scores, cols), tf.float32)  # (s, d)
    grad_cols = tf.cast(tf.matmul(grad_scores, rows, transpose_a=True), tf.float32)  # (t, d)
    return multiplier * loss, multiplier * grad_rows, multiplier * grad_cols


class _Optimizer:
    """Row-sparse optimiser steps: the new slot rows and the update of the rows a block touched."""

    def __init__(self, name: str, learning_rate: float) -> None:
        self.name = name
        self.learning_rate = learning_rate

    @property
    def has_slot(self) -> bool:
        return self.name != "sgd"

    def initial_slot(self, shape: tuple[int, int]) -> Any:
        import tensorflow as tf

        # Adagrad starts from tf.keras.optimizers.Adagrad's initial accumulator value
        return tf.fill(shape, 0.1) if self.name == "adagrad" else tf.zeros(shape)

    def update(self, slot_rows: Any, grad: Any) -> tuple[Any, Any]:
        """(new slot rows or None, update to subtract) for rows with slot values ``slot_rows``."""
        import tensorflow as tf

        lr = self.learning_rate
        if self.name == "sgd":
            return None, lr * grad
        if self.name == "adagrad":
            acc = slot_rows + tf.square(grad)
            return acc, lr * grad * tf.math.rsqrt(acc)
        ms = 0.9 * slot_rows + 0.1 * tf.square(grad)  # rmsprop, decay 0.9, epsilon 1e-7 as tf.keras
        return ms, lr * grad / (tf.sqrt(ms) + 1e-7)


def block_schedule(num_shards: int, seed: int, epoch: int) -> list[np.ndarray]:
    """One epoch's blocks (flat index r * N + c) as N diagonals of N blocks, in a seeded random order.

    The blocks of a diagonal share no row shard and no column shard.
    """
    rng = np.random.default_rng([seed, epoch])
    diagonals = []
    for shift in rng.permutation(num_shards):
        rows = rng.permutation(num_shards)
        diagonals.append(rows * num_shards + (rows + shift) % num_shards)
    return diagonals


def cell_width(cells: int) -> int:
    """The observed-cell count a step is padded to: at most 1/8 more, so that the fused pass (compiled
    per shape) meets a handful of shapes in a run (blocks of mod-sharded words hold similar counts)."""
    if cells <= 1024:
        return 1024
    step = 1 << (cells.bit_length() - 4)
    return -(-cells // step) * step


def cell_dtype(shard_size: int) -> np.dtype:
    """The integer type of flat cell indices (row * shard_size + col) of a block."""
    return np.dtype(np.int32 if shard_size * shard_size < 2**31 else np.int64)


def _block_groups(
    shards: CooccurrenceShards, groups: list[np.ndarray], replicas: int, prefetch: int = 2
) -> Iterator[tuple[list[tuple[int, int]], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (blocks, row ids, col ids, cells, counts, active) per step, read ahead in a thread.

    Arrays are stacked per replica: ids (replicas, s), the observed cells as flat indices and their
    counts (replicas, m), padded with zero counts to the group's largest block, active (replicas,).
    A group smaller than ``replicas`` leaves the last replicas idle (inactive, no cells).
    """
    n, s = shards.num_shards, shards.shard_size
    index_type = cell_dtype(s)

    def load(
        group: np.ndarray,
    ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        blocks = [divmod(int(b), n) for b in group]
        row_ids = np.empty((replicas, s), np.int64)
        col_ids = np.empty((replicas, s), np.int64)
        read = [shards.block(r, c) for r, c in blocks]
        width = cell_width(max(rows.size for rows, _, _ in read))
        cells = np.zeros((replicas, width), index_type)
        counts = np.zeros((replicas, width), np.float32)
        for k in range(replicas):
            r, c = blocks[min(k, len(blocks) - 1)]
            row_ids[k], col_ids[k] = shards.shard_ids(r), shards.shard_ids(c)
            if k < len(blocks):
                rows, cols, values = read[k]
                cells[k, : rows.size] = rows.astype(index_type) * s + cols
                counts[k, : rows.size] = values
        active = np.arange(replicas) < len(blocks)
        return blocks, row_ids, col_ids, cells, counts, active

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = [pool.submit(load, g) for g in groups[:prefetch]]
        for k in range(len(groups)):
            if k + prefetch < len(groups):
                pending.append(pool.submit(load, groups[k + prefetch]))
            yield pending.pop(0).result()


class SwivelTrainer:
    """Trains Swivel embeddings on a co-occurrence directory; ``fit`` returns ``self``.

    After ``fit``: ``vectors_`` (V, dim) float32, ``losses_`` and ``epoch_seconds_`` per epoch,
    ``stop_reason_`` (converged within the tolerance, or the maximum number of epochs reached) and
    ``precision_``, the matmul operand type it used (``devices.matmul_precision``).
    """

    def __init__(self, config: SwivelConfig = SwivelConfig(), *, devices: list[str] | None = None) -> None:
        config.validate()
        self.config = config
        self.devices = devices  # TensorFlow device names; None: the visible GPUs, else the CPU

    def fit(
        self,
        shards: CooccurrenceShards,
        work_dir: str | os.PathLike,
        *,
        resume: bool = False,
        progress: Callable[[int, int], Any] | None = None,
    ) -> SwivelTrainer:
        """Train, checkpointing to ``work_dir`` after every epoch; ``resume`` continues from there.

        ``progress(epoch, total_blocks)`` may return a tqdm-like bar (``update``, ``set_postfix``,
        ``close``) for one epoch.
        """
        import tensorflow as tf

        cfg = self.config
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        size, dim, n = shards.padded_size, cfg.embedding_dim, shards.num_shards
        epochs = max_epochs(cfg, n)
        check_memory(size, dim, shards.shard_size, has_slots=cfg.optimizer != "sgd")
        state = self._initial_state(size, dim)
        losses: list[float] = []
        seconds: list[float] = []
        start_epoch = 0
        if resume and (work_dir / CHECKPOINT).exists():
            state, losses, seconds, start_epoch = self._load_checkpoint(work_dir, size, dim)
            log.info("resuming after epoch %d of at most %d", start_epoch, epochs)
        log.info(
            "training %d words in %d shards of %d (each row updated %d times an epoch), at most %d epochs",
            len(shards.vocab),
            n,
            shards.shard_size,
            n,
            epochs,
        )

        strategy = distribution_strategy(self.devices)
        replicas = strategy.num_replicas_in_sync
        self.precision_ = precision = matmul_precision(cfg.precision, self.devices)
        optimizer = _Optimizer(cfg.optimizer, cfg.learning_rate)
        with strategy.scope():
            variables = [tf.Variable(state["rows"], name="rows"), tf.Variable(state["cols"], name="cols")]
            slots = (
                [
                    tf.Variable(state[key] if key in state else optimizer.initial_slot((size, dim)), name=key)
                    for key in ("rows_slot", "cols_slot")
                ]
                if optimizer.has_slot
                else []
            )
        # PMI = log x - log(rowsum + 1) - a log(colsum + 1) + log(sum of colsum^a + 1), a = context_smoothing
        alpha = cfg.context_smoothing
        row_bias = tf.constant(self._biases(shards.row_sums, size), tf.float32)
        col_bias = tf.constant(self._biases(shards.col_sums, size, alpha), tf.float32)
        log_total = tf.constant(math.log(float(np.sum(shards.col_sums**alpha)) + 1.0), tf.float32)
        s = shards.shard_size
        confidence = (
            tf.constant(cfg.confidence_base, tf.float32),
            tf.constant(cfg.confidence_scale, tf.float32),
            tf.constant(cfg.confidence_exponent, tf.float32),
        )
        index_type = tf.as_dtype(cell_dtype(s))
        # One fused pass over the s^2 cells; XLA compiles it once per padded cell count (see cell_width).
        terms = tf.function(block_terms, jit_compile=True)

        def replica_step(row_ids: Any, col_ids: Any, cells: Any, counts: Any) -> list[Any]:
            """This replica's block: its loss, and per variable the update (and new slot rows)."""
            k = tf.distribute.get_replica_context().replica_id_in_sync_group
            with tf.device("/cpu:0"):  # the steps' inputs come from host memory: only this replica's part moves
                ids, block = (row_ids[k], col_ids[k]), (cells[k], counts[k])
            loss, *grads = block_loss_and_gradients(
                tf.gather(variables[0], ids[0]),
                tf.gather(variables[1], ids[1]),
                *block,
                tf.gather(row_bias, ids[0]),
                tf.gather(col_bias, ids[1]),
                log_total,
                confidence,
                terms=terms,
                precision=precision,
            )
            out = [loss]
            for v, grad in enumerate(grads):
                new_slot, update = optimizer.update(tf.gather(slots[v], ids[v]) if slots else None, grad)
                out += [update, new_slot] if slots else [update]
            return out

        def scatter(variable: Any, ids: Any, values: Any, subtract: bool) -> None:
            """Apply rows to every device's copy of ``variable``."""

            def fn(v: Any, i: Any, x: Any) -> Any:
                return v.scatter_nd_sub(i[:, None], x) if subtract else v.scatter_nd_update(i[:, None], x)

            strategy.extended.update(variable, fn, args=(ids, values), group=True)

        @tf.function(
            input_signature=[
                tf.TensorSpec([replicas, s], tf.int64),
                tf.TensorSpec([replicas, s], tf.int64),
                tf.TensorSpec([replicas, None], index_type),
                tf.TensorSpec([replicas, None], tf.float32),
                tf.TensorSpec([replicas], tf.bool),
            ]
        )
        def step(row_ids: Any, col_ids: Any, cells: Any, counts: Any, active: Any) -> Any:
            results = strategy.run(replica_step, args=(row_ids, col_ids, cells, counts))
            # every replica's results, idle replicas dropped: (active blocks, ...) each
            results = [tf.boolean_mask(tf.stack(strategy.experimental_local_results(r)), active) for r in results]
            ids = [tf.reshape(tf.boolean_mask(x, active), [-1]) for x in (row_ids, col_ids)]
            per_var = 2 if slots else 1
            for v in range(2):
                update = tf.reshape(results[1 + v * per_var], [-1, dim])
                if slots:
                    scatter(slots[v], ids[v], tf.reshape(results[2 + v * per_var], [-1, dim]), subtract=False)
                scatter(variables[v], ids[v], update, subtract=True)
            return tf.reduce_sum(results[0])

        for epoch in range(start_epoch, epochs):
            if stop_reason(losses, cfg, n):  # a resumed run that had converged
                break
            began = time.perf_counter()
            groups = [
                diagonal[k : k + replicas]
                for diagonal in block_schedule(n, cfg.seed, epoch)
                for k in range(0, n, replicas)
            ]
            bar = progress(epoch, n * n) if progress else None
            total, done = 0.0, 0
            try:
                for blocks, row_ids, col_ids, cells, counts, active in _block_groups(shards, groups, replicas):
                    loss = float(step(row_ids, col_ids, cells, counts, active))
                    if not math.isfinite(loss):
                        raise TrainingError(
                            f"loss became {loss} at epoch {epoch + 1}, blocks {blocks}; lower the learning rate"
                        )
                    total += loss
                    done += len(blocks)
                    if bar is not None:
                        bar.update(len(blocks))
                        bar.set_postfix(loss=f"{total / done:.4f}", refresh=False)
            finally:
                if bar is not None:
                    bar.close()
            losses.append(total / (n * n))
            seconds.append(time.perf_counter() - began)
            log.info("epoch %d/%d loss %.5f (%.1f s)", epoch + 1, epochs, losses[-1], seconds[-1])
            self._save_checkpoint(
                work_dir,
                epoch + 1,
                losses,
                seconds,
                rows=variables[0].numpy(),
                cols=variables[1].numpy(),
                **{f"{k}_slot": v.numpy() for k, v in zip(("rows", "cols"), slots, strict=False)},
            )

        words = len(shards.vocab)  # the padding rows after them never reach the model
        self.vectors_ = (variables[0].numpy()[:words] + variables[1].numpy()[:words]).astype(np.float32)
        self.stop_reason_ = stop_reason(losses, cfg, n) or f"reached the maximum of {epochs} epochs"
        log.info("training stopped: %s", self.stop_reason_)
        self.losses_ = losses
        self.epoch_seconds_ = seconds
        return self

    @staticmethod
    def _biases(sums: np.ndarray, size: int, power: float = 1.0) -> np.ndarray:
        """power * log(sum + 1) per word, then ``PADDING_BIAS`` for the padding ids up to ``size``."""
        return np.concatenate([power * np.log(sums + 1.0), np.full(size - sums.size, PADDING_BIAS)])

    def _initial_state(self, size: int, dim: int) -> dict:
        rng = np.random.default_rng(self.config.seed)
        std = 1.0 / math.sqrt(dim)
        return {
            "rows": rng.normal(0.0, std, (size, dim)).astype(np.float32),
            "cols": rng.normal(0.0, std, (size, dim)).astype(np.float32),
        }

    def _save_checkpoint(self, work_dir: Path, epoch: int, losses, seconds, **arrays) -> None:
        # The state goes inside the one atomically written .npz, so weights and epoch always agree;
        # checkpoint.json repeats it for people and for messages.
        state = {"epoch": epoch, "losses": losses, "seconds": seconds, "config": asdict(self.config)}
        atomic_save_npz(work_dir / CHECKPOINT, state=np.array(json.dumps(state)), **arrays)
        atomic_write_json(work_dir / CHECKPOINT_STATE, state)

    def _load_checkpoint(
        self, work_dir: Path, size: int, dim: int
    ) -> tuple[dict[str, np.ndarray], list[float], list[float], int]:
        try:
            with np.load(work_dir / CHECKPOINT, allow_pickle=False) as data:
                state = {k: data[k] for k in data.files}
            meta = json.loads(str(state.pop("state")))
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(
                f"{work_dir / CHECKPOINT}: unreadable checkpoint ({exc}); delete {work_dir} to start afresh"
            ) from None
        free = ("epochs", "row_updates", "tolerance", "min_row_updates")  # where to stop may change on resume
        recorded = {**asdict(SwivelConfig()), **meta["config"]}  # settings added since then: their defaults
        saved = {k: v for k, v in recorded.items() if k not in free}
        wanted = {k: v for k, v in asdict(self.config).items() if k not in free}
        if saved != wanted:
            changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
            raise ConfigError(
                f"{work_dir}: the interrupted run used other settings ({', '.join(changed)}); "
                f"resume with the same settings or start afresh"
            )
        if state["rows"].shape != (size, dim):
            raise ConfigError(f"{work_dir}: checkpoint shape {state['rows'].shape} does not match ({size}, {dim})")
        return state, list(meta["losses"]), list(meta["seconds"]), int(meta["epoch"])
