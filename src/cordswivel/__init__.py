"""cordswivel: Swivel word embeddings for scientific literature, usable like TF-Hub's CORD-19 module.

Pipeline: ``open_corpus`` -> ``count_cooccurrences`` -> ``SwivelTrainer`` -> ``TextEmbedding``;
``train_embeddings`` runs it end to end and ``load`` opens a model directory.
"""

import os as _os

# TensorFlow enables oneDNN only on the newest CPUs; on others its float32 matmul, the cost of a Swivel
# step, runs at half speed without it (46 vs 74 GFLOP/s measured on a 2-core AVX2 machine). It takes
# effect if TensorFlow is imported after cordswivel; set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

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
