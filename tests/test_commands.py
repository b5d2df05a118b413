"""Each command end to end in a subprocess, as a user runs it: outputs checked against the Python API."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cordswivel
from cordswivel.counting.vocab import Vocabulary

from helpers import planted_corpus, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    words = planted_corpus(root / "corpus.txt", units=2000)
    result = run_cli(
        "cooccur",
        root / "corpus.txt",
        "--out",
        root / "cooc",
        "--min-count",
        1,
        "--window",
        5,
        "--shard-size",
        8,
        "--workers",
        2,
        "--memory-limit",
        "600MB",
    )
    assert result.returncode == 0, result.stderr
    assert "2,000 units" in result.stdout
    result = run_cli(
        "train",
        "--cooccur",
        root / "cooc",
        "--out",
        root / "model",
        "--dim",
        16,
        "--epochs",
        25,
        "--tolerance",
        0,
        "--seed",
        1,
    )
    assert result.returncode == 0, result.stderr
    cordswivel.load(root / "model").with_subwords(cordswivel.SubwordConfig(buckets=0)).save(root / "plain")
    return root, words


def test_train_then_query(trained):
    root, _words = trained
    model = cordswivel.load(root / "model")
    assert len(model) == 32 and model.embedding_dim == 16
    assert (root / "model" / "training_loss.tsv").read_text().count("\n") == 27  # header, 25 epochs, why it stopped
    assert not (root / "model.partial").exists()
    result = run_cli("neighbors", root / "model", "g0w0", "nothere", "-k", 3)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("g0w0: g0w") and first.count("g0w") == 4
    assert second.startswith("nothere (not in vocabulary: from its subwords): g")  # train fits subwords by default
    result = run_cli("neighbors", root / "plain", "nothere", "-k", 3)  # the model without subwords
    assert result.stdout == "nothere: not in vocabulary\n"
    result = run_cli("embed", root / "model", "g1w1 g1w2", "")
    data = json.loads(result.stdout)
    np.testing.assert_allclose(data[0]["embedding"], model.embed(["g1w1 g1w2"])[0], atol=1e-6)
    assert not any(data[1]["embedding"])
    pairs = root / "pairs.tsv"
    pairs.write_text("g0w0\tg0w1\t10\ng0w0\tg1w0\t1\ng2w3\tg2w4\t9\ng2w3\tg3w4\t2\ng0w0s\tg1w1\t1\n")
    result = run_cli("evaluate-pairs", root / "model", pairs)
    scores = json.loads(result.stdout)
    assert scores["pairs_covered"] == 5 and scores["pairs_subword"] == 1 and scores["pairs_total"] == 5
    assert scores["spearman_in_vocabulary"] > 0.5
    result = run_cli("evaluate-pairs", root / "plain", pairs)
    assert json.loads(result.stdout)["pairs_covered"] == 4


def test_train_from_corpus_in_one_command_and_refuses_to_overwrite(trained):
    root, _ = trained
    result = run_cli(
        "train",
        root / "corpus.txt",
        "--out",
        root / "m2",
        "--min-count",
        1,
        "--shard-size",
        8,
        "--dim",
        8,
        "--epochs",
        2,
        "--workers",
        1,
        "--devices",
        "CPU:0",
    )
    assert result.returncode == 0, result.stderr
    assert "vocabulary 32 x 8" in result.stdout
    again = run_cli("train", root / "corpus.txt", "--out", root / "m2", "--min-count", 1, "--shard-size", 8)
    assert again.returncode == 2 and "exists and is not empty" in again.stderr


def test_heatmap_scicite_and_predict_commands(trained):
    root, _ = trained
    result = run_cli("heatmap", root / "plain", "g0w0", "g0w1", "g1w0", "nothere", "--out", root / "heat.png", "-k", 2)
    assert result.returncode == 0, result.stderr
    assert (root / "heat.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "not in vocabulary (the model's OOV vector): nothere" in result.stderr
    result = run_cli("heatmap", root / "model", "g0w0", "g0w0s", "--out", root / "heat2.png")
    assert "not in vocabulary (built from subwords): g0w0s" in result.stderr
    scicite = root / "scicite"
    scicite.mkdir()
    labels = ["method", "background", "result"]
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        (scicite / name).write_text(
            "".join(
                json.dumps({"string": f"g{k % 3}w1 g{k % 3}w2", "label": labels[k % 3], "unique_id": str(k)}) + "\n"
                for k in range(24)
            )
        )
    result = run_cli("scicite", root / "model", "--out", root / "sc", "--scicite", scicite, "--epochs", 2)
    assert result.returncode == 0, result.stderr
    assert "test: loss" in result.stdout
    metrics = json.loads((root / "sc" / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 2
    result = run_cli("predict", root / "sc" / "classifier", "g2w1 g2w2")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert set(row["probabilities"]) == set(labels) and sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-3)


def test_analogy_rank_and_evaluate_analogies_print_the_apis_answers(trained):
    root, words = trained
    model = cordswivel.load(root / "model")
    a, b, c = words[0][0], words[0][1], words[1][0]
    result = run_cli("analogy", root / "model", "--positive", b, c, "--negative", a, "-k", 3)
    assert result.returncode == 0, result.stderr
    expected = model.most_similar(positive=[b, c], negative=[a], k=3)
    got = json.loads(result.stdout)["results"]
    assert [r["term"] for r in got] == [w for w, _ in expected]
    np.testing.assert_allclose([r["score"] for r in got], [s for _, s in expected], atol=1e-6)

    candidates = [words[2][0], f"{words[3][0]} {words[3][1]}", "not_a_word", f"{words[1][2]}s"]
    (root / "candidates.txt").write_text(
        "# group 2 and 3\n" + "\n".join(candidates[:2]) + "\n\n" + "\n".join(candidates[2:])
    )
    result = run_cli("rank", root / "model", b, c, "--negative", a, "--candidates", root / "candidates.txt")
    assert result.returncode == 0, result.stderr
    ranking = model.rank([b, c], candidates, negative=[a])
    report = json.loads(result.stdout)
    assert [r["term"] for r in report["ranking"]] == list(ranking.terms)
    assert report["missing"] == list(ranking.missing) and f"{words[1][2]}s" in report["subword"]  # by its n-grams
    assert "ranked by their subwords (not in the vocabulary): " in result.stderr
    result = run_cli("rank", root / "plain", b, c, "--negative", a, "--candidates", root / "candidates.txt")
    assert json.loads(result.stdout)["missing"] == ["not_a_word", f"{words[1][2]}s"]  # without subwords
    out = root / "ranking.csv"
    result = run_cli("rank", root / "plain", b, "--candidates", root / "candidates.txt", "--out", out)
    assert (
        result.returncode == 0 and "not_a_word" in result.stderr and out.read_text().startswith("rank,term,score\n1,")
    )
    assert run_cli("rank", root / "model", b, "--candidates", root / "candidates.txt", "--out", out).returncode == 2

    questions = root / "questions.txt"
    lines = [": same-group"] + [f"{g[0]} {g[1]} {g[2]} {g[3]}" for g in words] + ["x y z w"]
    questions.write_text("\n".join(lines) + "\n")
    result = run_cli("evaluate-analogies", root / "model", questions, "--case-sensitive")
    assert result.returncode == 0, result.stderr
    report, api = json.loads(result.stdout), model.evaluate_word_analogies(questions, case_insensitive=False)
    assert report["accuracy"] == pytest.approx(api.accuracy) and report["skipped"] == 1
    assert report["sections"] == [
        {
            "section": "same-group",
            "correct": api.correct,
            "incorrect": 4 - api.correct,
            "accuracy": pytest.approx(api.accuracy),
        }
    ]


def test_query_commands_fail_with_one_line(trained):
    root, words = trained
    (root / "bad.txt").write_bytes(b": s\na b c\n")
    for args, code, message in (
        (("analogy", root / "plain", "--positive", "nowhere"), 1, "'nowhere' not in vocabulary"),
        (("rank", root / "model", words[0][0], "--candidates", root / "none.txt"), 1, "none.txt"),
        (("evaluate-analogies", root / "model", root / "bad.txt"), 1, "bad.txt:2: expected four words"),
        (("compare", root / "model", root / "model", "--min-count", 10**9), 2, "share 0 words"),
    ):
        result = run_cli(*args)
        assert result.returncode == code and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_compare_ranks_a_moved_word_first(trained):
    root, words = trained
    model = cordswivel.load(root / "model")
    table = model.table.copy()
    moved = words[0][0]
    table[model.vocab.index(moved)] = table[model.vocab.index(words[3][0])]  # now used as group 3's words
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(16, 16)))[0]
    cordswivel.TextEmbedding(model._vocab, table @ rotation.astype(np.float32)).save(root / "moved")
    result = run_cli("compare", root / "model", root / "moved", "--top", 3, "-k", 5)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["shared_words"] == 32 and report["words"][0]["word"] == moved
    assert (
        report["words"][0]["cosine"] < 0.8 < 0.95 < report["words"][1]["cosine"]
    )  # one moved word of 32 tilts the fit a little
    result = run_cli("compare", root / "model", root / "moved", "--by", "overlap", "--out", root / "drift.csv", "-k", 5)
    assert result.returncode == 0 and (root / "drift.csv").read_text().splitlines()[1].startswith(f"{moved},")


def test_the_readmes_drug_ranking_runs_as_written(tmp_path):
    """The README's candidate workflow, its shell lines as written, on a model that knows its words."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Analogies, rankings and comparing releases")[1].split("```sh\n")[1].split("```")[0]
    script = re.sub(r"\\\n\s*", "", section)  # continuation lines joined
    lines = [line for line in script.splitlines() if line.startswith(("printf", "cordswivel"))]
    assert [line.split()[0:2] for line in lines] == [
        ["printf", "'%s\\n'"],
        ["cordswivel", "rank"],
        ["cordswivel", "analogy"],
    ]
    drugs = re.findall(r"[\w-]+", lines[0].split("'%s\\n'")[1].split(">")[0])
    words = ["oseltamivir", "SARS-CoV-2", "influenza", *(d for d in drugs if d != "baricitinib")]
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(words) + 1, 8)).astype(np.float32)
    model = cordswivel.TextEmbedding(Vocabulary(tuple(words), np.arange(len(words), 0, -1)), table)
    model.save(tmp_path / "runs" / "demo" / "model")
    shell = f'cordswivel() {{ "{sys.executable}" -m cordswivel.cli "$@"; }}\n' + "\n".join(lines) + "\n"
    result = subprocess.run(["bash", "-e", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "not ranked, no token in the vocabulary: baricitinib" in result.stderr
    rows = list(csv.reader(open(tmp_path / "runs" / "ranking.csv")))[1:]
    expected = model.rank(
        ["oseltamivir", "SARS-CoV-2"], [*drugs[:1], "lopinavir ritonavir", *drugs[3:]], negative=["influenza"]
    )
    assert [r[1] for r in rows] == list(expected.terms) and len(rows) == 11
    assert json.loads(result.stdout.splitlines()[-1])["positive"] == ["oseltamivir", "SARS-CoV-2"]
