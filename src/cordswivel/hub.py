"""TF-Hub interoperability: export a drop-in TF2 SavedModel, and load TF-Hub text-embedding modules.

Export follows the TF2 text-embedding convention of tensorflow/hub (DESIGN.md section 1): a
``tf.train.Checkpoint`` whose ``__call__`` maps a 1-D string batch to float32 ``[batch, dim]``, with
``variables``, ``trainable_variables`` (the embedding matrix) and ``regularization_losses``; the
vocabulary is the asset ``assets/vocab.txt`` looked up by a ``StaticVocabularyTable`` (OOV id =
vocab size + Fingerprint64(token) % buckets); tokens come from ``layers.tf_tokenize`` (identical to
the Python tokenizer) and are combined with ``sqrtn``. Unlike TF-Hub's exporter the matrix is float32,
whitespace runs split (no empty tokens), and only the ends of tokens lose their punctuation.

Loading a SavedModel runs its graph: load only modules you trust.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelFormatError
from .fileio import atomic_directory
from .module import TextEmbedding
from .vocab import Vocabulary

VOCAB_ASSET = "vocab.txt"


def export_hub_module(embedding: TextEmbedding, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``embedding`` as a TF-Hub text-embedding SavedModel (``hub.load`` / ``hub.KerasLayer``)."""
    import tensorflow as tf

    from .layers import embed_tokens, tf_tokenize

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as scratch, atomic_directory(out_dir, overwrite=overwrite) as tmp:
        vocab_file = Path(scratch) / VOCAB_ASSET
        vocab_file.write_text("".join(f"{t}\n" for t in embedding.vocab), encoding="utf-8")
        lowercase = embedding.lowercase

        class HubTextEmbedding(tf.train.Checkpoint):
            def __init__(self):
                super().__init__()
                self.vocab_file = tf.saved_model.Asset(str(vocab_file))
                self.table = tf.lookup.StaticVocabularyTable(
                    tf.lookup.TextFileInitializer(self.vocab_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                                  tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER),
                    num_oov_buckets=embedding.num_oov_buckets)
                self.embeddings = tf.Variable(embedding.table, dtype=tf.float32, name="embeddings")
                self.variables = [self.embeddings]
                self.trainable_variables = [self.embeddings]
                self.regularization_losses = []

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
            def __call__(self, sentences):
                return embed_tokens(tf_tokenize(sentences, lowercase), self.table, self.embeddings)

        module = HubTextEmbedding()
        tf.saved_model.save(module, str(tmp), signatures={
            "default": module.__call__.get_concrete_function()})
    return out_dir


def is_saved_model(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file())


class HubTextEmbedding(TextEmbedding):
    """A TF-Hub text-embedding SavedModel: ``embed`` runs the module (its own tokenization); ``vocab``
    and ``vectors`` come from its vocabulary asset and embedding variable, for neighbours and heatmaps."""

    def __init__(self, path: str | os.PathLike):
        import tensorflow as tf

        self.path = Path(path)
        try:
            self._module = tf.saved_model.load(str(self.path))
        except Exception as exc:  # TensorFlow raises many kinds for a broken SavedModel
            raise ModelFormatError(f"{self.path}: cannot load SavedModel ({type(exc).__name__}: {exc})") from None
        if not callable(self._module):
            raise ModelFormatError(f"{self.path}: the SavedModel is not callable (not a text embedding)")
        tokens = self._asset_vocabulary()
        table = self._embedding_matrix(len(tokens))
        super().__init__(Vocabulary(tuple(tokens), np.zeros(len(tokens), np.int64)), table,
                         num_oov_buckets=table.shape[0] - len(tokens), config={"source": str(self.path)})

    def _asset_vocabulary(self) -> list[str]:
        assets = sorted((self.path / "assets").glob("*")) if (self.path / "assets").is_dir() else []
        if not assets:
            raise ModelFormatError(f"{self.path}: no vocabulary asset under assets/")
        return assets[0].read_text(encoding="utf-8").rstrip("\n").split("\n")

    def _embedding_matrix(self, vocab_size: int) -> np.ndarray:
        candidates = [v for v in getattr(self._module, "variables", [])
                      if len(v.shape) == 2 and v.shape[0] >= vocab_size]
        if not candidates:
            raise ModelFormatError(f"{self.path}: no embedding variable with at least {vocab_size} rows")
        return np.asarray(max(candidates, key=lambda v: int(v.shape[0])).numpy(), dtype=np.float32)

    def embed(self, texts) -> np.ndarray:
        import tensorflow as tf

        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; wrap a single string in a list")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.embedding_dim), np.float32)
        return self._module(tf.constant(texts, dtype=tf.string)).numpy().astype(np.float32)

    def save(self, *args, **kwargs):
        raise ModelFormatError("a TF-Hub module is not saved as a cordswivel model; export it instead")


