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
