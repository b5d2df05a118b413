"""Where Numba caches the compiled counting kernels: beside the package where its user may write (Numba's
own choice), else the user's cache folder, else a private folder in the temporary directory, else
nowhere (compiled afresh each run). An installation that is read-only to its user, run with a home
that is not writable (a service account, a container under an arbitrary uid), must still import.

Numba reads ``NUMBA_CACHE_DIR`` when it loads: ``cordswivel.counting`` imports this module first.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

KERNELS = Path(__file__).parent / "counting"  # the modules whose kernels Numba caches


def _writable(directory: Path) -> bool:
    """Whether files can be created in ``directory``, creating it (and its parents) if need be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _private(directory: Path) -> bool:
    """A folder of ours that no one else may write: in a shared temporary directory another user could
    otherwise plant compiled code for us to load."""
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and os.access(directory, os.W_OK | os.X_OK)
    )


def choose_cache(environ: MutableMapping[str, str] = os.environ, kernels: Path = KERNELS) -> bool:
    """Set ``NUMBA_CACHE_DIR`` in ``environ`` where Numba's own place is not writable; False when no
    place is (the kernels are then compiled in every run)."""
    if environ.get("NUMBA_CACHE_DIR"):
        return _writable(Path(environ["NUMBA_CACHE_DIR"]))
    pycache = kernels / "__pycache__"
    if _writable(pycache) if pycache.exists() else os.access(kernels, os.W_OK | os.X_OK):
        return True
    home_cache = Path(environ.get("XDG_CACHE_HOME") or Path("~").expanduser() / ".cache")
    if home_cache.is_absolute() and _writable(home_cache / "cordswivel" / "numba"):
        environ["NUMBA_CACHE_DIR"] = str(home_cache / "cordswivel" / "numba")
        return True
    private = Path(tempfile.gettempdir()) / f"cordswivel-numba-{os.getuid()}"
    if _private(private):
        environ["NUMBA_CACHE_DIR"] = str(private)
        return True
    return False


CACHE = choose_cache()  # the ``cache`` flag of every Numba kernel
