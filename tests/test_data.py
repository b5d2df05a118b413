"""Finding the data directory: --data-dir, then $CORDSWIVEL_DATA, then ../shared/data."""

from __future__ import annotations

import pytest

from cordswivel import data
from cordswivel.errors import DataDirError


def test_explicit_then_environment_then_default(tmp_path, monkeypatch):
    explicit, env = tmp_path / "explicit", tmp_path / "env"
    explicit.mkdir()
    env.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(env))
    assert data.find_data_dir(explicit) == explicit
    assert data.find_data_dir() == env
    monkeypatch.delenv(data.ENV_VAR)
    monkeypatch.setattr(data, "REPO_ROOT", tmp_path / "repo")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert data.find_data_dir() == tmp_path / "shared" / "data"


def test_missing_directories_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(DataDirError, match="does not exist"):
        data.find_data_dir(tmp_path / "nope")
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "REPO_ROOT", tmp_path / "repo")
    expected = (
        rf"no data directory \({tmp_path / 'shared' / 'data'} does not exist\): "
        r"pass --data-dir DIR \(make demo DATA=DIR\) or set \$CORDSWIVEL_DATA"
    )
    with pytest.raises(DataDirError, match=expected):
        data.find_data_dir()
    (tmp_path / "shared" / "data" / "cord19").mkdir(parents=True)
    with pytest.raises(DataDirError, match="CORD-19 sample files missing"):
        data.cord19_sample_paths()
