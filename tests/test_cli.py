"""The command line, driven through its real entry point (a subprocess where exit codes matter)."""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cordswivel import commands
from cordswivel.cli import build_parser, main
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding

from helpers import children_of, in_child, run_cli, word_model, world_readable_dir


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "a b c"}\n{"title": oops}\n')
    result = run_cli("cooccur", bad, "--out", tmp_path / "o", "--min-count", 1, "--shard-size", 1, "--workers", 1)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(f"{bad}:2: malformed JSON (Expecting value: line 1 column 11 (char 10))")
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()
    skipped = run_cli(
        "cooccur",
        bad,
        "--out",
        tmp_path / "o",
        "--min-count",
        1,
        "--shard-size",
        1,
        "--workers",
        1,
        "--on-error",
        "skip",
    )
    assert skipped.returncode == 0 and "skipped: 1 malformed JSON" in skipped.stdout
    usage = run_cli("cooccur", bad, "--out", tmp_path / "o2", "--window", 0)
    assert usage.returncode == 2 and "window must be positive" in usage.stderr
    usage = run_cli("cooccur", bad, "--out", tmp_path / "o2", "--memory-limit", "lots")
    assert usage.returncode == 2 and "memory limit 'lots' is not a size" in usage.stderr
    usage = run_cli(
        "train",
        bad,
        "--out",
        tmp_path / "o3",
        "--min-count",
        1,
        "--shard-size",
        1,
        "--on-error",
        "skip",
        "--devices",
        "GPU:9",
    )
    assert usage.returncode == 2 and "unknown device 'GPU:9'" in usage.stderr and "Traceback" not in usage.stderr
    missing = run_cli("neighbors", tmp_path / "nomodel", "x")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
def test_sigterm_while_counting_stops_workers_and_cleans_up(tmp_path):
    rng = random.Random(0)
    words = [f"w{k}" for k in range(5000)]
    with open(tmp_path / "corpus.txt", "w") as handle:
        for _ in range(60_000):
            handle.write(" ".join(rng.choices(words, k=40)) + "\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "cordswivel.cli", "cooccur", tmp_path / "corpus.txt", "--out", tmp_path / "out"]
        + ["--workers", "2", "--min-count", "1", "--shard-size", "64"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".out") for p in tmp_path.iterdir()) or len(children_of(process.pid)) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "counting ended before it could be stopped"
        time.sleep(0.05)
    workers = children_of(process.pid)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err.strip().splitlines()[-1] == "cordswivel cooccur: terminated" and "Traceback" not in err
    time.sleep(0.5)
    assert [
        w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]
    ] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]  # no output, no temporary files


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PermissionError(13, "Permission denied", "/ro/out"), "cordswivel export: error: /ro/out: Permission denied"),
        (
            OSError(28, "No space left on device", "/full/x"),
            "cordswivel export: error: /full/x: No space left on device",
        ),
        (
            OSError("1035806 requested and 529408 written"),
            "requested and 529408 written (no space left on the device?)",
        ),
        (IsADirectoryError(21, "Is a directory", "/tmp"), "cordswivel export: error: /tmp: Is a directory"),
        (MemoryError(), "cordswivel export: error: out of memory"),
        (RecursionError(), "cordswivel export: error: input nested too deeply to process"),
    ],
)
def test_system_errors_become_one_line(monkeypatch, capsys, error, expected):
    def fail(args):
        raise error

    monkeypatch.setattr(commands, "export", fail)
    assert main(["export", "m", "--out", "o"]) == 1
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_a_full_disk_while_training_points_to_resume(monkeypatch, capsys):
    def fail(args):
        raise OSError(28, "No space left on device", "/full/model.partial/checkpoint.npz")

    monkeypatch.setattr(commands, "train", fail)
    assert main(["train", "c.txt", "--out", "m"]) == 1
    assert "No space left on device (the last checkpoint is kept: the same command plus --resume continues)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_and_verbose_go_before_or_after_the_command(where):
    parser = build_parser()
    args = parser.parse_args(["-v", "neighbors", "m", "w"] if where == "before" else ["neighbors", "m", "w", "-v"])
    assert args.verbose and not args.quiet
    args = parser.parse_args(["-q", "embed", "m", "t"] if where == "before" else ["embed", "m", "t", "--quiet"])
    assert args.quiet and not args.verbose


