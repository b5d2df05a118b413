"""evaluate_word_analogies against a question-by-question NumPy reference, and gensim where installed."""

from __future__ import annotations

import glob
import itertools
import os

import numpy as np
import pytest

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ConfigError, ModelFormatError

PAIRS = 30


@pytest.fixture(scope="module")
def model_and_questions(tmp_path_factory):
    """Country -> capital pairs related by one offset plus noise (so some analogies hold, not all),
    filler words, a lower-case variant of a country, and questions with unknown words."""
    rng = np.random.default_rng(3)
    dim = 12
    countries = rng.normal(size=(PAIRS, dim))
    capitals = countries + rng.normal(size=dim) * 0.8 + rng.normal(size=(PAIRS, dim)) * 0.9
    words = [f"Country{i}" for i in range(PAIRS)] + [f"Capital{i}" for i in range(PAIRS)]
    words += [f"filler{i}" for i in range(200)] + ["country3", "capital5"]
    variants = [countries[3] + 0.05, capitals[5] * 1.1 - 0.05]  # near their words, not parallel to them
    vectors = np.vstack([countries, capitals, rng.normal(size=(200, dim)), *variants])
    order = rng.permutation(len(words))  # mix the frequency order
    words = [words[i] for i in order]
    table = np.vstack([vectors[order], np.zeros((1, dim))]).astype(np.float32)
    model = TextEmbedding(Vocabulary(words, np.arange(len(words), 0, -1)), table)
    lines = [": capital-common"]
    for i, j in itertools.permutations(range(12), 2):
        lines.append(f"Country{i} Capital{i} Country{j} Capital{j}")
    lines.append(": capital-world")
    for i, j in itertools.permutations(range(10, PAIRS), 2):
        lines.append(f"country{i} capital{i} country{j} capital{j}")  # lower case: known only without case
    lines += ["Country1 Capital1 Atlantis Atlantopolis", "", ": empty-section"]
    path = tmp_path_factory.mktemp("analogies") / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return model, path


def reference(model, path, restrict_vocab, case_insensitive, cosmul=False):
    """gensim's procedure, question by question, in float64: (correct, incorrect) per section, skipped."""
    words = model.vocab[:restrict_vocab]
    key = str.upper if case_insensitive else str
    ok = {key(w): i for i, w in reversed(list(enumerate(words)))}
    v = model.vectors[: len(words)].astype(np.float64)
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    results, skipped, section = {}, 0, None
    for line in open(path):
        if line.startswith(": "):
            section = line[2:].strip()
            results[section] = [0, 0]
            continue
        if len(line.split()) != 4:
            continue
        a, b, c, d = (key(w) for w in line.split())
        if not all(x in ok for x in (a, b, c, d)):
            skipped += 1
            continue
        ia, ib, ic = ok[a], ok[b], ok[c]
        if cosmul:
            score = (1 + u @ u[ib]) / 2 * (1 + u @ u[ic]) / 2 / ((1 + u @ u[ia]) / 2 + 1e-6)
        else:
            mean = u[ib] + u[ic] - u[ia]
            score = u @ (mean / np.linalg.norm(mean))
        top = [i for i in np.argsort(-score) if i not in (ia, ib, ic)][:5]
        predicted = None
        for i in top:
            predicted = key(words[i])
            if predicted not in (a, b, c):
                break
        results[section][predicted != d] += 1
    return results, skipped


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict_vocab", [300_000, 150])
@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_accuracy_equals_the_question_by_question_reference(
    model_and_questions, case_insensitive, restrict_vocab, method
):
    model, path = model_and_questions
    result = model.evaluate_word_analogies(
        path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive, method=method
    )
    sections, skipped = reference(model, path, restrict_vocab, case_insensitive, cosmul=method == "3cosmul")
    assert {s.section: [s.correct, s.incorrect] for s in result.sections} == sections
    assert result.skipped == skipped and result.questions == 12 * 11 + 20 * 19 + 1
    correct = sum(c for c, _ in sections.values())
    assert result.accuracy == pytest.approx(correct / sum(c + i for c, i in sections.values()))
    assert 0 < result.correct < result.questions - result.skipped  # the planted offset: some right, not all


def test_case_insensitive_finds_the_lower_case_questions(model_and_questions):
    model, path = model_and_questions
    folded = model.evaluate_word_analogies(path)
    cased = model.evaluate_word_analogies(path, case_insensitive=False)
    assert folded.skipped == 1 and cased.skipped == 20 * 19 + 1
    assert np.isnan(cased.sections[1].accuracy) and np.isnan(folded.sections[2].accuracy)
    assert folded.oov_ratio == pytest.approx(1 / folded.questions)


def test_bad_files_name_their_line(tmp_path, model_and_questions):
    model, _ = model_and_questions
    for content, message in (
        (b"Country1 Capital1 Country2 Capital2\n", ":1: a question before"),
        (b": s\nCountry1 Capital1 Country2\n", ":2: expected four words"),
        (b": s\nCountry1 Capital1 Country2 Capital\xff\n", ":2: not UTF-8"),
        (b": s\n\n", "no analogy questions"),
    ):
        path = tmp_path / "q.txt"
        path.write_bytes(content)
        with pytest.raises(ModelFormatError, match=message):
            model.evaluate_word_analogies(path)
    with pytest.raises(ConfigError):
        model.evaluate_word_analogies(path, method="3cosavg")
    with pytest.raises(ConfigError):
        model.evaluate_word_analogies(path, restrict_vocab=0)


def gensim_questions():
    gensim = pytest.importorskip("gensim")
    found = glob.glob(os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "questions-words.txt"))
    if not found:
        pytest.skip("gensim's test data is not installed")
    return found[0]


def test_google_questions_equal_gensims_accuracy():
    """On Google's questions-words.txt as gensim ships it, with a model whose words are those of the file."""
    path = gensim_questions()  # skips without gensim (the bench extra)
    from gensim.models import KeyedVectors

    words = list(dict.fromkeys(w for line in open(path) if not line.startswith(":") for w in line.split()))
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(words), 24)).astype(np.float32)
    vectors[len(words) // 2 :] += vectors[: len(words) - len(words) // 2]  # some structure
    words = words[:-40] + [w.lower() for w in words[-40:]]  # some words only in another case
    model = TextEmbedding(Vocabulary(words, np.arange(len(words), 0, -1)), np.vstack([vectors, np.zeros((1, 24))]))
    kv = KeyedVectors(24)
    kv.add_vectors(words, vectors)
    for case_insensitive in (True, False):
        ours = model.evaluate_word_analogies(path, case_insensitive=case_insensitive)
        score, sections = kv.evaluate_word_analogies(path, case_insensitive=case_insensitive)
        assert ours.accuracy == pytest.approx(score, abs=1e-6)
        assert [(s.section, s.correct, s.incorrect) for s in ours.sections] == [
            (s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections[:-1]
        ]
