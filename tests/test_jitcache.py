"""Numba's kernel cache falls back to a writable place, or to none, never to an import error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cordswivel.jitcache import choose_cache

NOWHERE = Path("/proc/cordswivel-no-such-package")  # not writable, not even by root


def test_numba_s_own_place_first_then_the_user_cache_then_a_private_temporary_folder(tmp_path, monkeypatch):
    kernels = tmp_path / "pkg"
    kernels.mkdir()
    environ = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert choose_cache(environ, kernels) and "NUMBA_CACHE_DIR" not in environ  # beside the package
    assert choose_cache(environ, NOWHERE)
    assert environ["NUMBA_CACHE_DIR"] == str(tmp_path / "xdg" / "cordswivel" / "numba")
    assert choose_cache(environ, NOWHERE)  # as given: a NUMBA_CACHE_DIR set before is kept
    environ = {"XDG_CACHE_HOME": "/proc/no-cache"}
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert choose_cache(environ, NOWHERE)
    private = tmp_path / "tmp" / f"cordswivel-numba-{os.getuid()}"
    assert environ["NUMBA_CACHE_DIR"] == str(private) and private.stat().st_mode & 0o777 == 0o700


def test_a_shared_temporary_folder_someone_else_could_write_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    planted = tmp_path / f"cordswivel-numba-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    environ = {"XDG_CACHE_HOME": "/proc/no-cache"}
    assert not choose_cache(environ, NOWHERE) and "NUMBA_CACHE_DIR" not in environ
    assert not choose_cache({"NUMBA_CACHE_DIR": "/proc/no-cache"}, NOWHERE)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as another user")
def test_an_unprivileged_user_with_no_writable_home_counts(tmp_path):
    """The package (owned by root) is read-only to user nobody, whose home does not exist."""
    shared = Path(tempfile.mkdtemp(prefix="cordswivel-jitcache-"))
    try:
        shared.chmod(0o777)
        (shared / "tmp").mkdir(mode=0o777)
        (shared / "tmp").chmod(0o777)
        (shared / "corpus.txt").write_text("a b c a b\nb c a\n" * 20)
        env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "TMPDIR": str(shared / "tmp")}
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "cordswivel.cli"]
            + ["-q", "cooccur", str(shared / "corpus.txt"), "--out", str(shared / "out"), "--min-count", "1"],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=shared,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert (shared / "out" / "vocab.tsv").read_text().splitlines()[0].startswith("a\t")
        assert (shared / "tmp" / "cordswivel-numba-65534").is_dir()  # the kernels were cached there
    finally:
        shutil.rmtree(shared, ignore_errors=True)