def test_one_output_rule_for_every_command(tmp_path, capsys):
    word_model().save(tmp_path / "model")
    vectors = tmp_path / "vectors.txt"
    assert main(["export", str(tmp_path / "model"), "--format", "word2vec", "--out", str(vectors)]) == 0
    first = vectors.read_bytes()
    assert main(["export", str(tmp_path / "model"), "--format", "word2vec", "--out", str(vectors), "--binary"]) == 2
    assert "output file exists (use --overwrite)" in capsys.readouterr().err and vectors.read_bytes() == first
    assert main(["export", str(tmp_path / "model"), "--format", "word2vec", "--out", str(vectors), "--overwrite"]) == 0
    image = tmp_path / "h.png"
    image.write_bytes(b"mine")
    assert main(["heatmap", str(tmp_path / "model"), "virus", "--out", str(image)]) == 2
    assert image.read_bytes() == b"mine" and "output file exists" in capsys.readouterr().err
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "keep").write_text("")
    assert main(["scicite", str(tmp_path / "nomodel"), "--out", str(tmp_path / "sc")]) == 2  # before any work
    assert "exists and is not empty (use --overwrite)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["heatmap", "nomodel", "--out", "h.xyz"], "cannot write a .xyz image"),
        (["neighbors", "nomodel", "virus", "-k", "-3"], "argument -k: must be a positive integer, got -3"),
        (["neighbors", "nomodel", "virus", "-k", "0"], "argument -k: must be a positive integer, got 0"),
        (["cooccur", "c.txt", "--out", "o", "--workers", "-1"], "argument --workers: must be a positive integer"),
        (["train", "c.txt", "--out", "o", "--dim", "0"], "argument --dim: must be a positive integer"),
        (["cooccur", "c.txt", "--out", "o", "--text-fields", ""], "argument --text-fields: '' names no field"),
        (["train", "c.txt", "--out", "o", "--text-fields", " , "], "argument --text-fields: ' , ' names no field"),
        (["train", "c.txt", "--out", "o", "--shard-size", "0"], "argument --shard-size: must be a positive integer"),
        (
            ["export", "nomodel", "--format", "hub", "--out", "h", "--binary"],
            "--binary is an option of --format word2vec",
        ),
    ],
)
def test_bad_options_are_refused_before_any_work(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_pairs_reads_headers_and_prints_valid_json(tmp_path, capsys):
    word_model().save(tmp_path / "model")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\ufeffword1 word2 score\r\nvirus fever 3\r\ncough fever 2\r\nItaly the 0.5\r\n", encoding="utf-8")
    assert main(["evaluate-pairs", str(tmp_path / "model"), str(pairs)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs_total"] == 3 and result["pairs_covered"] == 3
    none = tmp_path / "none.txt"
    none.write_text("a b 1\nc d 2\n")
    assert main(["evaluate-pairs", str(tmp_path / "model"), str(none)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "pearson": None,
        "spearman": None,
        "pairs_covered": 0,
        "pairs_total": 2,
        "pairs_subword": 0,
        "spearman_in_vocabulary": None,
    }
    assert main(["evaluate-pairs", str(tmp_path / "model"), str(tmp_path / "missing.tsv")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"cordswivel evaluate-pairs: error: {tmp_path / 'missing.tsv'}: No such file or directory"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"virus fever 3\ncough fever nan\n", "bad.txt:2: score 'nan' is not a finite number"),
        (b"virus fever inf\n", "bad.txt:1: score 'inf' is not a finite number"),
        (b"virus fever 3\ncough fever many\n", "bad.txt:2: score 'many' is not a number"),
        (b"", "bad.txt: no word pairs ('word word score' lines)"),
        (b"# only a comment\n\n", "bad.txt: no word pairs ('word word score' lines)"),
        (b"virus fever 3\nfi\xe8vre fever 2\n", "bad.txt:2: not UTF-8 text"),
    ],
)
def test_evaluate_pairs_refuses_bad_files_naming_file_and_line(tmp_path, capsys, content, message):
    word_model().save(tmp_path / "model")
    (tmp_path / "bad.txt").write_bytes(content)
    assert main(["evaluate-pairs", str(tmp_path / "model"), str(tmp_path / "bad.txt")]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith(message) and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_empty_input_file_is_a_data_error_whatever_the_workers(tmp_path, capsys, workers):
    """Exit 1 and the file named, as the README says, also where the file is read in byte ranges."""
    (tmp_path / "empty.txt").write_text("")
    argv = ["-q", "cooccur", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "o"), "--workers", workers]
    assert main(argv) == 1
    assert capsys.readouterr().err.strip() == f"cordswivel cooccur: error: {tmp_path / 'empty.txt'}: file is empty"


def main_in_child(argv, **limits):
    """``main(argv)`` in a forked child (see ``helpers.in_child``): (exit code, stderr)."""
    import cordswivel.embedding.formats
    import cordswivel.embedding.loading  # noqa: F401

    def run():
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(argv)
        return [code, err.getvalue()]

    return in_child(run, **limits)


def test_an_output_directory_without_write_permission_gives_one_line():
    root = world_readable_dir()
    try:
        word_model().save(root / "model")
        (root / "ro").mkdir(mode=0o555)
        argv = ["export", str(root / "model"), "--format", "word2vec", "--out", str(root / "ro" / "v.txt")]
        code, err = main_in_child(argv, unprivileged=True)
        assert (code, err) == (1, f"cordswivel export: error: {root / 'ro'}: Permission denied\n")
    finally:
        shutil.rmtree(root)


def test_a_full_disk_gives_one_line_and_leaves_nothing_behind(tmp_path):
    rng = np.random.default_rng(0)
    words = tuple(f"word{k}" for k in range(3000))
    TextEmbedding(Vocabulary(words, np.ones(3000, np.int64)), rng.normal(size=(3001, 32))).save(tmp_path / "model")
    out = tmp_path / "out"
    out.mkdir()
    code, err = main_in_child(
        ["export", str(tmp_path / "model"), "--format", "word2vec", "--out", str(out / "v.txt")],
        file_size_limit=100_000,
    )
    assert code == 1 and "File too large" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(out.iterdir()) == []  # no half-written output, no temporary file


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_takes_the_data_directory_and_overwrite():
    root = Path(__file__).resolve().parents[1]
    dry = subprocess.run(
        ["make", "-n", "-C", str(root), "-o", ".venv/.installed", "demo", "DATA=/data/here", "OVERWRITE=1"],
        capture_output=True,
        text=True,
    )
    assert 'cordswivel demo --out runs/demo --data-dir "/data/here" --overwrite' in dry.stdout


@pytest.mark.parametrize("command", ["neighbors", "embed", "heatmap", "export", "scicite", "evaluate-pairs"])
def test_every_model_argument_says_what_it_accepts(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "TF-Hub text-embedding module, or a word2vec/GloVe file" in " ".join(capsys.readouterr().out.split())
