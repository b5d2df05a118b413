"""The embedding stage: trained vectors -> the text-embedding module, its formats and its loaders.

Takes a vocabulary and a vector table; gives ``TextEmbedding`` (gensim-style queries, ``embed`` with
the TF-Hub module's sqrtn combiner, save and load), the same thing inside TensorFlow (``layers``:
in-graph tokenizer and Keras layer; ``hub``: the SavedModel that ``hub.load`` takes), word2vec and
projector exports (``formats``), and ``load`` for any of them (``loading``).
"""

from typing import Any

from ..lazy import lazy_attribute
from .formats import export_projector, export_word2vec, load_text_vectors
from .loading import load
from .vectors import TextEmbedding, WordPairsResult

_LAZY = {  # these import TensorFlow
    "HubTextEmbedding": "hub",
    "export_hub_module": "hub",
    "TextEmbeddingLayer": "layers",
    "make_text_embedding_layer": "layers",
    "tf_tokenize": "layers",
}
__all__ = [
    "TextEmbedding",
    "WordPairsResult",
    "export_projector",
    "export_word2vec",
    "load",
    "load_text_vectors",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
