"""Builders the tests share: small corpora, CORD-19 parses, models and reference computations."""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cordswivel.corpus.tokenizer import tokenize
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.tutorial.scicite import SciCite, Split

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RELEASE_SAMPLE = SHARED / "testdata" / "cord19_release_sample" / "files"
WORDS = ("the", "SARS-CoV-2", "covid-19", "virus", "fever", "cough", "Italy", "é", "naïve", "x.y")


def word_model(dim: int = 6, seed: int = 0) -> TextEmbedding:
    """Random vectors for ``WORDS`` (cased, punctuation inside tokens, non-ASCII) and one OOV row."""
    rng = np.random.default_rng(seed)
    table = np.vstack([rng.normal(size=(len(WORDS), dim)), rng.normal(size=(1, dim))]).astype(np.float32)
    return TextEmbedding(Vocabulary(WORDS, np.arange(len(WORDS), 0, -1)), table)


def small_model() -> TextEmbedding:
    """Six random 5-d vectors ("a", "b", "SARS", "covid-19", "x", "y", counts 9 to 4) and an OOV row of 0.5s."""
    rng = np.random.default_rng(0)
    words = ("a", "b", "SARS", "covid-19", "x", "y")
    vocab = Vocabulary(words, np.array([9, 8, 7, 6, 5, 4]))
    table = np.vstack([rng.normal(size=(6, 5)), np.full((1, 5), 0.5)]).astype(np.float32)
    return TextEmbedding(vocab, table)


def planted_corpus(path, groups=4, per_group=8, units=3000, seed=0):
    """Units of 8 words drawn from one of `groups` word groups: each word's neighbours are its group."""
    rng = random.Random(seed)
    words = [[f"g{g}w{k}" for k in range(per_group)] for g in range(groups)]
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(units):
            group = rng.randrange(groups)
            handle.write(" ".join(rng.choices(words[group], k=8)) + "\n")
    return words


def easy_task(seed=0):
    """Sentences whose class is given by which of three word groups they use."""
    rng = np.random.default_rng(seed)
    groups = [["alpha", "beta", "gamma"], ["delta", "eps", "zeta"], ["eta", "theta", "iota"]]
    filler = ["the", "of", "and", "in"]

    def split(n):
        labels = rng.integers(0, 3, n)
        texts = [" ".join(rng.choice(groups[y], 2).tolist() + rng.choice(filler, 3).tolist()) for y in labels]
        return Split(tuple(texts), labels)

    words = [w for g in groups for w in g] + filler
    vectors = np.zeros((len(words) + 1, 8), np.float32)
    for g, group in enumerate(groups):
        for w in group:
            vectors[words.index(w), g] = 1.0
    vectors[len(groups) * 3 : len(words), 3:] = rng.normal(size=(len(filler), 5))
    model = TextEmbedding(Vocabulary(tuple(words), np.ones(len(words), np.int64)), vectors)
    return model, SciCite(split(300), split(60), split(60))


def brute_force(units, *, min_count, max_vocab, window, lowercase=False):
    """docs/design.md, "Counting", written as plainly as possible: every token counted at least
    ``min_count`` times is a word (up to ``max_vocab``), whatever the shard size."""
    tokenized = [tokenize(u, lowercase) for u in units]
    counts = collections.Counter(t for unit in tokenized for t in unit)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    if max_vocab is not None:
        kept = kept[:max_vocab]
    index = {t: i for i, t in enumerate(kept)}
    matrix = np.zeros((len(kept), len(kept)))
    for unit in tokenized:
        ids = [index[t] for t in unit if t in index]
        for p, a in enumerate(ids):
            matrix[a, a] += 1
            for d in range(1, window + 1):
                if p + d < len(ids):
                    b = ids[p + d]
                    matrix[a, b] += 1.0 / d
                    matrix[b, a] += 1.0 / d
    return kept, [counts[t] for t in kept], matrix


def random_units(rng: random.Random, n_units: int, n_types: int) -> list[str]:
    words = [f"w{k}" for k in range(n_types)] + ["Cap", "cap"]
    weights = [1.0 / (k + 1) for k in range(len(words))]  # Zipf-like
    units = []
    for _ in range(n_units):
        length = rng.randint(0, 30)
        tokens = rng.choices(words, weights, k=length)
        # punctuation that the tokenizer strips, and chunks that vanish entirely
        units.append(
            " ".join(rng.choice(["", "(", '"']) + t + rng.choice(["", ",", ".", ""]) for t in tokens)
            + rng.choice(["", " --", "  ...  "])
        )
    return units


def write_parse(
    path: Path, paper_id: str, *, title: str, authors=(), abstract=(), body=(), bibs=(), pmc: bool = False, indent=None
) -> dict:
    """Write a CORD-19 parse JSON in AI2's layout (PMC parses have no abstract, spans say 'mention')."""
    span_key = "mention" if pmc else "text"

    def para(text, section):
        return {
            "text": text,
            "cite_spans": [{"start": 0, "end": 1, span_key: text[:1], "ref_id": None}],
            "ref_spans": [],
            "section": section,
        }

    doc = {
        "paper_id": paper_id,
        "metadata": {
            "title": title,
            "authors": [
                {"first": f, "middle": list(m), "last": last, "suffix": "", "affiliation": {}, "email": ""}
                for f, m, last in authors
            ],
        },
    }
    if not pmc:
        doc["abstract"] = [para(t, "Abstract") for t in abstract]
    doc["body_text"] = [para(t, "Intro") for t in body]
    doc["bib_entries"] = {
        f"BIBREF{2 * k}": {
            "ref_id": f"b{2 * k}",
            "title": t,
            "authors": [],
            "year": 2000,
            "venue": "",
            "volume": "",
            "issn": "",
            "pages": "",
            "other_ids": {},
        }
        for k, t in enumerate(bibs)
    }
    doc["ref_entries"] = {}
    doc["back_matter"] = [para("Competing interests none", "Competing interests")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent), encoding="utf-8")
    return doc


def run_cli(*args, cwd=None):
    """``cordswivel ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cordswivel.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def hold_lock_elsewhere(path):
    """A separate process that holds ``output_lock(path)``, as a live run does, until its stdin closes."""
    code = (
        "import sys\nfrom cordswivel.fileio import output_lock\n"
        "with output_lock(sys.argv[1]):\n    print('held', flush=True)\n    sys.stdin.read()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


NOBODY = 65534


def in_child(fn, *, unprivileged=False, file_size_limit=None):
    """``fn()`` in a forked child, its result (JSON-able) or exception text sent back: as user nobody
    (``unprivileged``; root ignores file permissions), or with writes past ``file_size_limit`` bytes
    failing as on a full disk (EFBIG). Import what ``fn`` needs before: the child may not read it."""
    import resource
    import signal

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            if file_size_limit is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
            if unprivileged and os.getuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            message = {"result": fn()}
        except BaseException as exc:
            message = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_end, json.dumps(message).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    message = json.loads(data or b'{"error": "the child died"}')
    if "error" in message:
        raise AssertionError(message["error"])
    return message["result"]


def world_readable_dir():
    """A fresh directory under /tmp that user nobody can enter (pytest's tmp_path is private)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="cordswivel-"))
    path.chmod(0o755)
    return path


def children_of(pid, *, zombies=True):
    """Child processes of ``pid``, read from /proc (Linux); ``zombies=False`` leaves out the exited."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and (zombies or fields[0] != "Z"):
            kids.append(int(stat.parent.name))
    return kids


def chromium():
    """Headless Chromium under Selenium (skips the test where Debian's chromium or chromium-driver is missing)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,2200",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)
