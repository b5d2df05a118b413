"""Memory budget and runners: sizes as Dask reads them, shares that add up, the same results anywhere,
and a signal while the workers start stops them all."""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import threading
import time

import pytest

from cordswivel.counting.execution import PROCESS_BYTES, Budget, parse_size
from cordswivel.errors import ConfigError

from helpers import children_of


def test_memory_limit_sizes():
    assert parse_size("1GB") == 10**9 and parse_size("2GiB") == 2 << 30 and parse_size(4096) == 4096
    for bad in ("lots", "0", "-1MB"):
        with pytest.raises(ConfigError, match="memory limit"):
            parse_size(bad)


def test_budget_shares_add_up_to_the_limit():
    limit = 4 << 30
    budget = Budget.share(limit, workers=4)
    assert budget.worker_bytes * 4 + 5 * PROCESS_BYTES <= limit
    assert budget.dense_size(2048) ** 2 * 8 <= budget.worker_bytes // 4
    assert (
        budget.round_keys() * 16 <= budget.worker_bytes // 8 and budget.spill_pairs() * 16 <= budget.worker_bytes // 2
    )
    tiny = Budget.share(100 << 20, workers=2)  # less than the processes need: a quarter each still
    assert tiny.worker_bytes == (100 << 20) // 4 // 2 and tiny.round_keys() >= 1024


def _square(x):
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_runner_gives_results_in_order_and_ticks_progress(workers):
    import dask

    from cordswivel.counting.execution import runner

    ticks = []

    class Bar:
        def update(self, n):
            ticks.append(n)

        def close(self):
            ticks.append("closed")

    with runner(workers=workers, scheduler=None, progress=lambda label, total: Bar()) as run:
        assert run.workers == workers
        assert run.compute([dask.delayed(_square)(k) for k in range(5)], label="squares") == (0, 1, 4, 9, 16)
    assert ticks == [1] * 5 + ["closed"]


def _note_pid(path):
    with open(path, "a") as handle:
        handle.write(f"{os.getpid()}\n")


@pytest.mark.parametrize("workers", [1, 2])
def test_prepare_runs_the_setup_in_the_workers_before_the_next_tasks(workers, tmp_path):
    import dask

    from cordswivel.counting.execution import runner

    marks = tmp_path / "marks"
    with runner(workers=workers, scheduler=None) as run:
        run.prepare(functools.partial(_note_pid, marks))
        if workers == 1:  # in this process, at once
            assert marks.read_text().split() == [str(os.getpid())]
        assert run.compute([dask.delayed(_square)(k) for k in range(4)], label="squares") == (0, 1, 4, 9)
    pids = marks.read_text().split()
    assert 1 <= len(pids) <= workers and (workers == 1 or str(os.getpid()) not in pids)


class _Stop(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="holds signals with pthread_sigmask")
def test_a_signal_while_workers_start_arrives_once_the_pool_knows_them_all(monkeypatch):
    from cordswivel.counting import execution

    pools = []

    def start_then_signal(workers, preload):  # the signal lands as the last worker has started
        pools.append(real(workers, preload))
        os.kill(os.getpid(), signal.SIGTERM)
        pools.append("not cut short")
        return pools[0]

    def stop(signum, frame):
        raise _Stop

    real = execution.process_pool
    before = children_of(
        os.getpid(), zombies=False
    )  # e.g. multiprocessing's resource tracker, started by earlier tests
    monkeypatch.setattr(execution, "process_pool", start_then_signal)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(_Stop), execution.runner(workers=2, scheduler=None):
            pytest.fail("the held signal should have stopped the runner before its first task")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert pools[1] == "not cut short" and len(pools[0]._processes or {}) in (0, 2)  # shut down: None
    assert multiprocessing.active_children() == [] and set(children_of(os.getpid(), zombies=False)) <= set(before)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) & {signal.SIGTERM, signal.SIGINT} == set()


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="holds signals with pthread_sigmask")
def test_a_signal_another_thread_takes_is_held_too():
    from cordswivel.counting.execution import signals_held

    sleeper = threading.Thread(target=time.sleep, args=(2,), daemon=True)  # takes process signals too
    sleeper.start()
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append("handled"))
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # long enough for a handler to have run
            seen.append("block done")
        time.sleep(0.1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == ["block done", "handled"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
