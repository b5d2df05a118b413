"""Peak memory of this process and its descendants, sampled from /proc (Linux)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children.get(p, []))
    return pids


def _kib(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.rss`` / ``peak.pss`` in bytes.

    rss: the largest sum of resident set sizes over the process tree (pages shared after fork count
    once per process, so it overstates); pss: the largest sum of proportional set sizes (shared pages
    split between their processes: the memory the tree really held).
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.rss = self.pss = 0
        self._stop = threading.Event()

    def sample(self) -> None:
        rss = pss = 0
        for pid in _tree(os.getpid()):
            rss += _kib(f"/proc/{pid}/status", "VmRSS:")
            pss += _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
        self.rss, self.pss = max(self.rss, rss * 1024), max(self.pss, pss * 1024)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
