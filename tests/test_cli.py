"""The command line, driven through its real entry point (a subprocess where exit codes matter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cordswivel.cli import build_parser, main
from cordswivel.config import ClassifierConfig, CooccurConfig, SwivelConfig

from helpers import run_cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(next(a for a in build_parser()._actions if a.dest == "command").choices)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_a_readme_line(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cordswivel {command}") and len(out) > 200
    assert f"cordswivel {command} " in README


def test_defaults_come_from_the_settings_classes():
    parser = build_parser()
    train = parser.parse_args(["train", "c.txt", "--out", "m"])
    assert (train.dim, train.epochs, train.window, train.min_count) == (
        SwivelConfig().embedding_dim,
        SwivelConfig().epochs,
        CooccurConfig().window,
        CooccurConfig().min_count,
    )
    scicite = parser.parse_args(["scicite", "m", "--out", "o"])
    config = ClassifierConfig()
    assert (scicite.epochs, scicite.batch_size, scicite.seed) == (config.epochs, config.batch_size, config.seed)


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
