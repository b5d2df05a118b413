"""The text embedding inside a TensorFlow graph: tokenizer ops and a Keras layer on raw strings.

``tf_tokenize`` gives, as string ops, the tokens of ``tokenizer.tokenize``: runs of the characters
for which ``str.isspace()`` is true separate tokens, ``string.punctuation`` is stripped from both
ends, empty tokens are dropped, and the lowercase option uses TensorFlow's UTF-8 lowercasing.
``TextEmbeddingLayer`` looks the tokens up (OOV tokens on the bucket rows, as TF-Hub's
``StaticVocabularyTable``) and combines them with ``sqrtn``, so its output equals
``TextEmbedding.embed``; with ``trainable=True`` the vector table (OOV rows included) is fine-tuned.
"""

from __future__ import annotations

import string

import numpy as np

from .module import TextEmbedding

_SPACE_CLASS = "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace() and c != 0x20)
_PUNCT_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in string.punctuation)
SPACE_PATTERN = f"[{_SPACE_CLASS}]"                     # RE2: every non-space whitespace character
STRIP_PATTERN = f"^[{_PUNCT_CLASS}]+|[{_PUNCT_CLASS}]+$"  # RE2: punctuation at either end


def tf_tokenize(texts, lowercase: bool = False):
    """Tokens of a 1-D string tensor as a RaggedTensor [batch, (tokens)]."""
    import tensorflow as tf

    texts = tf.strings.regex_replace(texts, SPACE_PATTERN, " ")
    chunks = tf.strings.split(texts)  # no separator: runs of spaces split, empty chunks dropped
    tokens = tf.strings.regex_replace(chunks, STRIP_PATTERN, "")
    if lowercase:
        tokens = tf.strings.lower(tokens, encoding="utf-8")
    return tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)


def embed_tokens(tokens, lookup, embeddings):
    """sqrtn sentence vectors [batch, dim] of ragged tokens; a row without tokens gives zeros."""
    import tensorflow as tf

    ids = tf.ragged.map_flat_values(lookup.lookup, tokens)
    vectors = tf.ragged.map_flat_values(tf.gather, embeddings, ids)  # [batch, (n), dim]
    counts = tf.cast(ids.row_lengths(), embeddings.dtype)[:, None]
    return tf.reduce_sum(vectors, axis=1) / tf.sqrt(tf.maximum(counts, 1.0))


def _keras():
    import tf_keras
    return tf_keras


def make_text_embedding_layer(embedding: TextEmbedding, *, trainable: bool = False, name: str = "text_embedding"):
    """A Keras (tf-keras) layer: [batch] strings -> [batch, dim] float32, equal to ``embedding.embed``.

    For a TF-Hub module loaded by ``cordswivel.load`` this is ``hub.KerasLayer`` on the module itself.
    """
    import tensorflow as tf
    keras = _keras()

    from .hub import HubTextEmbedding
    if isinstance(embedding, HubTextEmbedding):
        import tensorflow_hub as hub
        return hub.KerasLayer(str(embedding.path), input_shape=[], dtype=tf.string, trainable=trainable, name=name)

    class TextEmbeddingLayer(keras.layers.Layer):
        """Raw strings to sqrtn sentence vectors, as TF-Hub's text-embedding modules."""

        def __init__(self, vocab, table, lowercase, num_oov_buckets, **kwargs):
            super().__init__(**kwargs)
            self.lowercase = bool(lowercase)
            self.num_oov_buckets = int(num_oov_buckets)
            self._vocab = list(vocab)
            keys = tf.constant(self._vocab, dtype=tf.string)
            self.lookup = tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(self._vocab), dtype=tf.int64)),
                num_oov_buckets=self.num_oov_buckets)
            self.embeddings = self.add_weight(
                name="embeddings", shape=np.shape(table), dtype=tf.float32,
                initializer=keras.initializers.Constant(np.asarray(table, dtype=np.float32)),
                trainable=self.trainable)

        def call(self, texts):
            texts = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
            return embed_tokens(tf_tokenize(texts, self.lowercase), self.lookup, self.embeddings)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.embeddings.shape[1])

    return TextEmbeddingLayer(embedding.vocab, embedding.table, embedding.lowercase, embedding.num_oov_buckets,
                              trainable=trainable, name=name, dtype=tf.string)


def graph_embed(embedding: TextEmbedding, texts: list[str]) -> np.ndarray:
    """``embed`` computed by the in-graph layer (for checking the two agree)."""
    import tensorflow as tf
    layer = make_text_embedding_layer(embedding)
    return layer(tf.constant(texts, dtype=tf.string)).numpy()

