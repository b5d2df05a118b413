"""Atomic file output: every artifact is written beside its destination, then renamed into place,
so a crash never leaves a half-written file that loads as valid."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError, ModelFormatError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array, allow_pickle=False)


def atomic_save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle only


def check_output_free(path: str | os.PathLike, overwrite: bool, *, kind: str = "directory") -> None:
    """A ``ConfigError`` unless ``path`` may become an output ``kind`` ("directory" or "file"): it must
    not exist (an empty directory may), unless ``overwrite``; and never be of the other kind."""
    path = Path(path)
    if kind == "directory" and path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a directory")
    if kind == "file" and path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a file name")
    if path.exists() and not overwrite and (kind == "file" or any(path.iterdir())):
        raise ConfigError(
            f"{path}: output {kind} exists{' and is not empty' if kind == 'directory' else ''} (use --overwrite)"
        )


_HELD: dict[Path, tuple[int, int]] = {}  # lock path -> (descriptor, depth): this process's locks


@contextlib.contextmanager
def output_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold ``.NAME.lock`` beside ``path`` while this run owns ``path``: a second run (another process)
    that wants it fails at once with "another run is using PATH". Re-entrant within a process."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent.resolve() / f".{path.name}.lock"
    if lock in _HELD:
        fd, depth = _HELD[lock]
        _HELD[lock] = (fd, depth + 1)
    else:
        import fcntl  # POSIX; imported here so that the module loads elsewhere

        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:  # name the directory that cannot be written, not our lock file
            raise OSError(exc.errno, exc.strerror, str(path.parent)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"{path}: another run is using it (its lock is {lock})") from None
        _HELD[lock] = (fd, 1)
    try:
        yield
    finally:
        fd, depth = _HELD[lock]
        if depth > 1:
            _HELD[lock] = (fd, depth - 1)
        else:
            del _HELD[lock]
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory; it replaces ``path`` when the block succeeds.

    ``path`` is locked meanwhile (``output_lock``), and checked again before the final rename: an
    output that appeared in between is replaced only with ``overwrite``. Temporary directories that
    killed runs left for ``path`` go first: holding the lock, no live run owns them.
    """
    path = Path(path)
    check_output_free(path, overwrite)
    with output_lock(path):
        stale = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")  # as mkdtemp names them below
        for left in path.parent.iterdir():
            if stale.fullmatch(left.name) and left.is_dir():
                shutil.rmtree(left, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes the directory private
            check_output_free(path, overwrite)
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextlib.contextmanager
def made_directory(path: Path) -> Iterator[Path]:
    """Create ``path`` (and its parents) for the block; if the block fails and leaves it empty, remove
    it again: a failed run leaves no empty folder behind."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        with contextlib.suppress(OSError):
            path.rmdir()  # only if empty
        raise


def close_inherited_locks() -> None:
    """In a forked child process: close the lock files it inherited, so that no lock outlives the run
    that took it (a lock is released only when its last descriptor closes)."""
    for fd, _ in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


@contextlib.contextmanager
def atomic_output_file(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """``atomic_path`` for a file a command was asked to write: refused if it exists (unless
    ``overwrite``), checked before work starts and again at the rename, locked meanwhile."""
    path = Path(path)
    check_output_free(path, overwrite, kind="file")
    with output_lock(path), atomic_path(path) as tmp:
        yield tmp
        check_output_free(path, overwrite, kind="file")


def check_figure_format(path: str | os.PathLike) -> None:
    """A ``ConfigError`` unless matplotlib can write ``path``'s suffix (.png, .svg, .pdf, ...)."""
    from matplotlib.figure import Figure

    suffix = Path(path).suffix.lstrip(".").lower()
    formats = Figure().canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ConfigError(
            f"{path}: cannot write a .{suffix} image; use one of {', '.join('.' + f for f in sorted(formats))}"
        )


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save a matplotlib Figure atomically, in the format its suffix names (.png, .svg, .pdf)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    return path


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFormatError(f"{path}: missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{path}: not valid JSON ({exc})") from None
