"""What the explorer shows, computed from loaded models: neighbours, completions, the tutorial's
heatmap, sentence embeddings and intents, analogies and candidate rankings, the drift between two
models, and a 2-D map of the most frequent words.

No web code here (``serve`` puts it on HTTP); every method takes and returns plain values or small
dataclasses, and checks its arguments against ``ServeConfig``'s limits.
"""

from __future__ import annotations

import bisect
import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..config import ANALOGY_METHODS, DRIFT_MIN_COUNT, DRIFT_NEIGHBOURS, NEIGHBOURS, ServeConfig
from ..embedding.queries import Ranking
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError, NotFoundError
from ..tutorial.analysis import SimilarityMatrix, similarity_matrix
from ..tutorial.compare import DRIFT_MEASURES, DriftTable, drift
from ..tutorial.scicite import Intent, predict_intents
from .maps import MAP_METHODS, WordMap, available_methods, word_map

Classify = Callable[[Sequence[str]], tuple[np.ndarray, list[str]]]
COMPUTING_LOCKS = 1024  # locks kept for settings of maps and drift tables being computed


def model_names(paths: Sequence[str | os.PathLike]) -> list[str]:
    """A name per model path: its directory or file name, with ``-2``, ``-3``... where names repeat."""
    names: list[str] = []
    for path in paths:
        base = Path(path).resolve().name or str(path)
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names


class _Completions:
    """Vocabulary words by case-insensitive prefix, most frequent first."""

    def __init__(self, vocab: Sequence[str]) -> None:
        order = sorted(range(len(vocab)), key=lambda i: (vocab[i].casefold(), i))
        self._keys = [vocab[i].casefold() for i in order]
        self._ids = np.asarray(order, dtype=np.int64)
        self._vocab = vocab

    def __call__(self, prefix: str, k: int) -> list[str]:
        key = prefix.casefold()
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_left(self._keys, key + "\U0010ffff")
        ids = self._ids[lo:hi]
        if len(ids) > k:
            ids = np.partition(ids, k - 1)[:k]
        return [self._vocab[i] for i in np.sort(ids)]


