"""Vectors for words the model never saw, from character n-grams fit to the trained word vectors.

fastText's scheme (Bojanowski et al. 2017): a word is wrapped in ``<`` and ``>`` and cut into its
character n-grams, n from 3 to 6, each hashed into one of ``buckets`` rows (an integer polynomial hash
of the code points that NumPy and the SavedModel's graph compute alike). A word's subword vector
combines its n-grams' rows as the module combines tokens: sum / sqrt(count). Unlike fastText the rows
are not trained with the words: they are fit afterwards so that each vocabulary word's subword vector
approximates its trained vector (Zhao et al. 2018, bag-of-subwords), a ridge least squares (words
weighted by a power of their count, 0 by default), solved by preconditioned conjugate gradients in
seconds. Vocabulary words keep their trained vectors; a subword vector is used only for a token
outside the vocabulary, and the OOV row only for one whose n-gram rows sum to zero (buckets no
vocabulary word uses).
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


# An n-gram's bucket: a polynomial hash of its code points, (h * BASE + code + 1) mod MODULUS, then mod
# buckets. Exact in int64 (MODULUS * BASE < 2^51), so NumPy here and TensorFlow in the SavedModel's graph
# (``layers.subword_rows``) compute the same buckets, and Python needs no TensorFlow to embed.
HASH_BASE = 1_000_003
HASH_MODULUS = 2**31 - 1
HASH_NAME = "polynomial-1000003-mod-2147483647"  # recorded in config.json: tables fit with another hash are refused


def char_ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of ``<word>``, n from ``min_n`` to ``max_n``, shortest first."""
    wrapped = f"<{word}>"
    return [wrapped[i : i + n] for n in range(min_n, max_n + 1) for i in range(len(wrapped) - n + 1)]


def ngram_hash(ngram: str) -> int:
    """The hash of one n-gram (before ``% buckets``): the definition ``ngram_buckets`` vectorises."""
    value = 0
    for char in ngram:
        value = (value * HASH_BASE + ord(char) + 1) % HASH_MODULUS
    return value


def ngram_buckets(words: Sequence[str], buckets: int, min_n: int = 3, max_n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, word index) of every character n-gram of every word, in word order (by start, then
    length): the n-grams of ``char_ngrams``, hashed by ``ngram_hash`` mod ``buckets``, all words at once."""
    wrapped = [f"<{w}>" for w in words]
    lengths = np.fromiter(map(len, wrapped), dtype=np.int64, count=len(wrapped))
    codes = np.fromiter((ord(c) + 1 for w in wrapped for c in w), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(words)), lengths)
    limit = np.repeat(np.cumsum(lengths), lengths)  # where each character's word ends
    positions = np.arange(len(codes))
    padded = np.concatenate([codes, np.zeros(max_n, dtype=np.int64)])
    hashes, valid = [], []
    for n in range(min_n, max_n + 1):
        value = np.zeros(len(codes), dtype=np.int64)
        for j in range(n):
            value = (value * HASH_BASE + padded[j : j + len(codes)]) % HASH_MODULUS
        hashes.append(value % buckets)
        valid.append(positions + n <= limit)
    keep = np.stack(valid, axis=1)  # (characters, widths): n-grams by start, so by word
    found = np.stack(hashes, axis=1)[keep]
    return found, np.broadcast_to(owner[:, None], keep.shape)[keep]


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
        found, owner = ngram_buckets(words, self.buckets, self.min_n, self.max_n)
        order = np.argsort(owner, kind="stable")
        return np.split(found[order], np.cumsum(np.bincount(owner, minlength=len(words)))[:-1]) if len(words) else []

    def word_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors (n, dim), known (n,) bool): each word's sum of n-gram rows / sqrt(count); ``known`` is
        False where that is zero (its n-grams in buckets no vocabulary word uses), as in the graph."""
        out = np.zeros((len(words), self.vectors.shape[1]), dtype=np.float32)
        known = np.zeros(len(words), dtype=bool)
        for k, rows in enumerate(self.rows(words)):
            out[k] = self.vectors[rows].sum(axis=0, dtype=np.float32) / np.float32(math.sqrt(max(len(rows), 1)))
            known[k] = out[k].any()
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
    columns, rows = ngram_buckets(words, config.buckets, config.min_n, config.max_n)
    lengths = np.bincount(rows, minlength=len(words))
    used_buckets, columns = np.unique(columns, return_inverse=True)  # solve for the buckets words use
    scale = (1.0 / np.sqrt(np.maximum(lengths, 1)))[rows].astype(np.float32)
    shape = (len(words), len(used_buckets))
    a = sparse.csr_matrix((scale, (rows, columns)), shape=shape)  # repeated n-grams summed
    counts = np.asarray(counts, dtype=np.float64)
    weight = counts**config.weight_power if counts.any() else np.ones(len(words))
    weight = (weight / weight.mean()).astype(np.float32)
    target = np.asarray(vectors, dtype=np.float32)
    at = sparse.csr_matrix(a.T.multiply(weight[None, :]))  # A^T C
    rhs = at @ target  # (used buckets, dim)
    diagonal = np.asarray(at.multiply(a.T).sum(axis=1)).ravel() + config.l2
    diagonal = np.maximum(diagonal, 1e-12).astype(np.float32)  # l2 0 with a bucket only weightless words use

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
