"""The command line's logging: what each verbosity shows, and a filter for TensorFlow's C++ log lines.

Python API and notebook users get the filter too where it matters most: ``quiet_tensorflow_import``
(installed when cordswivel is imported, unless TensorFlow already is) runs TensorFlow's first import,
and its CUDA probe, inside ``StderrFilter``, so its start-up lines (absl's preamble, the oneDNN and
CUDA notices, "failed call to cuInit" on machines without a GPU) never reach them.

TensorFlow's native code writes its INFO lines (and, on machines without a GPU, an error-level
"failed call to cuInit") straight to file descriptor 2, before and regardless of
``TF_CPP_MIN_LOG_LEVEL``. ``StderrFilter`` puts a pipe on descriptor 2 and copies everything to the
real stderr except complete lines in that format, so progress bars and our own messages pass
unchanged while TensorFlow's chatter is dropped. ``-v`` shows everything.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import threading
from types import ModuleType, TracebackType
from typing import Any

# "I0000 00:00:1796175177.410639    9367 port.cc:153] ..." and absl's one-line preamble
NATIVE_LOG = re.compile(rb"(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w.\-/]+:\d+\] |WARNING: All log messages before absl::)")
_PREAMBLE = b"WARNING: All log messages before absl::"


def _prefixes(literal: bytes) -> bytes:
    """A pattern matching every non-empty prefix of ``literal``."""
    pattern = b""
    for k in reversed(range(1, len(literal))):
        pattern = b"(?:" + re.escape(literal[k : k + 1]) + pattern + b")?"
    return re.escape(literal[:1]) + pattern


# what the start of such a line can look like while the rest is still to come
_PARTIAL = re.compile(
    rb"[IWEF]\d{0,4}(?: [\d:.]*(?: +\d*(?: [\w.\-/]*(?::\d*\]?)?)?)?)?|"
    + _prefixes(_PREAMBLE)
    + rb"|"
    + re.escape(_PREAMBLE)
    + rb".*"
)
QUIET_LIBRARIES = (
    "tensorflow",
    "absl",
    "h5py",
    "distributed",
    "numba",
    "matplotlib",
    "uvicorn.error",
    "openTSNE",  # the explorer's map layouts log every run at INFO
    "umap",
)


def configure(verbosity: int) -> None:
    """Logging for one run: -1 (``-q``) warnings only, 0 our INFO lines and the libraries' warnings,
    1 (``-v``) everything at INFO, TensorFlow's native logs included."""
    logging.basicConfig(
        level=logging.WARNING if verbosity < 0 else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if verbosity > 0 else logging.WARNING)
    if verbosity > 0:
        remove_quiet_tensorflow_import(verbose=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbosity > 0 else "2")


def drop_native_logs(data: bytes, held: bytes) -> tuple[bytes, bytes]:
    """(bytes to write now, bytes to hold) for ``data`` arriving after ``held``: native log lines are
    dropped, also where one follows an unfinished line (a progress bar) in the same read; the tail
    is held only while it could still become one."""
    out = bytearray()
    lines = (held + data).split(b"\n")
    for line in lines[:-1]:
        match = NATIVE_LOG.search(line)
        out += line + b"\n" if match is None else line[: match.start()]
    last = lines[-1]
    for start in (m.start() for m in re.finditer(rb"[IWEF]", last)):
        if NATIVE_LOG.match(last, start) or _PARTIAL.fullmatch(last, start):
            return bytes(out + last[:start]), last[start:]
    return bytes(out + last), b""


class StderrFilter:
    """Context manager: descriptor 2 goes through ``drop_native_logs`` to the real stderr."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StderrFilter:
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
            read_end, write_end = os.pipe()
        except OSError:  # no descriptor 2 to filter: leave things as they are
            self._saved = None
            return self
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, args=(read_end, self._saved), daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _pump(read_end: int, target: int) -> None:
        held = b""
        while chunk := os.read(read_end, 65536):
            out, held = drop_native_logs(chunk, held)
            if out:
                os.write(target, out)
        if held and not NATIVE_LOG.match(held):  # the end of the stream: an unfinished line of ours
            os.write(target, held)
        os.close(read_end)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._saved is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # closes the pipe's last write end in this process: the pump drains and stops
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._saved)
        self._saved = None


class _QuietImport(importlib.abc.MetaPathFinder):
    """A finder that hands TensorFlow's first import to ``_QuietLoader``, then steps aside."""

    level: str | None = None  # the TF_CPP_MIN_LOG_LEVEL it set, if it set one

    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None) -> Any:
        if fullname != "tensorflow":
            return None
        remove_quiet_tensorflow_import()
        spec = importlib.util.find_spec("tensorflow")
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run inside ``StderrFilter`` together with the CUDA probe."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with StderrFilter():
            self._loader.exec_module(module)
            module.config.list_physical_devices("GPU")  # the probe that logs cuInit; devices stay configurable

    def __getattr__(self, name: str) -> Any:  # resource readers and the like: the real loader's
        return getattr(self._loader, name)


_QUIET = _QuietImport()


def quiet_tensorflow_import() -> None:
    """Filter TensorFlow's start-up lines from stderr when it is first imported (see the module
    docstring), and its later C++ INFO lines (``TF_CPP_MIN_LOG_LEVEL`` 1, unless set)."""
    if "tensorflow" not in sys.modules and _QUIET not in sys.meta_path:
        if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = _QUIET.level = "1"
        sys.meta_path.insert(0, _QUIET)


def remove_quiet_tensorflow_import(*, verbose: bool = False) -> None:
    """Step aside once TensorFlow is imported; ``verbose`` (``-v``): let its lines through, the log
    level this module set undone."""
    if _QUIET in sys.meta_path:
        sys.meta_path.remove(_QUIET)
    if verbose and _QUIET.level is not None and os.environ.get("TF_CPP_MIN_LOG_LEVEL") == _QUIET.level:
        del os.environ["TF_CPP_MIN_LOG_LEVEL"]
