"""cordswivel: Swivel word embeddings for scientific literature, usable like TF-Hub's CORD-19 module.

Pipeline: ``open_corpus`` -> ``count_cooccurrences`` -> ``SwivelTrainer`` -> ``TextEmbedding``;
``train_embeddings`` runs it end to end and ``load`` opens a model directory.
"""

from .cooccur import CooccurConfig, CooccurrenceShards, count_cooccurrences
from .corpus import open_corpus
from .errors import (ConfigError, CordswivelError, CorpusError, DataDirError, ModelFormatError,
                     OutOfVocabularyError)
from .module import TextEmbedding, load
from .pipeline import train_embeddings
from .swivel import SwivelConfig, SwivelTrainer
from .tokenizer import tokenize

__version__ = "0.1.0"
__all__ = ["CooccurConfig", "CooccurrenceShards", "ConfigError", "CordswivelError", "CorpusError",
           "DataDirError", "ModelFormatError", "OutOfVocabularyError", "SwivelConfig", "SwivelTrainer",
           "TextEmbedding", "count_cooccurrences", "load", "open_corpus", "tokenize", "train_embeddings"]
