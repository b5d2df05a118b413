"""Shared fixtures; the builders they use are in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import RELEASE_SAMPLE

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def release_sample() -> Path:
    if not RELEASE_SAMPLE.is_dir():
        pytest.skip(f"{RELEASE_SAMPLE} is absent (the shared test data sits beside the repository)")
    return RELEASE_SAMPLE
