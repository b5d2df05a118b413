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

from ..corpus.sources import UTF8_BOM
from ..counting.vocab import Vocabulary
from ..errors import ModelFormatError
from ..fileio import atomic_directory, atomic_output_file
from .vectors import TextEmbedding

PROJECTOR_TENSOR = "cordswivel"


def load_text_vectors(path: str | os.PathLike, *, lowercase: bool = False) -> TextEmbedding:
    """word2vec (text or binary, with a 'count dim' header) or GloVe (text, no header) vectors, with
    a zero OOV row; ``lowercase`` says the words were lowercased (queries are lowercased to match).

    Text or binary is told from the bytes after the first word, not from a failed parse. Refused,
    with the file and line (or vector) named: rows of the wrong length, a count that disagrees with
    the header, repeated words, NaN or infinite values.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.readline().removeprefix(UTF8_BOM)
        parts = head.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            count, dim = int(parts[0]), int(parts[1])
            if dim == 0:
                raise ModelFormatError(f"{path}:1: the header says dimension 0")
            body = handle.read()
            if _is_text(body):
                words, vectors = _read_text(body.splitlines(), path, 2, dim)
                if len(words) != count:
                    raise ModelFormatError(f"{path}: the header says {count} vectors, the file has {len(words)}")
            else:
                words, vectors = _read_binary(body, count, dim, path)
        else:
            words, vectors = _read_text([head, *handle.read().splitlines()], path, 1, None)
    if not words:
        raise ModelFormatError(f"{path}: no vectors")
    table = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
    return TextEmbedding(
        Vocabulary(tuple(words), np.zeros(len(words), np.int64)),
        table,
        lowercase=lowercase,
        config={"source": str(path)},
    )


_NUMBER_BYTES = frozenset(b"0123456789+-.eE \t\rnaifNAIF")  # what a text row holds after its word


def _is_text(body: bytes) -> bool:
    """Whether word2vec data after the header is text: its first row, after the word, is numbers only.

    (Binary rows hold raw float32 bytes there, which are almost never all digits and spaces.)
    """
    first = body.split(b"\n", 1)[0]
    word_end = first.find(b" ")
    return word_end > 0 and len(first) > word_end + 1 and set(first[word_end:]) <= _NUMBER_BYTES


def _check_row(word: str, values: np.ndarray, seen: dict[str, str], where: str, path: Path) -> None:
    if word in seen:
        raise ModelFormatError(f"{path}:{where}: word {word!r} repeats (first at {seen[word]})")
    if not np.isfinite(values).all():
        raise ModelFormatError(f"{path}:{where}: {word!r} has a NaN or infinite value")


def _read_text(lines: Iterable[bytes], path: Path, first_line: int, dim: int | None) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: dict[str, str] = {}
    for number, raw in enumerate(lines, start=first_line):
        if not raw.strip():
            continue
        try:
            parts = raw.decode("utf-8").rstrip().split(" ")
            values = np.asarray([float(x) for x in parts[1:]], dtype=np.float32)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelFormatError(f"{path}:{number}: not 'word v1 v2 ...' ({exc})") from None
        if dim is None:
            dim = len(values)
        if len(values) != dim or dim == 0:
            raise ModelFormatError(f"{path}:{number}: {len(values)} values, expected {dim}")
        _check_row(parts[0], values, seen, str(number), path)
        seen[parts[0]] = f"line {number}"
        words.append(parts[0])
        rows.append(values)
    return words, np.asarray(rows, dtype=np.float32).reshape(len(rows), dim or 0)


def _read_binary(body: bytes, count: int, dim: int, path: Path) -> tuple[list[str], np.ndarray]:
    words, vectors, offset = [], np.empty((count, dim), np.float32), 0
    seen: dict[str, str] = {}
    for k in range(count):
        end = body.find(b" ", offset)
        if end < 0 or end + 1 + 4 * dim > len(body):
            raise ModelFormatError(f"{path}: truncated binary word2vec file at vector {k + 1} of {count}")
        try:
            word = body[offset:end].decode("utf-8").lstrip("\n")
        except UnicodeDecodeError:
            raise ModelFormatError(f"{path}: vector {k + 1}: the word is not UTF-8") from None
        vectors[k] = np.frombuffer(body, dtype="<f4", count=dim, offset=end + 1)
        _check_row(word, vectors[k], seen, f"vector {k + 1}", path)
        seen[word] = f"vector {k + 1}"
        words.append(word)
        offset = end + 1 + 4 * dim
    if body[offset:].strip():
        raise ModelFormatError(f"{path}: more data after the {count} vectors the header announces")
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
