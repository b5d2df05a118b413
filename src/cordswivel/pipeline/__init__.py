"""End-to-end runs that join the stages: corpus -> co-occurrence shards -> Swivel -> saved model
(``train``: ``run_training``, resumable), and the demo, which then runs the tutorial and writes its
report (``demo``, ``report``).
"""

from typing import Any

from ..lazy import lazy_attribute
from .train import TrainingResult, run_training, train_embeddings

_LAZY = {"run_demo": "demo", "DemoResult": "report", "write_report": "report"}  # matplotlib, TensorFlow
__all__ = ["TrainingResult", "run_training", "train_embeddings", *_LAZY]


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
