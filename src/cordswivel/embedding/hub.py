"""TF-Hub interoperability: export a drop-in TF2 SavedModel, and use TF-Hub text-embedding modules.

Export follows the TF2 text-embedding convention of tensorflow/hub (docs/design.md, "TF-Hub module"):
a ``tf.train.Checkpoint`` whose ``__call__`` maps a 1-D string batch to float32
``[batch, dim]``, with ``variables``, ``trainable_variables`` (the embedding matrix) and
``regularization_losses``; the vocabulary is the asset ``assets/vocab.txt`` looked up by a
``StaticVocabularyTable`` (OOV id = vocab size + Fingerprint64(token) % buckets); tokens come from
``layers.tf_tokenize`` (identical to the Python tokenizer) and are combined with ``sqrtn``. Unlike
TF-Hub's exporter the matrix is float32, whitespace runs split (no empty tokens), and only the ends
of tokens lose their punctuation. A model with subwords exports its n-gram rows too (variable
``subwords``), and the module builds a subword vector in its graph for a token outside the vocabulary
(``layers.embed_tokens``), as ``TextEmbedding.embed`` does.

Loading a SavedModel runs its graph: load only modules you trust.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..counting.vocab import Vocabulary
from ..errors import ModelFormatError
from ..fileio import atomic_directory
from .layers import embed_tokens, tf_tokenize
from .subwords import SubwordTable
from .vectors import TextEmbedding

VOCAB_ASSET = "vocab.txt"


class TextEmbeddingModule(tf.train.Checkpoint):
    """The exported module: strings [batch] -> float32 [batch, dim]."""

    def __init__(
        self,
        vocab_file: str | os.PathLike,
        table: np.ndarray,
        *,
        num_oov_buckets: int,
        lowercase: bool,
        vocab_size: int,
        subwords: SubwordTable | None = None,
    ) -> None:
        super().__init__()
        self._lowercase = lowercase
        self._vocab_size = vocab_size
        self.vocab_file = tf.saved_model.Asset(str(vocab_file))
        self.table = tf.lookup.StaticVocabularyTable(
            tf.lookup.TextFileInitializer(
                self.vocab_file,
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
            ),
            num_oov_buckets=num_oov_buckets,
        )
        self.embeddings = tf.Variable(table, dtype=tf.float32, name="embeddings")
        self.variables = [self.embeddings]
        self._ngram_lengths = (3, 6)
        if subwords is not None:
            self.subwords = tf.Variable(subwords.vectors, dtype=tf.float32, name="subwords")
            self.variables.append(self.subwords)
            self._ngram_lengths = (subwords.min_n, subwords.max_n)
        self.trainable_variables = list(self.variables)
        self.regularization_losses: list[Any] = []

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, sentences: tf.Tensor) -> tf.Tensor:
        """Sentence vectors [batch, dim] of a batch of strings."""
        tokens = tf_tokenize(sentences, self._lowercase)
        subwords = getattr(self, "subwords", None)
        return embed_tokens(tokens, self.table, self.embeddings, subwords, self._ngram_lengths, self._vocab_size)


def export_hub_module(embedding: TextEmbedding, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``embedding`` as a TF-Hub text-embedding SavedModel (``hub.load`` / ``hub.KerasLayer``)."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as scratch, atomic_directory(out_dir, overwrite=overwrite) as tmp:
        vocab_file = Path(scratch) / VOCAB_ASSET
        vocab_file.write_text("".join(f"{t}\n" for t in embedding.vocab), encoding="utf-8")
        module = TextEmbeddingModule(
            vocab_file,
            embedding.table,
            num_oov_buckets=embedding.num_oov_buckets,
            lowercase=embedding.lowercase,
            vocab_size=len(embedding),
            subwords=embedding.subwords,
        )
        tf.saved_model.save(module, str(tmp), signatures={"default": module.__call__.get_concrete_function()})
    return out_dir


class HubTextEmbedding(TextEmbedding):
    """A TF-Hub text-embedding SavedModel: ``embed`` runs the module (its own tokenization); ``vocab``
    and ``vectors`` come from its vocabulary asset and embedding variable, for neighbours and heatmaps."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._module = tf.saved_model.load(str(self.path))
        except Exception as exc:  # TensorFlow raises many kinds for a broken SavedModel
            raise ModelFormatError(f"{self.path}: cannot load SavedModel ({type(exc).__name__}: {exc})") from None
        if not callable(self._module):
            raise ModelFormatError(f"{self.path}: the SavedModel is not callable (not a text embedding)")
        tokens = self._asset_vocabulary()
        table = self._embedding_matrix(len(tokens))
        super().__init__(
            Vocabulary(tuple(tokens), np.zeros(len(tokens), np.int64)),
            table,
            num_oov_buckets=table.shape[0] - len(tokens),
            config={"source": str(self.path)},
        )

    def _asset_vocabulary(self) -> list[str]:
        assets = sorted((self.path / "assets").glob("*")) if (self.path / "assets").is_dir() else []
        if not assets:
            raise ModelFormatError(f"{self.path}: no vocabulary asset under assets/")
        return assets[0].read_text(encoding="utf-8").rstrip("\n").split("\n")

    def _embedding_matrix(self, vocab_size: int) -> np.ndarray:
        candidates = [
            v for v in getattr(self._module, "variables", []) if len(v.shape) == 2 and v.shape[0] >= vocab_size
        ]
        named = [v for v in candidates if v.name.split(":")[0].endswith("embeddings")]  # not cordswivel's subwords
        candidates = named or candidates
        if not candidates:
            raise ModelFormatError(f"{self.path}: no embedding variable with at least {vocab_size} rows")
        return np.asarray(max(candidates, key=lambda v: int(v.shape[0])).numpy(), dtype=np.float32)

    def embed(self, texts: Iterable[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; wrap a single string in a list")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.embedding_dim), np.float32)
        return self._module(tf.constant(texts, dtype=tf.string)).numpy().astype(np.float32)

    def keras_layer(self, *, trainable: bool = False, name: str = "text_embedding") -> Any:
        """``hub.KerasLayer`` on the module itself."""
        import tensorflow_hub as hub  # imported when used: it picks its Keras from TF_USE_LEGACY_KERAS then

        return hub.KerasLayer(str(self.path), input_shape=[], dtype=tf.string, trainable=trainable, name=name)

    def save(self, *args: Any, **kwargs: Any) -> Path:
        raise ModelFormatError("a TF-Hub module is not saved as a cordswivel model; export it instead")
