"""Where and within how much memory the corpus passes run: the memory budget, and Dask on local
worker processes or on a dask.distributed cluster.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.local
import dask.multiprocessing
from dask.callbacks import Callback
from dask.utils import parse_bytes

from ..errors import ConfigError, CordswivelError
from ..fileio import close_inherited_locks

log = logging.getLogger(__name__)

PROCESS_BYTES = 200 << 20  # one Python process with NumPy, Numba and Dask loaded, before any data

Progress = Callable[[str, int], Any]  # (label, total) -> a tqdm-like bar (update, close)


def parse_size(text: str | int) -> int:
    """Bytes in ``text``, read as Dask reads sizes: ``512MB``, ``1.5GB``, ``2GiB``, ``100000``."""
    try:
        size = int(parse_bytes(text))
    except (ValueError, TypeError):
        raise ConfigError(f"memory limit {text!r} is not a size such as 512MB or 2GB") from None
    if size <= 0:
        raise ConfigError(f"memory limit must be positive, got {text!r}")
    return size


def default_memory_limit() -> int:
    """Half of this machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


@dataclass(frozen=True)
class Budget:
    """How one worker spends its share of the memory limit (bytes)."""

    worker_bytes: int

    @classmethod
    def share(cls, limit: int, workers: int) -> Budget:
        """Each worker's share of ``limit`` once this process and the workers themselves are paid for."""
        data = limit - (workers + 1) * PROCESS_BYTES
        if data < limit // 4:
            log.warning(
                "a memory limit of %d MB leaves little room for counting data once %d processes of "
                "about %d MB have started; counting with small buffers",
                limit >> 20,
                workers + 1,
                PROCESS_BYTES >> 20,
            )
        return cls(max(data, limit // 4) // workers)

    def round_keys(self) -> int:
        """Pair keys counted between two sorts: a key and its sort scratch take 16 bytes; an eighth of
        the share, and at most 16 M keys (a larger buffer sorts no faster per key)."""
        return int(min(max(self.worker_bytes // 8 // 16, 1024), 1 << 24))

    def spill_pairs(self) -> int:
        """Summed pairs held before a spill: 16 bytes each, half of the share (they spill in pieces
        through the key buffer)."""
        return max(self.worker_bytes // 2 // 16, 1024)

    def dense_size(self, wanted: int) -> int:
        """Side of the dense top-word triangle: at most a quarter of the share (8 bytes per side squared:
        its uint32 cells and, were every one to overflow, their int64 overflow cells)."""
        return max(1, min(wanted, math.isqrt(self.worker_bytes // 4 // 8)))

    def merge_entries(self) -> int:
        """Block keys summed at once in pass 3 (about 48 bytes each while sorted and summed)."""
        return max(self.worker_bytes // 48, 256)

    def partition_bytes(self) -> int:
        """Corpus bytes per partition: a quarter of the share (tokenizing holds about 1-2 bytes per
        byte of text, and a gzipped byte is about 3 of text)."""
        return max(self.worker_bytes // 4, 1 << 16)


def process_pool(workers: int, preload: Callable[[], None] | None = None) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool for Dask's local scheduler.

    Fork starts workers in milliseconds with what ``preload`` loaded (compiled kernels) already in
    memory; it is unsafe once TensorFlow has started its threads in this process, so then workers are
    spawned instead.
    """
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and "tensorflow" not in sys.modules else "spawn"
    if method == "fork" and preload is not None:
        preload()
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_start_worker, initargs=(os.getpid(),)
    )
    for _ in range(workers):  # start the workers now, not inside the first task's submit
        pool.submit(int)
    return pool


_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent exits (Linux)
_HANDLERS: dict[int, Any] = {}  # the handlers a held block replaced, for workers forked inside it


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends (then they arrive), e.g. while workers start: a
    worker forked as one lands would be unknown to the pool, so left running, and the exception
    raised inside a callback from Numba's compiler would be swallowed. Blocked in this thread (and
    so in threads started meanwhile); one that another thread takes is recorded and raised again."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    for held in _HELD_SIGNALS:
        replaced = signal.signal(held, lambda signum, frame: pending.append(signum))
        _HANDLERS[held] = signal.SIG_DFL if replaced is None else replaced  # None: set outside Python
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        for signum, handler in _HANDLERS.items():
            signal.signal(signum, handler)
        _HANDLERS.clear()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # the blocked ones arrive now
        for arrived in dict.fromkeys(pending):
            signal.raise_signal(arrived)


def _start_worker(parent: int) -> None:
    """In a new worker: die with the driver, hold none of its output locks, and take the signals it
    held while starting the worker (``signals_held``) with the handlers they had. A driver killed by
    SIGKILL runs no cleanup: without this its workers lived on, holding the output lock."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the driver died before the line above took effect
        os._exit(1)
    close_inherited_locks()
    for signum, handler in _HANDLERS.items():
        signal.signal(signum, handler)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD_SIGNALS)


class Runner:
    """Runs lists of Dask delayed tasks: on a dask.distributed ``client``, else on a local process
    pool (threads are of no use: the work holds the GIL), else in this process (one worker)."""

    def __init__(
        self,
        workers: int,
        *,
        pool: concurrent.futures.Executor | None = None,
        client: Any = None,
        progress: Progress | None = None,
    ) -> None:
        self.workers, self.pool, self.client, self.progress = workers, pool, client, progress

    def prepare(self, setup: Callable[[], None]) -> None:
        """Start ``setup`` (e.g. loading the next pass's kernels) on each local worker and return at
        once, so that it runs while this process works; tasks computed next queue behind it. In this
        process it runs now; cluster workers do without (they load what they need when first used)."""
        if self.pool is not None:
            for _ in range(self.workers):  # an idle worker takes one; a worker that takes two loads once
                self.pool.submit(setup)
        elif self.client is None:
            setup()

    def compute(self, tasks: Sequence[Any], label: str) -> tuple:
        """The results of ``tasks``, in order; a tick of the progress bar per finished task."""
        bar = self.progress(label, len(tasks)) if self.progress else None
        keys = {t.key for t in tasks}

        class Tick(Callback):
            def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
                if bar is not None and key in keys:
                    bar.update(1)

        try:
            if self.client is not None:
                from distributed import as_completed  # lazy: distributed is slow to import, rarely used

                futures = self.client.compute(list(tasks))
                for _ in as_completed(futures):
                    if bar is not None:
                        bar.update(1)
                return tuple(self.client.gather(futures))
            # The schedulers as functions: named ones make Dask import dask.distributed (0.1-0.3 s).
            with Tick():
                if self.workers <= 1:
                    return dask.compute(*tasks, scheduler=dask.local.get_sync)
                return dask.compute(*tasks, scheduler=dask.multiprocessing.get, pool=self.pool, chunksize=1)
        except CordswivelError as exc:
            # Dask's process scheduler wraps a worker's exception to add the remote traceback to its
            # message; our errors are one line, so raise the original.
            raise getattr(exc, "exception", exc) from None
        finally:
            if bar is not None:
                bar.close()


@contextlib.contextmanager
def runner(
    *,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None = None,
    preload: Callable[[], None] | None = None,
) -> Iterator[Runner]:
    """A ``Runner`` on the cluster at ``scheduler``, else on ``workers`` local processes (default:
    all cores); the pool or the cluster connection is closed on exit."""
    client = connect(scheduler) if scheduler else None
    try:
        if client is not None:
            count = max(len(client.scheduler_info().get("workers", {})), 1)
            yield Runner(count, client=client, progress=progress)
            return
        count = workers or os.cpu_count() or 1
        if count <= 1:
            yield Runner(1, progress=progress)
            return
        pool = None
        try:
            with signals_held():  # a Ctrl-C or SIGTERM meanwhile arrives once the pool knows all its workers
                pool = process_pool(count, preload)
            yield Runner(count, pool=pool, progress=progress)
        except BaseException:  # an error, Ctrl-C or SIGTERM: stop the workers now, not after their tasks
            if pool is not None:
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.kill()
                pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    finally:
        if client is not None:
            client.close()


def connect(address: str) -> Any:
    """A dask.distributed client of the scheduler at ``address``."""
    try:
        from distributed import Client  # lazy: distributed is slow to import, rarely used
    except ImportError:
        raise ConfigError("--scheduler needs the 'distributed' package (pip install distributed)") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
