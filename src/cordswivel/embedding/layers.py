"""The text embedding inside a TensorFlow graph: tokenizer ops and a tf-keras layer on raw strings.

``tf_tokenize`` gives, as string ops, the tokens of ``tokenizer.tokenize``: runs of
``tokenizer.WHITESPACE`` separate tokens, ``string.punctuation`` is stripped from both ends, empty
tokens are dropped, and the lowercase option uses TensorFlow's UTF-8 lowercasing.
``TextEmbeddingLayer`` looks the tokens up (OOV tokens on the bucket rows, as TF-Hub's
``StaticVocabularyTable``; with subwords, from their character n-grams' rows, ``subwords``) and
combines them with ``sqrtn``, so its output equals ``TextEmbedding.embed``; with ``trainable=True``
the vector table (OOV rows included) and the n-gram rows are fine-tuned.
The exported TF-Hub module (``hub``) runs the same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ..corpus.tokenizer import PUNCTUATION, WHITESPACE
from .subwords import HASH_BASE, HASH_MODULUS

_SPACE_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE if c != " ")
_PUNCT_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in PUNCTUATION)
SPACE_PATTERN = f"[{_SPACE_CLASS}]"  # RE2: every whitespace character but the space
STRIP_PATTERN = f"^[{_PUNCT_CLASS}]+|[{_PUNCT_CLASS}]+$"  # RE2: punctuation at either end


def tf_tokenize(texts: tf.Tensor, lowercase: bool = False) -> tf.RaggedTensor:
    """Tokens of a 1-D string tensor as a RaggedTensor [batch, (tokens)]."""
    texts = tf.strings.regex_replace(texts, SPACE_PATTERN, " ")
    chunks = tf.strings.split(texts)  # no separator: runs of spaces split, empty chunks dropped
    tokens = tf.strings.regex_replace(chunks, STRIP_PATTERN, "")
    if lowercase:
        tokens = tf.strings.lower(tokens, encoding="utf-8")
    return tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)


def subword_rows(tokens: tf.Tensor, buckets: int, min_n: int, max_n: int) -> tuple[tf.Tensor, tf.Tensor]:
    """(bucket, token index) of every character n-gram of every token, in token order, as
    ``subwords.ngram_buckets``: the polynomial hash of each window of code points of ``<token>``."""
    codes = tf.strings.unicode_decode(tf.strings.join(["<", tokens, ">"]), "UTF-8")
    flat = tf.cast(codes.flat_values, tf.int64) + 1
    owner = codes.value_rowids()
    limit = tf.repeat(codes.row_limits(), codes.row_lengths())  # where each character's token ends
    size = tf.size(flat, out_type=tf.int64)
    positions = tf.range(size)
    padded = tf.concat([flat, tf.zeros([max_n], tf.int64)], axis=0)
    hashes, valid = [], []
    for n in range(min_n, max_n + 1):
        value = tf.zeros_like(flat)
        for j in range(n):
            value = tf.math.floormod(value * HASH_BASE + padded[j : j + size], HASH_MODULUS)
        hashes.append(tf.math.floormod(value, buckets))
        valid.append(positions + n <= limit)
    keep = tf.stack(valid, axis=1)  # [characters, widths]: n-grams by start, so by token
    owners = tf.broadcast_to(owner[:, None], tf.shape(keep, out_type=tf.int64))
    return tf.boolean_mask(tf.stack(hashes, axis=1), keep), tf.boolean_mask(owners, keep)


def embed_tokens(
    tokens: tf.RaggedTensor,
    lookup: Any,
    embeddings: tf.Variable,
    subwords: tf.Variable | None = None,
    ngram_lengths: tuple[int, int] = (3, 6),
    vocab_size: int = 0,
) -> tf.Tensor:
    """sqrtn sentence vectors [batch, dim] of ragged tokens; a row without tokens gives zeros. With
    ``subwords`` (n-gram rows), a token outside the vocabulary takes the sqrtn of its n-grams' rows
    instead of its OOV row (ids from ``vocab_size`` on), unless that sqrtn is zero (n-grams in buckets no
    vocabulary word uses)."""
    ids = tf.ragged.map_flat_values(lookup.lookup, tokens)
    vectors = tf.gather(embeddings, ids.flat_values)  # [tokens, dim]
    if subwords is not None:
        outside = tf.where(ids.flat_values >= vocab_size)[:, 0]
        unseen, which = tf.unique(tf.gather(tokens.flat_values, outside))  # each distinct token once
        rows, owner = subword_rows(unseen, int(subwords.shape[0]), *ngram_lengths)
        count = tf.shape(unseen, out_type=tf.int64)[0]
        sums = tf.math.segment_sum(tf.gather(subwords, rows), owner)  # owner is sorted: 30% faster than unsorted
        sums = tf.pad(sums, [[0, count - tf.shape(sums, out_type=tf.int64)[0]], [0, 0]])  # last tokens with no n-gram
        grams = tf.math.unsorted_segment_sum(tf.ones_like(owner, subwords.dtype), owner, num_segments=count)
        sums = tf.gather(sums / tf.sqrt(tf.maximum(grams, 1.0))[:, None], which)
        known = tf.reduce_any(tf.not_equal(sums, 0.0), axis=1)  # else the n-grams' rows are zero: the OOV row
        replaced = tf.where(known[:, None], sums, tf.gather(vectors, outside))
        vectors = tf.tensor_scatter_nd_update(vectors, outside[:, None], replaced)
    counts = tf.cast(ids.row_lengths(), embeddings.dtype)[:, None]
    return tf.reduce_sum(ids.with_flat_values(vectors), axis=1) / tf.sqrt(tf.maximum(counts, 1.0))


class TextEmbeddingLayer(keras.layers.Layer):
    """Raw strings [batch] to sqrtn sentence vectors [batch, dim], as TF-Hub's text-embedding modules."""

    def __init__(
        self,
        vocab: Sequence[str],
        table: np.ndarray,
        *,
        lowercase: bool = False,
        num_oov_buckets: int = 1,
        subwords: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("dtype", tf.string)
        super().__init__(**kwargs)
        self.lowercase = bool(lowercase)
        self.num_oov_buckets = int(num_oov_buckets)
        self.vocab_size = len(vocab)
        keys = tf.constant(list(vocab), dtype=tf.string)
        self.lookup = tf.lookup.StaticVocabularyTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(vocab), dtype=tf.int64)),
            num_oov_buckets=self.num_oov_buckets,
        )
        self.embeddings = self._table("embeddings", table)
        self.subwords = None if subwords is None else self._table("subwords", subwords.vectors)
        self.ngram_lengths = (3, 6) if subwords is None else (subwords.min_n, subwords.max_n)

    def _table(self, name: str, values: np.ndarray) -> tf.Variable:
        return self.add_weight(
            name=name,
            shape=np.shape(values),
            dtype=tf.float32,
            initializer=keras.initializers.Constant(np.asarray(values, dtype=np.float32)),
            trainable=self.trainable,
        )

    def call(self, texts: tf.Tensor) -> tf.Tensor:
        texts = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
        tokens = tf_tokenize(texts, self.lowercase)
        return embed_tokens(tokens, self.lookup, self.embeddings, self.subwords, self.ngram_lengths, self.vocab_size)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.embeddings.shape[1])


class KerasLayerSource(Protocol):
    """What the layer factory takes: a ``TextEmbedding``, or a TF-Hub module that ``cordswivel.load`` opened.
    (A protocol, so that this module, which ``TextEmbedding.keras_layer`` imports, imports no model class.)"""

    def keras_layer(self, *, trainable: bool = False, name: str = "text_embedding") -> Any: ...


def make_text_embedding_layer(
    embedding: KerasLayerSource, *, trainable: bool = False, name: str = "text_embedding"
) -> keras.layers.Layer:
    """A tf-keras layer on raw strings whose output equals ``embedding.embed`` (``keras_layer``):
    a ``TextEmbeddingLayer``, or ``hub.KerasLayer`` for a TF-Hub module loaded by ``cordswivel.load``."""
    return embedding.keras_layer(trainable=trainable, name=name)


def graph_embed(embedding: KerasLayerSource, texts: list[str]) -> np.ndarray:
    """``embed`` computed by the in-graph layer (for checking the two agree)."""
    return make_text_embedding_layer(embedding)(tf.constant(texts, dtype=tf.string)).numpy()
