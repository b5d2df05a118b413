"""Word maps: PCA against the covariance's eigenvectors, t-SNE and UMAP against planted groups."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import homogeneity_score

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ConfigError
from cordswivel.explorer.maps import available_methods, word_map


def test_word_map_is_the_pca_of_the_unit_vectors():
    rng = np.random.default_rng(3)
    vectors = (rng.normal(size=(41, 5)) * [5, 3, 1, 0.5, 0.1]).astype(np.float32)  # 40 words and the OOV row
    model = TextEmbedding(Vocabulary(tuple(f"w{i}" for i in range(40)), np.arange(40, 0, -1)), vectors)
    vectors = vectors.astype(np.float64)
    result = word_map(model, 30)
    unit = vectors[:30] / np.linalg.norm(vectors[:30], axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    values, axes = np.linalg.eigh(np.cov(centred.T, bias=True))  # independent route: the covariance's eigenvectors
    for k, coords in enumerate((result.x, result.y)):
        axis = axes[:, -1 - k]
        expected = centred @ axis
        assert abs(np.corrcoef(coords, expected)[0, 1]) == pytest.approx(1.0, abs=1e-6)
        assert np.var(coords) == pytest.approx(values[-1 - k], rel=1e-5)
        assert axis[np.abs(axis).argmax()] * np.sign(coords @ expected) > 0  # the largest loading is positive
    assert result.words == tuple(f"w{i}" for i in range(30))
    assert result.explained_variance_ratio[0] == pytest.approx(values[-1] / values.sum(), rel=1e-5)
    assert len(word_map(model, 1000).words) == 40  # n past the vocabulary: every word


def planted_groups(groups=8, per_group=60, dim=32, seed=0):
    """Words in tight, well-separated groups; the first word of each group is its most frequent."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim))
    label = np.repeat(np.arange(groups), per_group)
    vectors = centres[label] + rng.normal(size=(len(label), dim)) * 0.25
    order = rng.permutation(len(label))  # groups interleaved in frequency order
    words = tuple(f"g{g}w{k}" for k, g in enumerate(label[order]))
    table = np.vstack([vectors[order], np.zeros((1, dim))]).astype(np.float32)
    return TextEmbedding(Vocabulary(words, np.arange(len(words), 0, -1)), table), label[order]


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_layouts_keep_planted_groups_apart_and_clusters_find_them(method):
    if method not in available_methods():
        pytest.skip("umap-learn is not installed")
    model, groups = planted_groups()
    result = word_map(model, 1000, method)
    assert result.method == method and result.explained_variance_ratio is None and len(result.words) == 480
    coords = np.column_stack([result.x, result.y])
    distance = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert (groups[distance.argmin(axis=1)] == groups).mean() > 0.98  # 2-D neighbours share their group
    clustered = result.cluster >= 0
    # most words in a cluster, and no cluster mixes groups (leaf clusters may split one)
    assert clustered.mean() > 0.5 and homogeneity_score(groups[clustered], result.cluster[clustered]) > 0.95
    for number, label in enumerate(result.cluster_labels):  # each cluster's label: its most frequent word
        members = np.flatnonzero(result.cluster == number)
        assert label == model.vocab[members.min()]


def test_pca_clusters_and_small_maps():
    model, _ = planted_groups(groups=3, per_group=200, dim=3)
    result = word_map(model, 600)
    assert result.cluster is not None and len(result.cluster_labels) >= 3
    tiny = word_map(model, 3, "tsne")  # too few words for t-SNE: the exact PCA layout
    assert tiny.method == "pca" and (tiny.cluster == -1).all()
    with pytest.raises(ConfigError):
        word_map(model, 10, "mds")
