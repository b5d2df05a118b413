"""cordswivel: Swivel word embeddings for scientific literature, usable like TF-Hub's CORD-19 module.

Pipeline, one subpackage per stage: ``corpus`` (``open_corpus``) -> ``counting``
(``count_cooccurrences``) -> ``training`` (``SwivelTrainer``) -> ``embedding`` (``TextEmbedding``) ->
``tutorial`` and ``explorer``. ``pipeline.train_embeddings`` (or ``run_training``, which also says how
training went) runs it end to end, and ``load`` opens embeddings of any supported kind.
"""

import os as _os

# TensorFlow enables oneDNN only on the newest CPUs; on others its float32 matmul, the cost of a Swivel
# step, runs at half speed without it (46 vs 74 GFLOP/s measured on a 2-core AVX2 machine). It takes
# effect if TensorFlow is imported after cordswivel; set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from .config import ClassifierConfig, CooccurConfig, SubwordConfig, SwivelConfig
from .corpus.reader import open_corpus
from .corpus.tokenizer import tokenize
from .counting.cooccur import count_cooccurrences
from .counting.shards import CooccurrenceShards, CooccurStats
from .embedding.loading import load
from .embedding.vectors import TextEmbedding, WordPairsResult
from .errors import (
    ConfigError,
    CordswivelError,
    CorpusError,
    DataDirError,
    ModelFormatError,
    OutOfVocabularyError,
    TrainingError,
)
from .logs import quiet_tensorflow_import as _quiet_tensorflow_import
from .pipeline.train import TrainingResult, run_training, train_embeddings
from .training.swivel import SwivelTrainer

_quiet_tensorflow_import()  # TensorFlow's start-up lines stay out of users' stderr and notebooks

__version__ = "0.1.0"
__all__ = [
    "ClassifierConfig",
    "ConfigError",
    "CooccurConfig",
    "CooccurStats",
    "CooccurrenceShards",
    "CordswivelError",
    "CorpusError",
    "DataDirError",
    "ModelFormatError",
    "OutOfVocabularyError",
    "SubwordConfig",
    "SwivelConfig",
    "SwivelTrainer",
    "TextEmbedding",
    "TrainingError",
    "TrainingResult",
    "WordPairsResult",
    "count_cooccurrences",
    "load",
    "open_corpus",
    "run_training",
    "tokenize",
    "train_embeddings",
]
