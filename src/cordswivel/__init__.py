"""cordswivel: Swivel word embeddings for scientific literature, usable like TF-Hub's CORD-19 module.

Pipeline: ``open_corpus`` -> ``count_cooccurrences`` -> ``SwivelTrainer`` -> ``TextEmbedding``;
``train_embeddings`` (or ``run_training``, which also says how training went) runs it end to end and
``load`` opens embeddings of any supported kind.
"""

import os as _os

# TensorFlow enables oneDNN only on the newest CPUs; on others its float32 matmul, the cost of a Swivel
# step, runs at half speed without it (46 vs 74 GFLOP/s measured on a 2-core AVX2 machine). It takes
# effect if TensorFlow is imported after cordswivel; set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from .config import ClassifierConfig, CooccurConfig, SwivelConfig  # noqa: E402
from .cooccur import count_cooccurrences  # noqa: E402
from .corpus import open_corpus  # noqa: E402
from .embedding import TextEmbedding, WordPairsResult  # noqa: E402
from .errors import (ConfigError, CordswivelError, CorpusError, DataDirError, ModelFormatError,  # noqa: E402
                     OutOfVocabularyError, TrainingError)
from .loading import load  # noqa: E402
from .pipeline import TrainingResult, run_training, train_embeddings  # noqa: E402
from .shards import CooccurrenceShards, CooccurStats  # noqa: E402
from .swivel import SwivelTrainer  # noqa: E402
from .tokenizer import tokenize  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ClassifierConfig", "ConfigError", "CooccurConfig", "CooccurStats", "CooccurrenceShards", "CordswivelError",
           "CorpusError", "DataDirError", "ModelFormatError", "OutOfVocabularyError", "SwivelConfig", "SwivelTrainer",
           "TextEmbedding", "TrainingError", "TrainingResult", "WordPairsResult", "count_cooccurrences", "load",
           "open_corpus", "run_training", "tokenize", "train_embeddings"]
