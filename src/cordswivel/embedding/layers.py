"""The text embedding inside a TensorFlow graph: tokenizer ops and a tf-keras layer on raw strings.

``tf_tokenize`` gives, as string ops, the tokens of ``tokenizer.tokenize``: runs of
``tokenizer.WHITESPACE`` separate tokens, ``string.punctuation`` is stripped from both ends, empty
tokens are dropped, and the lowercase option uses TensorFlow's UTF-8 lowercasing.
``TextEmbeddingLayer`` looks the tokens up (OOV tokens on the bucket rows, as TF-Hub's
``StaticVocabularyTable``) and combines them with ``sqrtn``, so its output equals
``TextEmbedding.embed``; with ``trainable=True`` the vector table (OOV rows included) is fine-tuned.
The exported TF-Hub module (``hub``) runs the same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import tensorflow as tf
import tf_keras as keras

from ..corpus.tokenizer import PUNCTUATION, WHITESPACE

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


def embed_tokens(tokens: tf.RaggedTensor, lookup: Any, embeddings: tf.Variable) -> tf.Tensor:
    """sqrtn sentence vectors [batch, dim] of ragged tokens; a row without tokens gives zeros."""
    ids = tf.ragged.map_flat_values(lookup.lookup, tokens)
    vectors = tf.ragged.map_flat_values(tf.gather, embeddings, ids)  # [batch, (n), dim]
    counts = tf.cast(ids.row_lengths(), embeddings.dtype)[:, None]
    return tf.reduce_sum(vectors, axis=1) / tf.sqrt(tf.maximum(counts, 1.0))


class TextEmbeddingLayer(keras.layers.Layer):
    """Raw strings [batch] to sqrtn sentence vectors [batch, dim], as TF-Hub's text-embedding modules."""

    def __init__(
        self,
        vocab: Sequence[str],
        table: np.ndarray,
        *,
        lowercase: bool = False,
        num_oov_buckets: int = 1,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("dtype", tf.string)
        super().__init__(**kwargs)
        self.lowercase = bool(lowercase)
        self.num_oov_buckets = int(num_oov_buckets)
        keys = tf.constant(list(vocab), dtype=tf.string)
        self.lookup = tf.lookup.StaticVocabularyTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(vocab), dtype=tf.int64)),
            num_oov_buckets=self.num_oov_buckets,
        )
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=np.shape(table),
            dtype=tf.float32,
            initializer=keras.initializers.Constant(np.asarray(table, dtype=np.float32)),
            trainable=self.trainable,
        )

    def call(self, texts: tf.Tensor) -> tf.Tensor:
        texts = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
        return embed_tokens(tf_tokenize(texts, self.lowercase), self.lookup, self.embeddings)

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
