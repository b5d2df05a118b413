"""The training stage: co-occurrence shards -> Swivel vectors.

Takes ``CooccurrenceShards`` and a ``SwivelConfig``; gives the trained vectors (W + W~ per word) with
the loss per epoch and why training stopped, checkpointing so that a killed run resumes.
Modules: ``swivel`` (loss, optimiser, trainer), ``stopping`` (training length, stopping rule),
``devices`` (which devices, matmul precision, memory check). The end-to-end run, corpus to saved
model, is ``cordswivel.pipeline``.
"""

from .devices import distribution_strategy, matmul_precision
from .swivel import SwivelTrainer

__all__ = ["SwivelTrainer", "distribution_strategy", "matmul_precision"]
