"""The explorer: one or more models behind a JSON API and a local page (``cordswivel serve``).

Takes model directories (and optionally a SciCite classifier); gives ``Explorer``, the queries behind
the API (``backend``), and the Starlette app and server with the page in ``static/`` (``serve``).
Names load lazily: Starlette and TensorFlow.
"""

from typing import Any

from ..lazy import lazy_attribute

_LAZY = {"Explorer": "backend", "model_names": "backend", "create_app": "serve", "run": "serve"}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
