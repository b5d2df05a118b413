"""Atomic outputs: nothing at the destination until the write succeeds, the usual modes, clear errors."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from matplotlib.figure import Figure

from cordswivel.errors import ConfigError, ModelFormatError
from cordswivel.fileio import (
    atomic_directory,
    atomic_output_file,
    atomic_path,
    atomic_save_npz,
    atomic_write_json,
    check_figure_format,
    check_output_free,
    output_lock,
    read_json,
    save_figure,
)

from helpers import hold_lock_elsewhere


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert read_json(target) == {"a": 1} and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_directories_replace_only_when_complete_and_refuse_to_overwrite(tmp_path):
    out = tmp_path / "d"
    with atomic_directory(out) as tmp:
        (tmp / "x").write_text("1")
        assert not out.exists()
    assert (out / "x").read_text() == "1"
    with pytest.raises(ConfigError, match="exists and is not empty"):
        check_output_free(out, overwrite=False)
    with pytest.raises(ValueError), atomic_directory(out, overwrite=True) as tmp:
        (tmp / "y").write_text("2")
        raise ValueError("crash")
    assert sorted(p.name for p in out.iterdir()) == ["x"] and len(list(tmp_path.iterdir())) == 1
    with atomic_directory(out, overwrite=True) as tmp:
        (tmp / "y").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["y"]
    check_output_free(tmp_path / "absent", overwrite=False)


def test_outputs_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_save_npz(tmp_path / "a.npz", x=np.arange(3))
        with atomic_directory(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.npz").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert np.load(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]


def test_read_json_names_missing_and_broken_files(tmp_path):
    with pytest.raises(ModelFormatError, match="missing"):
        read_json(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        read_json(tmp_path / "bad.json")


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_figures_are_saved_in_the_format_of_their_suffix(tmp_path, suffix, magic):
    fig = Figure()
    fig.subplots().plot([0, 1])
    assert save_figure(fig, tmp_path / f"f{suffix}").read_bytes().startswith(magic)


def test_a_second_run_cannot_take_an_output_another_run_holds(tmp_path):
    out = tmp_path / "out"
    other = hold_lock_elsewhere(out)
    try:
        with pytest.raises(ConfigError, match="another run is using it"), atomic_directory(out):
            pass
        with pytest.raises(ConfigError, match="another run is using it"), atomic_output_file(out):
            pass
    finally:
        other.stdin.close()
        other.wait(timeout=30)
    with output_lock(out), output_lock(out), atomic_directory(out) as tmp:  # re-entrant in one process
        (tmp / "x").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the lock file goes with the run


def test_an_output_that_appears_meanwhile_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="exists and is not empty"), atomic_directory(out) as tmp:
        (tmp / "mine").write_text("new")
        out.mkdir()
        (out / "theirs").write_text("old")  # another program wrote it while this run worked
    assert sorted(p.name for p in out.iterdir()) == ["theirs"]
    target = tmp_path / "vectors.txt"
    with pytest.raises(ConfigError, match="output file exists"), atomic_output_file(target) as tmp:
        tmp.write_text("new")
        target.write_text("old")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out", "vectors.txt"]
    with atomic_output_file(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_output_kinds_are_checked(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        check_output_free(tmp_path / "file", overwrite=True)
    with pytest.raises(ConfigError, match="is a directory, expected a file name"):
        check_output_free(tmp_path, overwrite=True, kind="file")
    with pytest.raises(ConfigError, match="output file exists"):
        check_output_free(tmp_path / "file", overwrite=False, kind="file")
    check_output_free(tmp_path / "file", overwrite=True, kind="file")


def test_figure_formats_are_checked_before_drawing():
    check_figure_format("h.svg")
    with pytest.raises(ConfigError, match=r"cannot write a \.xyz image; use one of .*\.png"):
        check_figure_format("h.xyz")