def load_text_vectors(path: str | os.PathLike, *, lowercase: bool = False) -> TextEmbedding:
    """word2vec (text or binary, with a 'count dim' header) or GloVe (text, no header) vectors."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.readline()
    parts = head.split()
    has_header = len(parts) == 2 and all(p.isdigit() for p in parts)
    if has_header:
        count, dim = int(parts[0]), int(parts[1])
        with open(path, "rb") as handle:
            handle.readline()
            body = handle.read()
        binary = _is_binary(body, dim)
        words, vectors = (_read_binary(body, count, dim, path) if binary else _read_text(body.splitlines(), path, 2))
    else:
        with open(path, "rb") as handle:
            words, vectors = _read_text(handle.read().splitlines(), path, 1)
    if not words:
        raise ModelFormatError(f"{path}: no vectors")
    table = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
    return TextEmbedding(Vocabulary(tuple(words), np.zeros(len(words), np.int64)), table, lowercase=lowercase,
                         config={"source": str(path)})


def _is_binary(body: bytes, dim: int) -> bool:
    """Whether word2vec data after the header is binary: its first line is not 'word' + dim numbers."""
    try:
        first = body.split(b"\n", 1)[0].decode("utf-8").split()
        return len(first) != dim + 1
    except UnicodeDecodeError:
        return True


def _read_text(lines, path, first_line: int):
    words, rows, dim = [], [], None
    for number, raw in enumerate(lines, start=first_line):
        if not raw.strip():
            continue
        try:
            parts = raw.decode("utf-8").rstrip().split(" ")
            values = [float(x) for x in parts[1:]]
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelFormatError(f"{path}:{number}: not 'word v1 v2 ...' ({exc})") from None
        if dim is None:
            dim = len(values)
        if len(values) != dim or dim == 0:
            raise ModelFormatError(f"{path}:{number}: {len(values)} values, expected {dim}")
        words.append(parts[0])
        rows.append(values)
    return words, np.asarray(rows, dtype=np.float32).reshape(len(rows), dim or 0)


def _read_binary(body: bytes, count: int, dim: int, path):
    words, vectors, offset = [], np.empty((count, dim), np.float32), 0
    for k in range(count):
        end = body.find(b" ", offset)
        if end < 0 or end + 1 + 4 * dim > len(body):
            raise ModelFormatError(f"{path}: truncated binary word2vec file at vector {k + 1} of {count}")
        words.append(body[offset:end].decode("utf-8", "replace").lstrip("\n"))
        vectors[k] = np.frombuffer(body, dtype="<f4", count=dim, offset=end + 1)
        offset = end + 1 + 4 * dim
    return words, vectors


def export_word2vec(embedding: TextEmbedding, path: str | os.PathLike, *, binary: bool = False) -> Path:
    """word2vec format (gensim ``KeyedVectors.load_word2vec_format``), text or binary."""
    from .fileio import atomic_path

    path = Path(path)
    vectors = embedding.vectors
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(f"{len(embedding)} {embedding.embedding_dim}\n".encode())
        for word, vector in zip(embedding.vocab, vectors):
            if binary:
                handle.write(word.encode("utf-8") + b" " + vector.astype("<f4").tobytes() + b"\n")
            else:
                handle.write((word + " " + " ".join(repr(float(x)) for x in vector) + "\n").encode("utf-8"))
    return path


def export_projector(embedding: TextEmbedding, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """vectors.tsv, metadata.tsv and projector_config.pbtxt for the TensorFlow Embedding Projector."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        np.savetxt(tmp / "vectors.tsv", embedding.vectors, delimiter="\t", fmt="%.6g")
        (tmp / "metadata.tsv").write_text("word\tcount\n" + "".join(
            f"{w}\t{int(c)}\n" for w, c in zip(embedding.vocab, embedding.counts)), encoding="utf-8")
        (tmp / "projector_config.pbtxt").write_text(
            'embeddings {\n  tensor_name: "cordswivel"\n  tensor_path: "vectors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n}\n', encoding="utf-8")
    return out_dir
