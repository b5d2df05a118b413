"""Corpus -> co-occurrence shards -> Swivel vectors -> model directory, with resumable runs.

A run building ``OUT`` works in ``OUT.partial/`` (co-occurrence shards counted for it, training
checkpoints); the model appears at ``OUT`` only when complete, and the work directory is removed.
The model directory's ``training_loss.tsv`` has one ``epoch<TAB>loss<TAB>seconds`` line per epoch and
a last line ``# stopped: REASON`` (converged by the stopping rule, or the maximum number of epochs).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import CooccurConfig, SubwordConfig, SwivelConfig
from ..corpus.reader import open_corpus
from ..counting.cooccur import count_cooccurrences
from ..counting.execution import Progress
from ..counting.shards import CooccurrenceShards
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError
from ..fileio import check_output_free, made_directory, output_lock, read_json
from ..training.swivel import CHECKPOINT_STATE, SwivelTrainer

log = logging.getLogger(__name__)

LOSS_FILE = "training_loss.tsv"


@dataclass(frozen=True)
class TrainingResult:
    """A finished training run: the saved model and how training went."""

    embedding: TextEmbedding
    losses: tuple[float, ...]  # mean block loss per epoch
    epoch_seconds: tuple[float, ...]  # wall time per epoch
    stop_reason: str  # converged by the stopping rule, or the maximum number of epochs reached

    @property
    def seconds(self) -> float:
        return float(sum(self.epoch_seconds))


def work_dir_for(out_dir: str | os.PathLike) -> Path:
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".partial")


def loss_table(losses: Iterable[float], seconds: Iterable[float], stop_reason: str) -> str:
    """The text of ``training_loss.tsv``: a line per epoch, then a ``# stopped:`` line saying why."""
    rows = "".join(
        f"{k}\t{loss:.6f}\t{sec:.2f}\n" for k, (loss, sec) in enumerate(zip(losses, seconds, strict=True), start=1)
    )
    return f"epoch\tloss\tseconds\n{rows}# stopped: {stop_reason}\n"


def run_training(
    out_dir: str | os.PathLike,
    *,
    corpus: Iterable[str | os.PathLike] | None = None,
    cooccur_dir: str | os.PathLike | None = None,
    cooccur_config: CooccurConfig = CooccurConfig(),
    swivel_config: SwivelConfig = SwivelConfig(),
    subword_config: SubwordConfig = SubwordConfig(),
    workers: int | None = None,
    scheduler: str | None = None,
    memory_limit: int | str | None = None,
    on_error: str = "raise",
    resume: bool = False,
    overwrite: bool = False,
    devices: list[str] | None = None,
    count_progress: Progress | None = None,
    epoch_progress: Callable[[int, int], Any] | None = None,
) -> TrainingResult:
    """Train Swivel embeddings from corpus files or from counted shards, fit their subword vectors
    (``subword_config.buckets`` 0: none), save the model at ``out_dir``, and say how training went."""
    if (corpus is None) == (cooccur_dir is None):
        raise ConfigError("give CORPUS paths or --cooccur DIR (one of them)")
    swivel_config.validate()
    cooccur_config.validate()
    subword_config.validate()
    out_dir, work = Path(out_dir), work_dir_for(out_dir)
    check_output_free(out_dir, overwrite)
    with output_lock(out_dir):  # a second run into OUT (or its OUT.partial) fails at once
        if work.exists() and not resume and any(work.iterdir()):  # an empty one (a run that failed at once) is reused
            done = read_json(work / CHECKPOINT_STATE)["epoch"] if (work / CHECKPOINT_STATE).exists() else 0
            raise ConfigError(
                f"{work} holds an interrupted run ({done} epochs done): add --resume to continue it, "
                f"or delete it to start afresh"
            )
        with made_directory(work):  # a run that fails before writing anything leaves no empty OUT.partial
            opened = None
            if corpus is not None:
                opened = open_corpus(corpus, text_fields=cooccur_config.text_fields, on_error=on_error)
            if cooccur_dir is None:
                cooccur_dir = work / "cooccurrence"
                if not (cooccur_dir / "config.json").exists():
                    assert opened is not None  # CORPUS or --cooccur, checked above
                    stats = count_cooccurrences(
                        opened,
                        cooccur_dir,
                        cooccur_config,
                        workers=workers,
                        scheduler=scheduler,
                        memory_limit=memory_limit,
                        on_error=on_error,
                        overwrite=True,
                        progress=count_progress,
                    )
                    log.info(
                        "counted %d tokens, vocabulary %d, %d non-zero cells in %.1f s",
                        stats.tokens,
                        stats.vocab_size,
                        stats.nnz,
                        stats.seconds,
                    )
            shards = CooccurrenceShards(cooccur_dir)
            counted = shards.config if cooccur_config.shard_size else replace(shards.config, shard_size=None)
            if opened is not None and counted != cooccur_config:
                raise ConfigError(
                    f"{work}: the interrupted run counted with other settings ({shards.config}); "
                    f"resume with the same settings, or delete it to start afresh"
                )
            if opened is not None and sorted(str(s.path) for s in opened.sources) != sorted(shards.corpus_paths):
                raise ConfigError(
                    f"{work}: the interrupted run counted another corpus ({', '.join(shards.corpus_paths)}); "
                    f"resume with the same corpus, or delete it to start afresh"
                )
            trainer = SwivelTrainer(swivel_config, devices=devices).fit(
                shards, work, resume=resume, progress=epoch_progress
            )

            table = np.vstack([trainer.vectors_, np.zeros((1, swivel_config.embedding_dim), np.float32)])
            config = {
                "training": asdict(swivel_config),
                "cooccurrence": shards.config.to_dict(),
                "corpus": {**asdict(shards.stats), "paths": list(shards.corpus_paths)},
                "training_seconds": float(sum(trainer.epoch_seconds_)),
                "final_loss": float(trainer.losses_[-1]),
                "epochs_trained": len(trainer.losses_),
                "stop_reason": trainer.stop_reason_,
                "matmul_precision": trainer.precision_,
            }
            embedding = TextEmbedding(shards.vocab, table, lowercase=shards.config.lowercase, config=config)
            embedding = embedding.with_subwords(subword_config, log=log.info)  # buckets 0: as trained
            embedding.save(
                out_dir,
                overwrite=overwrite,
                extra_files={LOSS_FILE: loss_table(trainer.losses_, trainer.epoch_seconds_, trainer.stop_reason_)},
            )
            shutil.rmtree(work, ignore_errors=True)
            return TrainingResult(
                TextEmbedding.load(out_dir), tuple(trainer.losses_), tuple(trainer.epoch_seconds_), trainer.stop_reason_
            )


def train_embeddings(out_dir: str | os.PathLike, **options: Any) -> TextEmbedding:
    """``run_training``'s model: train Swivel embeddings and return the saved embedding."""
    return run_training(out_dir, **options).embedding
