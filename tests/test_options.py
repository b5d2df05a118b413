"""The parser: every command has help and a README line, defaults come from the settings classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cordswivel.cli import main
from cordswivel.config import ClassifierConfig, CooccurConfig, SubwordConfig, SwivelConfig
from cordswivel.options import build_parser

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
    subwords = parser.parse_args(["subwords", "m", "--out", "o"])
    assert train.subwords == subwords.buckets == SubwordConfig().buckets


@pytest.mark.parametrize(
    ("value", "message"), [("-1", "must be an integer of at least 0, got -1"), ("x", "'x' is not an integer")]
)
def test_bucket_counts_are_checked(capsys, value, message):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["train", "c.txt", "--out", "m", "--subwords", value])
    assert info.value.code == 2 and message in capsys.readouterr().err
