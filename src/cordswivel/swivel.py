"""Swivel training in TensorFlow 2 (Shazeer et al. 2016, arXiv:1602.02215; DESIGN.md section 2).

One step trains one block (row shard r, column shard c) of the co-occurrence matrix. With
s = shard_size, R = W[shard r] (s, d), C = W~[shard c] (s, d) and S = R C^T (s, s):

- observed cell (x > 0): 0.5 * confidence(x) * (S - pmi)^2, pmi = log x - rb_i - cb_j + log_total,
  confidence(x) = base + scale * x ** exponent;
- unobserved cell: softplus(S - pmi*), pmi* = -rb_i - cb_j + log_total;
- block loss = sum / sqrt(s * s); biases are fixed: rb = log(row sums + 1), cb = log(col sums + 1).

The gradient is written out (dL/dS, then two matmuls), so a step costs 6 s^2 d FLOPs in
TensorFlow matmuls plus one XLA-fused elementwise pass. Optimisers (Adagrad, RMSProp, SGD) update
only the 2 s rows a step touches. The output vectors are W + W~.

Checkpoint (after every epoch, in the run's work directory): ``checkpoint.npz`` with the embeddings,
the optimiser slots and the state (epoch reached, losses so far, settings) as JSON text, written
atomically as one file; ``checkpoint.json`` repeats the state for people.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .cooccur import CooccurrenceShards
from .errors import ConfigError, CordswivelError
from .fileio import atomic_save_npz, atomic_write_json

log = logging.getLogger(__name__)

OPTIMIZERS = ("adagrad", "rmsprop", "sgd")
CHECKPOINT = "checkpoint.npz"
CHECKPOINT_STATE = "checkpoint.json"


class TrainingError(CordswivelError):
    """Training diverged or cannot continue."""


@dataclass(frozen=True)
class SwivelConfig:
    """Settings of Swivel training."""

    embedding_dim: int = 128          # vector size
    epochs: int = 40                  # passes over all shard-pair blocks
    optimizer: str = "adagrad"        # adagrad (original Swivel), rmsprop (distributed Swivel) or sgd
    learning_rate: float = 1.0        # Swivel used 1.0 with Adagrad, 0.1 with RMSProp
    confidence_base: float = 0.1      # confidence(x) = base + scale * x ** exponent
    confidence_scale: float = 0.25
    confidence_exponent: float = 0.5
    seed: int = 0                     # initialisation and block order

    def validate(self) -> None:
        if self.embedding_dim < 1:
            raise ConfigError(f"dim must be positive, got {self.embedding_dim}")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be positive, got {self.epochs}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning rate must be positive, got {self.learning_rate}")


def block_loss_and_score_gradient(scores, counts, row_bias, col_bias, log_total,
                                  confidence_base, confidence_scale, confidence_exponent):
    """Loss of one block given its scores S = R C^T, and dL/dS: the elementwise part (TensorFlow).

    Shapes: scores and counts (s, t), row_bias (s,), col_bias (t,).
    """
    import tensorflow as tf

    observed = counts > 0
    base = log_total - row_bias[:, None] - col_bias[None, :]
    log_counts = tf.math.log(tf.where(observed, counts, tf.ones_like(counts)))
    err = scores - (base + log_counts)
    confidence = confidence_base + confidence_scale * tf.pow(counts, confidence_exponent)
    multiplier = tf.math.rsqrt(tf.cast(tf.size(counts), counts.dtype))
    loss = multiplier * tf.reduce_sum(tf.where(observed, 0.5 * confidence * tf.square(err),
                                               tf.math.softplus(err)))
    grad_scores = multiplier * tf.where(observed, confidence * err, tf.math.sigmoid(err))
    return loss, grad_scores


def block_loss_and_gradients(row_vecs, col_vecs, counts, row_bias, col_bias, log_total,
                             confidence_base, confidence_scale, confidence_exponent, *,
                             elementwise=block_loss_and_score_gradient):
    """Loss of one dense block and its gradients wrt the row and column vectors (TensorFlow).

    Shapes: row_vecs (s, d), col_vecs (t, d), counts (s, t), row_bias (s,), col_bias (t,). The three
    matmuls stay plain TensorFlow ops (oneDNN where enabled); ``elementwise`` may be XLA-compiled.
    """
    import tensorflow as tf

    scores = tf.matmul(row_vecs, col_vecs, transpose_b=True)  # (s, t)
    loss, grad_scores = elementwise(scores, counts, row_bias, col_bias, log_total,
                                    confidence_base, confidence_scale, confidence_exponent)
    grad_rows = tf.matmul(grad_scores, col_vecs)                     # (s, d)
    grad_cols = tf.matmul(grad_scores, row_vecs, transpose_a=True)   # (t, d)
    return loss, grad_rows, grad_cols


class _Optimizer:
    """Row-sparse optimiser updates on TF variables (only the touched rows change)."""

    def __init__(self, name: str, learning_rate: float, variables):
        import tensorflow as tf

        self.name = name
        self.learning_rate = learning_rate
        self.slots = []
        if name == "adagrad":   # tf.keras.optimizers.Adagrad's initial accumulator value
            self.slots = [tf.Variable(tf.fill(v.shape, 0.1), name=f"{v.name.split(':')[0]}_acc")
                          for v in variables]
        elif name == "rmsprop":
            self.slots = [tf.Variable(tf.zeros(v.shape), name=f"{v.name.split(':')[0]}_ms")
                          for v in variables]

    def apply(self, k: int, variable, ids, grad):
        import tensorflow as tf

        lr = self.learning_rate
        if self.name == "sgd":
            update = lr * grad
        elif self.name == "adagrad":
            acc = tf.gather(self.slots[k], ids) + tf.square(grad)
            self.slots[k].scatter_nd_update(ids[:, None], acc)
            update = lr * grad * tf.math.rsqrt(acc)
        else:  # rmsprop, decay 0.9, epsilon 1e-7 as tf.keras
            ms = 0.9 * tf.gather(self.slots[k], ids) + 0.1 * tf.square(grad)
            self.slots[k].scatter_nd_update(ids[:, None], ms)
            update = lr * grad / (tf.sqrt(ms) + 1e-7)
        variable.scatter_nd_sub(ids[:, None], update)


def _aligned_zeros(shape: tuple[int, int]) -> np.ndarray:
    """float32 zeros on a 64-byte boundary, so TensorFlow can take the buffer without a copy."""
    size = shape[0] * shape[1] * 4
    raw = np.zeros(size + 64, dtype=np.uint8)
    offset = -raw.ctypes.data % 64
    return raw[offset:offset + size].view(np.float32).reshape(shape)


def _as_tensor(array: np.ndarray):
    """A tensor over ``array``'s memory (DLPack, zero-copy) where possible; a copy otherwise."""
    import tensorflow as tf

    try:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    except Exception:  # an older TensorFlow or an unaligned buffer: copying is correct, only slower
        return tf.convert_to_tensor(array)


