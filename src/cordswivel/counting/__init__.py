"""The counting stage: a ``Corpus`` -> vocabulary -> co-occurrence shards on disk.

Takes the corpus and a ``CooccurConfig``; gives a directory of sharded, symmetric co-occurrence
counts with their vocabulary and row sums (``CooccurrenceShards`` reads it, without Numba or Dask).
Modules: ``chunks`` (tokenizing kernels), ``vocab``, ``pairkeys`` (window counting kernels),
``execution`` (worker pools, memory budget, progress), ``cooccur`` (the three passes), ``spills``
(sorted runs merged into shards), ``shards`` (the on-disk format).
"""

from .. import jitcache  # noqa: F401  (first: it may set NUMBA_CACHE_DIR, which Numba reads when it loads)
from .cooccur import count_cooccurrences
from .execution import Budget, Progress, parse_size
from .shards import CooccurrenceShards, CooccurStats
from .vocab import Vocabulary, build_vocabulary, select_vocabulary

__all__ = [
    "Budget",
    "CooccurStats",
    "CooccurrenceShards",
    "Progress",
    "Vocabulary",
    "build_vocabulary",
    "count_cooccurrences",
    "parse_size",
    "select_vocabulary",
]
