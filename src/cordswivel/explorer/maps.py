"""2-D maps of a model's most frequent words, with density clusters labelled by their most frequent word.

Three layouts of the words' unit vectors: PCA (exact, instant, but a round cloud: two axes hold a few
percent of the variance), t-SNE (openTSNE's accelerated t-SNE with cosine affinities: local
structure, seconds for thousands of words) and UMAP (umap-learn, where installed). Clusters are
found by HDBSCAN in the 2-D layout, as Embedding Atlas and datamapplot do, so that they are the
groups the eye sees; words in no cluster get -1.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

import numpy as np

from ..embedding.queries import unit_rows
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError

MAP_METHODS = ("pca", "tsne", "umap")
SEED = 0  # layouts are reproducible


@dataclass(frozen=True)
class Cluster:
    """One cluster of a map: its most frequent word, its size and its median position (where its label goes)."""

    label: str
    size: int
    x: float
    y: float


@dataclass(frozen=True)
class WordMap:
    """A layout of the unit vectors of a model's ``n`` most frequent words, with clusters."""

    words: tuple[str, ...]
    x: np.ndarray  # (n,)
    y: np.ndarray  # (n,)
    method: str = "pca"
    explained_variance_ratio: tuple[float, float] | None = None  # PCA's, per axis
    cluster: np.ndarray | None = None  # (n,) cluster id per word, -1 for none
    clusters: tuple[Cluster, ...] = ()  # per cluster id

    @property
    def cluster_labels(self) -> tuple[str, ...]:
        """Each cluster's most frequent word, by cluster id."""
        return tuple(c.label for c in self.clusters)


@functools.cache  # the installation does not change while a server runs
def available_methods() -> tuple[str, ...]:
    """The layouts this installation computes (UMAP needs the optional umap-learn)."""
    return tuple(m for m in MAP_METHODS if m != "umap" or importlib.util.find_spec("umap") is not None)


def pca(unit: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """(n, 2) first two principal components, and the variance each explains. Each component's sign
    makes its largest loading positive, as scikit-learn does, so a model always gives one picture."""
    centred = unit - unit.mean(axis=0)
    u, singular, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    coords = u[:, :2] * singular[:2] * signs[:2]
    if coords.shape[1] < 2:  # one word, or one-dimensional vectors
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    variance = singular**2
    ratio = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    ratio = np.pad(ratio, (0, 2 - len(ratio)))
    return coords, (float(ratio[0]), float(ratio[1]))


def tsne(unit: np.ndarray) -> np.ndarray:
    """(n, 2) openTSNE layout: cosine affinities, PCA initialisation, Barnes-Hut gradients below 10,000
    points and FFT-interpolated ones above (openTSNE's choice), both cores."""
    from openTSNE import TSNE  # imported when used: the server starts without it

    perplexity = min(30.0, max(2.0, (len(unit) - 1) / 3))
    return np.asarray(
        TSNE(perplexity=perplexity, metric="cosine", n_jobs=-1, random_state=SEED, verbose=False).fit(unit)
    )


def umap(unit: np.ndarray) -> np.ndarray:
    """(n, 2) UMAP layout (cosine), where umap-learn is installed (one thread: reproducible with a seed)."""
    try:
        import umap as umap_learn
    except ImportError:
        raise ConfigError("the umap layout needs umap-learn: pip install umap-learn") from None
    neighbours = min(15, len(unit) - 1)
    return np.asarray(
        umap_learn.UMAP(n_neighbors=neighbours, metric="cosine", random_state=SEED, n_jobs=1).fit_transform(unit)
    )


def clusters(coords: np.ndarray) -> np.ndarray:
    """HDBSCAN cluster id per point of a 2-D layout (-1: none). Leaf clusters of at least 0.5% of the
    points: on a t-SNE map of 5,000 words the default selection finds two blobs, this about 60 groups."""
    from sklearn.cluster import HDBSCAN  # imported when used, as the layouts

    size = max(10, len(coords) // 200)
    if len(coords) <= size:
        return np.full(len(coords), -1, dtype=np.int64)
    found = HDBSCAN(min_cluster_size=size, min_samples=5, cluster_selection_method="leaf", copy=True)
    return found.fit_predict(coords).astype(np.int64)


def word_map(embedding: TextEmbedding, n: int, method: str = "pca") -> WordMap:
    """The ``method`` layout of the first ``n`` vocabulary words (the vocabulary is in frequency order),
    its clusters, and each cluster's most frequent word (the first in vocabulary order)."""
    if method not in MAP_METHODS:
        raise ConfigError(f"map method must be one of {', '.join(MAP_METHODS)}, got {method!r}")
    n = min(n, len(embedding))
    unit = unit_rows(embedding.vectors[:n].astype(np.float64))
    ratio = None
    if method == "pca" or n < 4:  # too few words for a neighbour graph: PCA's layout is exact
        coords, ratio = pca(unit)
    else:
        coords = tsne(unit) if method == "tsne" else umap(unit)
    cluster = clusters(coords)
    found = []
    for number in range(cluster.max() + 1):
        members = np.flatnonzero(cluster == number)
        x, y = np.median(coords[members], axis=0)
        found.append(Cluster(embedding.vocab[int(members[0])], len(members), float(x), float(y)))
    shown = method if ratio is None else "pca"
    return WordMap(tuple(embedding.vocab[:n]), coords[:, 0], coords[:, 1], shown, ratio, cluster, tuple(found))
