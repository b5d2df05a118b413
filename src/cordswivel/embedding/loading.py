"""``load``: open embeddings from any file or directory cordswivel reads, by what the path holds."""

from __future__ import annotations

import os
from pathlib import Path

from .formats import load_text_vectors
from .vectors import TextEmbedding


def is_saved_model(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a TensorFlow SavedModel directory."""
    path = Path(path)
    return path.is_dir() and ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file())


def load(path: str | os.PathLike, *, lowercase: bool = False) -> TextEmbedding:
    """Load embeddings: a cordswivel model directory, a TF-Hub text-embedding SavedModel directory,
    or a word2vec (text or binary) or GloVe file. ``lowercase`` applies to word2vec/GloVe files only.

    A SavedModel's graph runs when it loads: load only modules you trust.
    """
    path = Path(path)
    if path.is_dir() and not (path / "config.json").exists() and is_saved_model(path):
        from .hub import HubTextEmbedding  # deliberately lazy: TensorFlow takes seconds to import

        return HubTextEmbedding(path)
    if path.is_file():
        return load_text_vectors(path, lowercase=lowercase)
    return TextEmbedding.load(path)
