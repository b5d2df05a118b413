"""Word-pair evaluation against SciPy's correlations and the published file layouts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding

from helpers import small_model


@pytest.fixture
def model():
    return small_model()


def test_evaluate_word_pairs_agrees_with_scipy(model, tmp_path):
    pairs = [
        ("a", "b", 3.0),
        ("a", "SARS", 1.0),
        ("b", "x", 2.0),
        ("x", "y", 2.0),
        ("SARS", "y", 0.5),
        ("a", "missing", 4.0),
    ]
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs))
    result = model.evaluate_word_pairs(path)
    covered = pairs[:-1]
    sims = [model.similarity(a, b) for a, b, _ in covered]
    human = [s for _, _, s in covered]
    assert result.pairs_covered == 5 and result.pairs_total == 6
    assert result.spearman == pytest.approx(stats.spearmanr(sims, human).statistic, rel=1e-9)
    assert result.pearson == pytest.approx(stats.pearsonr(sims, human).statistic, rel=1e-9)


def test_word_pair_files_as_published_and_case_insensitive_lookup(tmp_path):
    vocab = Vocabulary(("Virus", "virus", "cough", "fever", "Italy"), np.array([9, 5, 4, 3, 2]))
    rng = np.random.default_rng(1)
    model = TextEmbedding(vocab, rng.normal(size=(6, 4)).astype(np.float32))
    # MTurk-771 as published: CRLF, and one line ends in a stray tab
    (tmp_path / "space.txt").write_bytes(b"virus cough 3.5\r\nfever cough 8\t\r\nitaly virus 1\r\nfoo bar 2\r\n")
    (tmp_path / "tab.txt").write_text("virus\tcough\t3.5\nfever\tcough\t8\nitaly\tvirus\t1\nfoo\tbar\t2\n")
    exact = model.evaluate_word_pairs(tmp_path / "space.txt")
    assert (exact.pairs_covered, exact.pairs_total) == (2, 4)
    assert model.evaluate_word_pairs(tmp_path / "tab.txt") == exact
    folded = model.evaluate_word_pairs(tmp_path / "space.txt", case_insensitive=True)
    assert (folded.pairs_covered, folded.pairs_total) == (3, 4)
    # 'virus' stands for 'Virus' (the more frequent variant), 'italy' for 'Italy', as gensim does
    sims = [model.similarity("Virus", "cough"), model.similarity("fever", "cough"), model.similarity("Italy", "Virus")]
    assert folded.spearman == pytest.approx(stats.spearmanr(sims, [3.5, 8, 1]).statistic, rel=1e-9)