class Explorer:
    """Loaded models (the first is the default) and an optional SciCite classifier, queried by name.

    >>> explorer = Explorer({"demo": cordswivel.load("runs/demo/model")})   # doctest: +SKIP
    >>> explorer.neighbours("coronavirus", k=3)                             # doctest: +SKIP
    [('coronaviruses', 0.71), ...]
    """

    def __init__(
        self, models: Mapping[str, TextEmbedding], classify: Classify | None = None, config: ServeConfig = ServeConfig()
    ) -> None:
        if not models:
            raise ConfigError("the explorer needs at least one model")
        config.validate()
        self.models = dict(models)
        self.classify_fn = classify
        self.config = config
        self._lock = threading.Lock()  # the caches below are filled once per model, from any thread
        self._completions: dict[str, _Completions] = {}
        self._neighbours = functools.lru_cache(maxsize=8192)(self._compute_neighbours)
        self._maps = functools.lru_cache(maxsize=64)(self._compute_map)  # t-SNE takes seconds: kept
        self._drifts = functools.lru_cache(maxsize=16)(self._compute_drift)
        self._computing: dict[tuple, threading.Lock] = {}  # one computation per map or drift at a time

    @classmethod
    def open(
        cls,
        paths: Sequence[str | os.PathLike],
        classifier: str | os.PathLike | None = None,
        config: ServeConfig = ServeConfig(),
    ) -> Explorer:
        """Load every model ``cordswivel.load`` reads, named by ``model_names``, and the classifier."""
        from ..embedding.loading import load

        models = {name: load(path) for name, path in zip(model_names(paths), paths, strict=True)}
        classify = None
        if classifier is not None:
            from ..tutorial.scicite import load_classifier

            classify = load_classifier(classifier)
        return cls(models, classify, config)

    @property
    def default_model(self) -> str:
        return next(iter(self.models))

    @property
    def has_classifier(self) -> bool:
        return self.classify_fn is not None

    def model(self, name: str | None = None) -> tuple[str, TextEmbedding]:
        """(name, model) of ``name``, or of the default model when ``name`` is None."""
        name = self.default_model if name is None else name
        if name not in self.models:
            raise NotFoundError(f"no model named {name!r}; loaded: {', '.join(self.models)}")
        return name, self.models[name]

    # ------------------------------------------------------------------ queries
    def neighbours(self, word: str, k: int = 10, model: str | None = None) -> list[tuple[str, float]]:
        """``most_similar`` of the model, limited to ``max_neighbours`` and cached."""
        name, _ = self.model(model)
        self.check_count("k", k, self.config.max_neighbours)
        return self._neighbours(name, word, k)

    def _compute_neighbours(self, name: str, word: str, k: int) -> list[tuple[str, float]]:
        return self.models[name].most_similar(word, k)

    def complete(self, prefix: str, k: int | None = None, model: str | None = None) -> list[str]:
        """Up to ``k`` vocabulary words starting with ``prefix`` (case-insensitive), most frequent first."""
        name, embedding = self.model(model)
        k = self.config.completions if k is None else k
        self.check_count("k", k, self.config.max_neighbours)
        with self._lock:
            if name not in self._completions:
                self._completions[name] = _Completions(embedding.vocab)
        return self._completions[name](prefix, k) if prefix else []

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[str, np.ndarray]:
        """(model name, ``TextEmbedding.embed`` of ``texts``)."""
        name, embedding = self.model(model)
        self._check_texts("texts", texts)
        return name, embedding.embed(list(texts))

    def similarity(self, terms: Sequence[str], cosine: bool = False, model: str | None = None) -> SimilarityMatrix:
        """The tutorial's heatmap matrix of ``terms`` (``analysis.similarity_matrix``)."""
        _, embedding = self.model(model)
        self._check_texts("terms", terms, at_least=1)
        return similarity_matrix(embedding, terms, cosine=cosine)

    def classify(self, texts: Sequence[str]) -> list[Intent]:
        """Citation intent of each text, from the classifier given with ``--classifier``."""
        if self.classify_fn is None:
            raise NotFoundError(
                "no classifier loaded: start the server with --classifier DIR (from cordswivel scicite)"
            )
        self._check_texts("texts", texts)
        return predict_intents(self.classify_fn, list(texts))

    def analogy(
        self,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        k: int = NEIGHBOURS,
        method: str = ANALOGY_METHODS[0],
        candidates: Sequence[str] | None = None,
        model: str | None = None,
    ) -> list[tuple[str, float]]:
        """``most_similar`` (3cosadd) or ``most_similar_cosmul`` of the terms, optionally among candidates."""
        _, embedding = self.model(model)
        self._check_texts("positive", positive, at_least=1 if method == "3cosmul" or not negative else 0)
        self._check_texts("negative", negative)
        self.check_count("k", k, self.config.max_neighbours)
        if candidates is not None:
            self._check_texts("candidates", candidates, at_least=1)
        if method not in ANALOGY_METHODS:
            raise ConfigError(f"method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
        query = embedding.most_similar if method == ANALOGY_METHODS[0] else embedding.most_similar_cosmul
        return query(list(positive), k, negative=list(negative), candidates=candidates)

    def rank(
        self, positive: Sequence[str], candidates: Sequence[str], negative: Sequence[str] = (), model: str | None = None
    ) -> Ranking:
        """Every candidate ranked by 3CosAdd to the query (``TextEmbedding.rank``)."""
        _, embedding = self.model(model)
        self._check_texts("positive", positive, at_least=0 if negative else 1)
        self._check_texts("negative", negative)
        self._check_texts("candidates", candidates, at_least=1)
        return embedding.rank(list(positive), list(candidates), negative=list(negative))

    def drift(
        self,
        old: str,
        new: str,
        by: str = "cosine",
        most_changed: bool = True,
        k: int = DRIFT_NEIGHBOURS,
        min_count: int = DRIFT_MIN_COUNT,
    ) -> DriftTable:
        """The drift table of two loaded models (``compare.drift``), ranked; computed once per setting."""
        for name in (old, new):
            self.model(name)
        self.check_count("k", k, self.config.max_neighbours)
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 0:
            raise ConfigError(f"min_count must be a non-negative integer, got {min_count!r}")
        if by not in DRIFT_MEASURES:
            raise ConfigError(f"by must be one of {', '.join(DRIFT_MEASURES)}, got {by!r}")
        with self._lock_for(("drift", old, new, k, min_count)):
            table = self._drifts(old, new, k, min_count)
        return table.ranked(by, most_changed=most_changed)

    def _compute_drift(self, old: str, new: str, k: int, min_count: int) -> DriftTable:
        return drift(self.models[old], self.models[new], k=k, min_count=min_count)

    @property
    def map_methods(self) -> tuple[str, ...]:
        return available_methods()

    def word_map(self, n: int | None = None, model: str | None = None, method: str = "pca") -> WordMap:
        """``maps.word_map`` of the model's ``n`` most frequent words, computed once per setting."""
        name, _ = self.model(model)
        n = self.config.map_words if n is None else n
        if method not in MAP_METHODS:
            raise ConfigError(f"method must be one of {', '.join(MAP_METHODS)}, got {method!r}")
        if method not in self.map_methods:
            raise ConfigError(f"the {method} map needs umap-learn, which is not installed (pip install umap-learn)")
        limit = self.config.max_map_words if method == "pca" else self.config.max_layout_words
        self.check_count("n", n, limit)
        with self._lock_for(("map", name, n, method)):
            return self._maps(name, n, method)

    def _compute_map(self, name: str, n: int, method: str) -> WordMap:
        return word_map(self.models[name], n, method)

    def _lock_for(self, key: tuple) -> threading.Lock:
        """The lock of one cached computation: a second request for it waits for the first's result."""
        with self._lock:
            if len(self._computing) >= COMPUTING_LOCKS and key not in self._computing:
                self._computing.clear()  # bounded: at worst two requests then compute one setting together
            return self._computing.setdefault(key, threading.Lock())

    # ------------------------------------------------------------------ limits
    @staticmethod
    def check_count(what: str, value: int, limit: int) -> None:
        """A ``ConfigError`` (422 over HTTP) unless ``value`` is an integer from 1 to ``limit``."""
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise ConfigError(f"{what} must be an integer from 1 to {limit}, got {value!r}")

    def _check_texts(self, what: str, texts: Sequence[str], at_least: int = 0) -> None:
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise ConfigError(f"{what} must be a list of strings")
        if len(texts) < at_least:
            raise ConfigError(f"{what}: give at least {at_least}")
        if len(texts) > self.config.max_texts:
            raise ConfigError(f"{what}: {len(texts)} given, at most {self.config.max_texts} per request")
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                raise ConfigError(f"{what}[{k}] is {type(text).__name__}, expected a string")
