"""Memory budget and runners: sizes as Dask reads them, shares that add up, and the same results anywhere."""

from __future__ import annotations

import pytest

from cordswivel.errors import ConfigError
from cordswivel.execution import PROCESS_BYTES, Budget, parse_size


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
        budget.round_keys() * 16 <= budget.worker_bytes // 8 and budget.spill_pairs() * 32 <= budget.worker_bytes // 2
    )
    tiny = Budget.share(100 << 20, workers=2)  # less than the processes need: a quarter each still
    assert tiny.worker_bytes == (100 << 20) // 4 // 2 and tiny.round_keys() >= 1024


def _square(x):
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_runner_gives_results_in_order_and_ticks_progress(workers):
    import dask

    from cordswivel.execution import runner

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
