"""The command line's logging: what each verbosity shows, and a filter for TensorFlow's C++ log lines.

TensorFlow's native code writes its INFO lines (and, on machines without a GPU, an error-level
"failed call to cuInit") straight to file descriptor 2, before and regardless of
``TF_CPP_MIN_LOG_LEVEL``. ``StderrFilter`` puts a pipe on descriptor 2 and copies everything to the
real stderr except complete lines in that format, so progress bars and our own messages pass
unchanged while TensorFlow's chatter is dropped. ``-v`` shows everything.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from types import TracebackType

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
QUIET_LIBRARIES = ("tensorflow", "absl", "h5py", "distributed", "numba", "matplotlib", "uvicorn.error")


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
