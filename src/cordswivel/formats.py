"""Word-vector files of other tools: word2vec (text or binary) and GloVe in, word2vec and the
TensorFlow Embedding Projector's TSV files out.

- word2vec text: a ``count dim`` header line, then ``word v1 ... vdim`` per line;
- word2vec binary: the same header, then per word ``word``, a space and ``dim`` little-endian float32;
- GloVe: word2vec text without the header;
- projector: ``vectors.tsv`` (one vector per line), ``metadata.tsv`` (``word<TAB>count`` with a header
  line) and ``projector_config.pbtxt`` naming them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .embedding import TextEmbedding
from .errors import ModelFormatError
from .fileio import atomic_directory, atomic_output_file
from .vocab import Vocabulary

PROJECTOR_TENSOR = "cordswivel"


def load_text_vectors(path: str | os.PathLike, *, lowercase: bool = False) -> TextEmbedding:
    """word2vec (text or binary, with a 'count dim' header) or GloVe (text, no header) vectors, with
    a zero OOV row; ``lowercase`` says the words were lowercased (queries are lowercased to match)."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.readline()
        parts = head.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            count, dim = int(parts[0]), int(parts[1])
            body = handle.read()
            words, vectors = (
                _read_binary(body, count, dim, path)
                if _is_binary(body, dim)
                else _read_text(body.splitlines(), path, 2)
            )
        else:
            words, vectors = _read_text([head, *handle.read().splitlines()], path, 1)
    if not words:
        raise ModelFormatError(f"{path}: no vectors")
    table = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
    return TextEmbedding(
        Vocabulary(tuple(words), np.zeros(len(words), np.int64)),
        table,
        lowercase=lowercase,
        config={"source": str(path)},
    )


def _is_binary(body: bytes, dim: int) -> bool:
    """Whether word2vec data after the header is binary: its first line is not 'word' + dim numbers."""
    try:
        first = body.split(b"\n", 1)[0].decode("utf-8").split()
        return len(first) != dim + 1
    except UnicodeDecodeError:
        return True


def _read_text(lines: Iterable[bytes], path: Path, first_line: int) -> tuple[list[str], np.ndarray]:
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


def _read_binary(body: bytes, count: int, dim: int, path: Path) -> tuple[list[str], np.ndarray]:
    words, vectors, offset = [], np.empty((count, dim), np.float32), 0
    for k in range(count):
        end = body.find(b" ", offset)
        if end < 0 or end + 1 + 4 * dim > len(body):
            raise ModelFormatError(f"{path}: truncated binary word2vec file at vector {k + 1} of {count}")
        words.append(body[offset:end].decode("utf-8", "replace").lstrip("\n"))
        vectors[k] = np.frombuffer(body, dtype="<f4", count=dim, offset=end + 1)
        offset = end + 1 + 4 * dim
    return words, vectors


def export_word2vec(
    embedding: TextEmbedding, path: str | os.PathLike, *, binary: bool = False, overwrite: bool = False
) -> Path:
    """word2vec format (gensim ``KeyedVectors.load_word2vec_format``), text or binary; an existing
    file is replaced only with ``overwrite``."""
    path = Path(path)
    with atomic_output_file(path, overwrite=overwrite) as tmp, open(tmp, "wb") as handle:
        handle.write(f"{len(embedding)} {embedding.embedding_dim}\n".encode())
        for word, vector in zip(embedding.vocab, embedding.vectors, strict=True):
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
        (tmp / "metadata.tsv").write_text(
            "word\tcount\n"
            + "".join(f"{w}\t{int(c)}\n" for w, c in zip(embedding.vocab, embedding.counts, strict=True)),
            encoding="utf-8",
        )
        (tmp / "projector_config.pbtxt").write_text(
            f'embeddings {{\n  tensor_name: "{PROJECTOR_TENSOR}"\n  tensor_path: "vectors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n}\n',
            encoding="utf-8",
        )
    return out_dir
