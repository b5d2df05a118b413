"""The corpus stage: a user's files -> lines of text -> tokens.

Takes paths (a CORD-19 release folder or archive, ``metadata.csv``, plain text or JSON lines, gzipped
or not) and gives a ``Corpus`` split into partitions that read in parallel, each line one unit (a
title, an abstract, a paragraph); ``tokenize`` splits a line as training and the module both do.
Modules: ``linefiles`` (byte ranges of line files), ``sources`` (text and JSON-lines files, error
policy), ``cord19`` (release layouts), ``reader`` (``open_corpus``), ``tokenizer``.
"""

from .cord19 import Cord19Release
from .reader import Corpus, Partition, open_corpus
from .sources import ErrorPolicy, JsonLinesFile, SkipCounts, TextFile
from .tokenizer import normalize_token, tokenize

__all__ = [
    "Cord19Release",
    "Corpus",
    "ErrorPolicy",
    "JsonLinesFile",
    "Partition",
    "SkipCounts",
    "TextFile",
    "normalize_token",
    "open_corpus",
    "tokenize",
]
