"""Exploring an embedding: the tutorial's similarity heatmap, neighbour tables, group coherence."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # not pyplot: no global state, the user's backend untouched

from ..config import HEATMAP_NEIGHBOURS, MAX_HEATMAP_TERMS
from ..embedding.queries import unit_rows
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError
from ..fileio import save_figure

TUTORIAL_TERMS = ("coronavirus", "SARS", "MERS", "Italy", "Spain", "Europe", "cough", "fever", "throat")
TUTORIAL_GROUPS = (("coronavirus", "SARS", "MERS"), ("Italy", "Spain", "Europe"), ("cough", "fever", "throat"))


@dataclass(frozen=True)
class SimilarityMatrix:
    """Pairwise similarities of terms' embeddings; ``oov`` lists terms with no known token (on the OOV
    vector), ``subword`` those whose unknown tokens all have subword vectors."""

    terms: tuple[str, ...]
    matrix: np.ndarray  # (n, n)
    cosine: bool
    oov: tuple[str, ...]
    subword: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupCoherence:
    """Mean cosine of term pairs within the same group and across groups (cluster coherence)."""

    within_group_mean_cosine: float
    between_group_mean_cosine: float


def similarity_matrix(
    embedding: TextEmbedding, terms: Iterable[str] = TUTORIAL_TERMS, *, cosine: bool = False
) -> SimilarityMatrix:
    """The tutorial's matrix: inner products of the terms' embeddings divided by their maximum
    (or cosine similarities). Terms are embedded as texts, as the module embeds them."""
    terms = tuple(terms)
    vectors = embedding.embed(list(terms)).astype(np.float64)

    tokens = {t: embedding.tokenize(t) for t in terms}
    oov = tuple(t for t in terms if not any(map(embedding.has_vector, tokens[t])))
    subword = tuple(
        t for t in terms if any(w not in embedding for w in tokens[t]) and all(map(embedding.has_vector, tokens[t]))
    )
    if cosine:
        unit = unit_rows(vectors)
        matrix = unit @ unit.T
    else:
        matrix = vectors @ vectors.T
        peak = matrix.max()
        matrix = matrix / peak if peak > 0 else matrix
    return SimilarityMatrix(terms, matrix, cosine, oov, subword)


def plot_heatmap(result: SimilarityMatrix, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Draw the matrix as a heatmap with the terms as tick labels (PNG, SVG or PDF by suffix).

    At most ``MAX_HEATMAP_TERMS`` terms, on a figure of at most 16 inches, values written in the cells
    up to 12 terms: the picture and the memory drawing it stay bounded (seaborn's heatmap, used
    before, took 1.2 GB for 60 terms; matplotlib's ``imshow`` takes a tenth).
    """
    n = len(result.terms)
    if n > MAX_HEATMAP_TERMS:
        raise ConfigError(f"a heatmap shows at most {MAX_HEATMAP_TERMS} terms, got {n}")
    size = min(max(5.0, 0.6 * n + 2), 16.0)
    fig = Figure(figsize=(size, size * 0.85))
    ax = fig.subplots()
    low = min(0.0, float(result.matrix.min()))
    image = ax.imshow(result.matrix, cmap="YlOrRd", vmin=low, vmax=1.0)
    fig.colorbar(image, ax=ax)
    labels = [term.replace("$", r"\$") for term in result.terms]  # text, never matplotlib's math
    fontsize = 10 if n <= 20 else max(5.0, 200 / n)
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=fontsize)
    ax.set_yticks(range(n), labels, fontsize=fontsize)
    if n <= 12:
        for (i, j), value in np.ndenumerate(result.matrix):
            dark = (value - low) / (1.0 - low or 1.0) > 0.6
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_title(title or ("Cosine similarity" if result.cosine else "Inner product / max"))
    fig.tight_layout()
    return save_figure(fig, path)


def group_cosines(embedding: TextEmbedding, groups: Sequence[Sequence[str]] = TUTORIAL_GROUPS) -> GroupCoherence:
    """Mean cosine of term pairs within the same group and across groups."""
    terms = [t for group in groups for t in group]
    group_of = {t: g for g, group in enumerate(groups) for t in group}
    cos = similarity_matrix(embedding, terms, cosine=True).matrix
    within: list[float] = []
    between: list[float] = []
    for a, b in combinations(range(len(terms)), 2):
        (within if group_of[terms[a]] == group_of[terms[b]] else between).append(cos[a, b])
    return GroupCoherence(float(np.mean(within)), float(np.mean(between)))


def neighbour_table(
    embedding: TextEmbedding, terms: Iterable[str] = TUTORIAL_TERMS, k: int = HEATMAP_NEIGHBOURS
) -> list[tuple[str, list[tuple[str, float]]]]:
    """(term, its k nearest words with cosine) for each term (a word outside the vocabulary by its
    subword vector, where the model has one); a term with no vector gets []."""
    return [
        (
            term,
            embedding.most_similar(term, k) if embedding.has_vector(term) else [],
        )
        for term in terms
    ]
