"""Vectors for words the model never saw, from character n-grams fit to the trained word vectors.

fastText's scheme (Bojanowski et al. 2017): a word is wrapped in ``<`` and ``>`` and cut into its
character n-grams, n from 3 to 6, each hashed into one of ``buckets`` rows (TensorFlow's
``Fingerprint64(n-gram) % buckets``, the hash of the module's OOV buckets, so the SavedModel computes
the same rows in its graph). A word's subword vector combines its n-grams' rows as the module combines
tokens: sum / sqrt(count). Unlike fastText the rows are not trained with the words: they are fit
afterwards so that each vocabulary word's subword vector approximates its trained vector (Zhao et al.
2018, bag-of-subwords), a ridge least squares weighted by corpus frequency, solved by preconditioned
conjugate gradients in seconds. Vocabulary words keep their trained vectors; a subword vector is used
only for a token outside the vocabulary, and the OOV row only for one whose n-grams all fall in
buckets no vocabulary word uses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import SubwordConfig
from ..errors import ConfigError

SUBWORDS_FILE = "subwords.npy"  # in a model directory: the (buckets, dim) float32 n-gram vectors


def char_ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of ``<word>``, n from ``min_n`` to ``max_n``, shortest first (as the graph's
    ``tf.strings.ngrams`` lists them)."""
    wrapped = f"<{word}>"
    return [wrapped[i : i + n] for n in range(min_n, max_n + 1) for i in range(len(wrapped) - n + 1)]


def hash_buckets(ngrams: Sequence[str], buckets: int) -> np.ndarray:
    """Bucket of each n-gram: Fingerprint64 of its UTF-8 bytes modulo ``buckets`` (TensorFlow's
    ``to_hash_bucket_fast``, which the SavedModel runs; imported when used: TensorFlow is slow to load)."""
    if not ngrams:
        return np.zeros(0, dtype=np.int64)
    import tensorflow as tf

    return tf.strings.to_hash_bucket_fast(list(ngrams), buckets).numpy().astype(np.int64)


@dataclass(frozen=True)
class SubwordTable:
    """Hashed n-gram vectors (buckets, dim); a bucket no vocabulary word uses is a zero row."""

    vectors: np.ndarray
    min_n: int = 3
    max_n: int = 6

    @property
    def buckets(self) -> int:
        return len(self.vectors)

    def rows(self, words: Sequence[str]) -> list[np.ndarray]:
        """The bucket rows of each word's n-grams (a row repeats where n-grams share a bucket)."""
        grams = [char_ngrams(w, self.min_n, self.max_n) for w in words]
        flat = hash_buckets([g for gs in grams for g in gs], self.buckets)
        ends = np.cumsum([len(gs) for gs in grams])
        return np.split(flat, ends[:-1]) if len(grams) else []

    def word_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors (n, dim), known (n,) bool): each word's sum of n-gram rows / sqrt(count); ``known`` is
        False for a word whose n-gram rows are all zero (in buckets no vocabulary word uses)."""
        out = np.zeros((len(words), self.vectors.shape[1]), dtype=np.float32)
        known = np.zeros(len(words), dtype=bool)
        for k, rows in enumerate(self.rows(words)):
            vectors = self.vectors[rows]
            if vectors.any():
                out[k] = vectors.sum(axis=0, dtype=np.float32) / np.float32(math.sqrt(len(rows)))
                known[k] = True
        return out, known


@dataclass(frozen=True)
class SubwordFit:
    """What fitting took and gave: the table, the relative error on the vocabulary, the iterations."""

    table: SubwordTable
    relative_error: float  # sqrt(sum c ||fit - v||^2 / sum c ||v||^2) over the vocabulary
    iterations: int
    seconds: float


def fit_subwords(
    words: Sequence[str],
    vectors: np.ndarray,
    counts: np.ndarray,
    config: SubwordConfig = SubwordConfig(),
    *,
    log: Callable[[str], None] | None = None,
) -> SubwordFit:
    """Fit n-gram rows so that every word's subword vector approximates its vector: minimise
    sum_w c_w ||A_w E - v_w||^2 + l2 ||E||^2, with c_w = (count_w)^weight_power (1 where counts are
    unknown) normalised to mean 1, by conjugate gradients on the normal equations, Jacobi-preconditioned."""
    from scipy import sparse

    config.validate()
    if config.buckets < 1:
        raise ConfigError("fitting subwords needs at least one bucket (--subwords BUCKETS)")
    started = time.perf_counter()
    grams = [char_ngrams(w, config.min_n, config.max_n) for w in words]
    lengths = np.array([len(g) for g in grams], dtype=np.int64)
    columns = hash_buckets([g for gs in grams for g in gs], config.buckets)
    used_buckets, columns = np.unique(columns, return_inverse=True)  # solve for the buckets words use
    rows = np.repeat(np.arange(len(words)), lengths)
    scale = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths).astype(np.float32)
    shape = (len(words), len(used_buckets))
    a = sparse.csr_matrix((scale, (rows, columns)), shape=shape)  # repeated n-grams summed
    counts = np.asarray(counts, dtype=np.float64)
    weight = counts**config.weight_power if counts.any() else np.ones(len(words))
    weight = (weight / weight.mean()).astype(np.float32)
    target = np.asarray(vectors, dtype=np.float32)
    at = sparse.csr_matrix(a.T.multiply(weight[None, :]))  # A^T C
    rhs = at @ target  # (used buckets, dim)
    diagonal = (np.asarray(at.multiply(a.T).sum(axis=1)).ravel() + config.l2).astype(np.float32)

    def apply(x: np.ndarray) -> np.ndarray:
        return at @ (a @ x) + np.float32(config.l2) * x

    # conjugate gradients, one system per dimension, all at once (column-wise step sizes)
    x = np.zeros_like(rhs)
    r = rhs.copy()
    z = r / diagonal[:, None]
    p = z.copy()
    rz = np.einsum("ij,ij->j", r, z)
    norm0 = float(np.linalg.norm(rhs)) or 1.0
    iterations = 0
    while iterations < config.max_iterations:
        iterations += 1
        ap = apply(p)
        alpha = rz / np.maximum(np.einsum("ij,ij->j", p, ap), 1e-30)
        x += p * alpha
        r -= ap * alpha
        if np.linalg.norm(r) <= config.tolerance * norm0:
            break
        z = r / diagonal[:, None]
        rz_new = np.einsum("ij,ij->j", r, z)
        p = z + p * (rz_new / np.maximum(rz, 1e-30))
        rz = rz_new
    fitted = a @ x
    residual = (weight[:, None] * (fitted - target) ** 2).sum(dtype=np.float64)
    error = math.sqrt(float(residual / (weight[:, None] * target**2).sum(dtype=np.float64)))
    table_vectors = np.zeros((config.buckets, target.shape[1]), dtype=np.float32)
    table_vectors[used_buckets] = x
    seconds = time.perf_counter() - started
    if log is not None:
        log(
            f"fit {config.buckets:,} n-gram buckets ({len(used_buckets):,} used) to {len(words):,} words in "
            f"{iterations} iterations, {seconds:.1f} s; relative error {error:.3f}"
        )
    table = SubwordTable(table_vectors, config.min_n, config.max_n)
    return SubwordFit(table, error, iterations, seconds)
