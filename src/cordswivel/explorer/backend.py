"""What the explorer shows, computed from loaded models: neighbours, completions, the tutorial's
heatmap, sentence embeddings and intents, and a 2-D map of the most frequent words.

No web code here (``serve`` puts it on HTTP); every method takes and returns plain values or small
dataclasses, and checks its arguments against ``ServeConfig``'s limits.
"""

from __future__ import annotations

import bisect
import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ServeConfig
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError, NotFoundError
from ..tutorial.analysis import SimilarityMatrix, similarity_matrix
from ..tutorial.scicite import Intent, predict_intents

Classify = Callable[[Sequence[str]], tuple[np.ndarray, list[str]]]


@dataclass(frozen=True)
class WordMap:
    """The first two principal components of the unit vectors of a model's ``n`` most frequent words."""

    words: tuple[str, ...]
    x: np.ndarray  # (n,)
    y: np.ndarray  # (n,)
    explained_variance_ratio: tuple[float, float]


def word_map(embedding: TextEmbedding, n: int) -> WordMap:
    """PCA of the unit vectors of the first ``n`` vocabulary words (the vocabulary is in frequency order).

    Each component's sign is chosen so that its largest loading is positive, as scikit-learn does,
    so the same model always gives the same picture.
    """
    n = min(n, len(embedding))
    vectors = embedding.vectors[:n].astype(np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    centred = unit - unit.mean(axis=0)
    u, singular, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    coords = u[:, :2] * singular[:2] * signs[:2]
    if coords.shape[1] < 2:  # one word, or one-dimensional vectors
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    variance = singular**2
    ratio = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    ratio = np.pad(ratio, (0, 2 - len(ratio)))
    return WordMap(tuple(embedding.vocab[:n]), coords[:, 0], coords[:, 1], (float(ratio[0]), float(ratio[1])))


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
        self._maps = functools.lru_cache(maxsize=16)(self._compute_map)

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
        self._check_count("k", k, self.config.max_neighbours)
        return self._neighbours(name, word, k)

    def _compute_neighbours(self, name: str, word: str, k: int) -> list[tuple[str, float]]:
        return self.models[name].most_similar(word, k)

    def complete(self, prefix: str, k: int | None = None, model: str | None = None) -> list[str]:
        """Up to ``k`` vocabulary words starting with ``prefix`` (case-insensitive), most frequent first."""
        name, embedding = self.model(model)
        k = self.config.completions if k is None else k
        self._check_count("k", k, self.config.max_neighbours)
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

    def word_map(self, n: int | None = None, model: str | None = None) -> WordMap:
        """``word_map`` of the model's ``n`` most frequent words, cached."""
        name, _ = self.model(model)
        n = self.config.map_words if n is None else n
        self._check_count("n", n, self.config.max_map_words)
        return self._maps(name, n)

    def _compute_map(self, name: str, n: int) -> WordMap:
        return word_map(self.models[name], n)

    # ------------------------------------------------------------------ limits
    @staticmethod
    def _check_count(what: str, value: int, limit: int) -> None:
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
