"""Names a stage's package re-exports without importing them: the modules behind them load TensorFlow,
matplotlib or Starlette (seconds), which a command that needs none of them should not pay for."""

from __future__ import annotations

import importlib
from typing import Any


def lazy_attribute(package: str, exports: dict[str, str], name: str) -> Any:
    """A package's ``__getattr__``: ``exports`` maps each lazily re-exported name to its module."""
    if name not in exports:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
