"""Runs killed with SIGKILL at any moment continue with --resume to the vectors of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import cordswivel

from helpers import planted_corpus

TRAIN = [
    "--min-count",
    "1",
    "--window",
    "5",
    "--shard-size",
    "8",
    "--dim",
    "8",
    "--epochs",
    "8",
    "--tolerance",
    "0",
    "--seed",
    "3",
    "--workers",
    "1",
]


def train_command(corpus, out, *extra):
    return [sys.executable, "-m", "cordswivel.cli", "-q", "train", str(corpus), "--out", str(out), *TRAIN, *extra]


def kill_when(process, condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the run ended before it could be interrupted")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    planted_corpus(root / "corpus.txt", units=3000)
    subprocess.run(train_command(root / "corpus.txt", root / "full"), check=True, timeout=600)
    return root, cordswivel.load(root / "full").table


def checkpoint_epoch(out):
    state = out.with_name(out.name + ".partial") / "checkpoint.json"
    try:
        return json.loads(state.read_text())["epoch"]
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("moment", ["counting", "training"])
def test_sigkill_then_resume_gives_the_uninterrupted_vectors(reference, moment):
    root, expected = reference
    out = root / f"killed-{moment}"
    process = subprocess.Popen(
        train_command(root / "corpus.txt", out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    work = out.with_name(out.name + ".partial")
    if moment == "counting":  # while the shards are being written to their temporary directory
        kill_when(process, lambda: work.exists() and any(p.name.startswith(".cooccurrence") for p in work.iterdir()))
    else:  # after two epochs: somewhere inside the third
        kill_when(process, lambda: checkpoint_epoch(out) >= 2)
    assert not out.exists()  # nothing half-written at the destination
    again = subprocess.run(train_command(root / "corpus.txt", out), capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "--resume" in again.stderr
    subprocess.run(train_command(root / "corpus.txt", out, "--resume"), check=True, timeout=600)
    np.testing.assert_allclose(cordswivel.load(out).table, expected, rtol=0, atol=1e-6)


def test_ctrl_c_stops_with_a_message_saying_how_to_resume(reference):
    root, _ = reference
    out = root / "interrupted"
    # A shell without job control starts background jobs with SIGINT ignored, and Python then keeps
    # ignoring it: give the run the default disposition, as a terminal's Ctrl-C finds it.
    process = subprocess.Popen(
        train_command(root / "corpus.txt", out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while checkpoint_epoch(out) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert (
        stderr.strip().splitlines()[-1]
        == "cordswivel train: interrupted (the last checkpoint is kept: the same command plus --resume continues)"
    )
    assert "Traceback" not in stderr and not out.exists()


def test_resume_with_other_counting_settings_is_refused(reference):
    root, _ = reference
    out = root / "changed"
    process = subprocess.Popen(
        train_command(root / "corpus.txt", out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    kill_when(process, lambda: checkpoint_epoch(out) >= 1)
    command = train_command(root / "corpus.txt", out, "--resume")
    command[command.index("--window") + 1] = "4"
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "counted with other settings" in result.stderr
    (root / "other.txt").write_text((root / "corpus.txt").read_text())  # the same text, another corpus
    result = subprocess.run(train_command(root / "other.txt", out, "--resume"), capture_output=True, text=True)
    assert result.returncode == 2 and "the interrupted run counted another corpus" in result.stderr, result.stderr
    assert str(root / "corpus.txt") in result.stderr


def test_sigkill_of_the_driver_takes_its_workers_and_leaves_no_lock_or_scratch(tmp_path):
    """The driver killed while it counts: its workers die with it (they held the output lock before),
    and the same command then runs, removing the scratch directory the killed run left."""
    from helpers import children_of

    rng = np.random.default_rng(0)
    words = np.array([f"w{k}" for k in range(5000)])
    with open(tmp_path / "corpus.txt", "w") as handle:
        for _ in range(40):
            handle.write("\n".join(" ".join(line) for line in rng.choice(words, (10_000, 10))) + "\n")
    out = tmp_path / "shards"
    command = [sys.executable, "-m", "cordswivel.cli", "-q", "cooccur", str(tmp_path / "corpus.txt"), "--out", str(out)]
    process = subprocess.Popen([*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []

    def counting():
        workers[:] = children_of(process.pid, zombies=False)
        return len(workers) >= 2 and any(p.name.endswith(".tmp") for p in tmp_path.iterdir())

    kill_when(process, counting)
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in workers if _running(p)]
    for pid in alive:  # left by a failure: not to outlive the test
        os.kill(pid, signal.SIGKILL)
    assert alive == []
    again = subprocess.run([*command, "--workers", "1"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "shards"]


def _running(pid):
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