def _dense_blocks(shards: CooccurrenceShards, order: np.ndarray, prefetch: int = 2):
    """Yield (r, c, dense counts) in ``order``, reading and densifying ahead in a thread."""
    import concurrent.futures

    n, s = shards.num_shards, shards.shard_size

    def load(block: int):
        r, c = divmod(int(block), n)
        rows, cols, counts = shards.block(r, c)
        dense = _aligned_zeros((s, s))
        dense[rows, cols] = counts
        return r, c, _as_tensor(dense)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = [pool.submit(load, b) for b in order[:prefetch]]
        for k in range(len(order)):
            if k + prefetch < len(order):
                pending.append(pool.submit(load, order[k + prefetch]))
            yield pending.pop(0).result()


class SwivelTrainer:
    """Trains Swivel embeddings on a co-occurrence directory; ``fit`` returns ``self``.

    After ``fit``: ``vectors_`` (V, dim) float32, ``losses_`` and ``epoch_seconds_`` per epoch.
    """

    def __init__(self, config: SwivelConfig = SwivelConfig()):
        config.validate()
        self.config = config

    def fit(self, shards: CooccurrenceShards, work_dir: str | os.PathLike, *, resume: bool = False,
            progress: Callable[[int, int], object] | None = None) -> "SwivelTrainer":
        """Train, checkpointing to ``work_dir`` after every epoch; ``resume`` continues from there.

        ``progress(epoch, total_blocks)`` may return a tqdm-like bar (``update``, ``set_postfix``,
        ``close``) for one epoch.
        """
        import tensorflow as tf

        cfg = self.config
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        size, dim, n = len(shards.vocab), cfg.embedding_dim, shards.num_shards
        state = self._initial_state(size, dim)
        losses, seconds, start_epoch = [], [], 0
        if resume and (work_dir / CHECKPOINT).exists():
            state, losses, seconds, start_epoch = self._load_checkpoint(work_dir, size, dim)
            log.info("resuming after epoch %d of %d", start_epoch, cfg.epochs)

        rows_var = tf.Variable(state["rows"], name="rows")
        cols_var = tf.Variable(state["cols"], name="cols")
        optimizer = _Optimizer(cfg.optimizer, cfg.learning_rate, [rows_var, cols_var])
        for slot, key in zip(optimizer.slots, ("rows_slot", "cols_slot")):
            if key in state:
                slot.assign(state[key])
        row_bias = tf.constant(np.log(shards.row_sums + 1.0), tf.float32)
        col_bias = tf.constant(np.log(shards.col_sums + 1.0), tf.float32)
        log_total = tf.constant(math.log(float(shards.row_sums.sum()) + 1.0), tf.float32)
        s = shards.shard_size
        conf = (tf.constant(cfg.confidence_base, tf.float32), tf.constant(cfg.confidence_scale, tf.float32),
                tf.constant(cfg.confidence_exponent, tf.float32))

        elementwise = tf.function(block_loss_and_score_gradient, jit_compile=True)  # one fused pass

        @tf.function(input_signature=[tf.TensorSpec([s], tf.int64), tf.TensorSpec([s], tf.int64),
                                      tf.TensorSpec([s, s], tf.float32)])
        def step(row_ids, col_ids, counts):
            loss, grad_rows, grad_cols = block_loss_and_gradients(
                tf.gather(rows_var, row_ids), tf.gather(cols_var, col_ids), counts,
                tf.gather(row_bias, row_ids), tf.gather(col_bias, col_ids), log_total, *conf,
                elementwise=elementwise)
            optimizer.apply(0, rows_var, row_ids, grad_rows)
            optimizer.apply(1, cols_var, col_ids, grad_cols)
            return loss

        for epoch in range(start_epoch, cfg.epochs):
            began = time.perf_counter()
            order = np.random.default_rng([cfg.seed, epoch]).permutation(n * n)
            bar = progress(epoch, n * n) if progress else None
            total = 0.0
            try:
                for done, (r, c, counts) in enumerate(_dense_blocks(shards, order), start=1):
                    loss = float(step(shards.shard_ids(r), shards.shard_ids(c), counts))
                    if not math.isfinite(loss):
                        raise TrainingError(f"loss became {loss} at epoch {epoch + 1}, block ({r}, {c}); "
                                            f"lower the learning rate")
                    total += loss
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{total / done:.4f}", refresh=False)
            finally:
                if bar is not None:
                    bar.close()
            losses.append(total / (n * n))
            seconds.append(time.perf_counter() - began)
            log.info("epoch %d/%d loss %.5f (%.1f s)", epoch + 1, cfg.epochs, losses[-1], seconds[-1])
            slots = {f"{k}_slot": v.numpy() for k, v in zip(("rows", "cols"), optimizer.slots)}
            self._save_checkpoint(work_dir, epoch + 1, losses, seconds,
                                  rows=rows_var.numpy(), cols=cols_var.numpy(), **slots)

        self.vectors_ = (rows_var.numpy() + cols_var.numpy()).astype(np.float32)
        self.losses_ = losses
        self.epoch_seconds_ = seconds
        return self

    def _initial_state(self, size: int, dim: int) -> dict:
        rng = np.random.default_rng(self.config.seed)
        std = 1.0 / math.sqrt(dim)
        return {"rows": rng.normal(0.0, std, (size, dim)).astype(np.float32),
                "cols": rng.normal(0.0, std, (size, dim)).astype(np.float32)}

    def _save_checkpoint(self, work_dir: Path, epoch: int, losses, seconds, **arrays) -> None:
        # The state goes inside the one atomically written .npz, so weights and epoch always agree;
        # checkpoint.json repeats it for people and for messages.
        state = {"epoch": epoch, "losses": losses, "seconds": seconds, "config": asdict(self.config)}
        atomic_save_npz(work_dir / CHECKPOINT, state=np.array(json.dumps(state)), **arrays)
        atomic_write_json(work_dir / CHECKPOINT_STATE, state)

    def _load_checkpoint(self, work_dir: Path, size: int, dim: int):
        try:
            with np.load(work_dir / CHECKPOINT, allow_pickle=False) as data:
                state = {k: data[k] for k in data.files}
            meta = json.loads(str(state.pop("state")))
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"{work_dir / CHECKPOINT}: unreadable checkpoint ({exc}); delete {work_dir} "
                              f"to start afresh") from None
        saved = {k: v for k, v in meta["config"].items() if k != "epochs"}
        wanted = {k: v for k, v in asdict(self.config).items() if k != "epochs"}
        if saved != wanted:
            changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
            raise ConfigError(f"{work_dir}: the interrupted run used other settings ({', '.join(changed)}); "
                              f"resume with the same settings or start afresh")
        if state["rows"].shape != (size, dim):
            raise ConfigError(f"{work_dir}: checkpoint shape {state['rows'].shape} does not match "
                              f"({size}, {dim})")
        return state, list(meta["losses"]), list(meta["seconds"]), int(meta["epoch"])
