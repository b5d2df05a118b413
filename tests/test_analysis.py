"""The tutorial's heatmap matrix, coherence and neighbour tables against NumPy formulas."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.tutorial.analysis import group_cosines, neighbour_table, plot_heatmap, similarity_matrix

WORDS = ("coronavirus", "SARS", "MERS", "Italy", "Spain", "fever")


@pytest.fixture
def model():
    rng = np.random.default_rng(4)
    return TextEmbedding(
        Vocabulary(WORDS, np.ones(len(WORDS), np.int64)), rng.normal(size=(len(WORDS) + 1, 5)).astype(np.float32)
    )


def test_matrix_is_inner_products_over_their_maximum_or_cosine(model):
    terms = ["SARS", "Italy", "fever cough", "unknownword"]
    vectors = model.embed(terms).astype(np.float64)
    result = similarity_matrix(model, terms)
    np.testing.assert_allclose(result.matrix, vectors @ vectors.T / (vectors @ vectors.T).max(), rtol=1e-6)
    assert result.oov == ("unknownword",) and not result.cosine
    cosine = similarity_matrix(model, terms[:3], cosine=True).matrix
    unit = vectors[:3] / np.linalg.norm(vectors[:3], axis=1, keepdims=True)
    np.testing.assert_allclose(cosine, unit @ unit.T, rtol=1e-6)


def test_group_coherence_and_neighbours(model):
    groups = (("coronavirus", "SARS", "MERS"), ("Italy", "Spain"))
    unit = model.vectors / np.linalg.norm(model.vectors, axis=1, keepdims=True)
    cos = unit @ unit.T
    within = np.mean([cos[0, 1], cos[0, 2], cos[1, 2], cos[3, 4]])
    between = np.mean([cos[i, j] for i in range(3) for j in (3, 4)])
    coherence = group_cosines(model, groups)
    assert coherence.within_group_mean_cosine == pytest.approx(within, rel=1e-5)
    assert coherence.between_group_mean_cosine == pytest.approx(between, rel=1e-5)
    table = neighbour_table(model, ["SARS", "nothere"], k=2)
    assert table[0] == ("SARS", model.most_similar("SARS", 2)) and table[1] == ("nothere", [])


def test_heatmap_is_drawn_in_the_suffix_format(model, tmp_path):
    result = similarity_matrix(model, WORDS)
    assert plot_heatmap(result, tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in plot_heatmap(result, tmp_path / "h.svg").read_bytes()[:400]


def test_a_heatmap_of_many_terms_stays_small_in_memory_and_more_are_refused(tmp_path):
    """Seaborn's heatmap took 6 GB for 60 terms (1.2 GB at 16 inches): the image's memory is bounded."""
    import subprocess
    import sys

    from cordswivel.config import MAX_HEATMAP_TERMS
    from cordswivel.errors import ConfigError

    words = tuple(f"term{k}" for k in range(MAX_HEATMAP_TERMS + 1))
    rng = np.random.default_rng(0)
    model = TextEmbedding(Vocabulary(words, np.ones(len(words), np.int64)), rng.normal(size=(len(words) + 1, 8)))
    model.save(tmp_path / "m")
    argv = ["-q", "heatmap", str(tmp_path / "m"), *words[:-1], "--out", str(tmp_path / "h.png")]
    code = (  # VmHWM, not ru_maxrss: that keeps the peak of the forked test process from before exec
        "from cordswivel.cli import main\n"
        f"code = main({argv!r})\n"
        "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(code, int(peak) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    status, peak_mb = map(int, done.stdout.split()[-2:])
    assert status == 0 and (tmp_path / "h.png").stat().st_size > 10_000
    assert peak_mb < 600, peak_mb  # the interpreter with NumPy and matplotlib is about 150 MB of it
    result = similarity_matrix(model, list(words))
    with pytest.raises(ConfigError, match=f"at most {MAX_HEATMAP_TERMS} terms, got {MAX_HEATMAP_TERMS + 1}"):
        plot_heatmap(result, tmp_path / "all.png")
    assert not (tmp_path / "all.png").exists()
