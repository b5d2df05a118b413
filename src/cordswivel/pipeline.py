"""Corpus -> co-occurrence shards -> Swivel vectors -> model directory, with resumable runs.

A run building ``OUT`` works in ``OUT.partial/`` (co-occurrence shards counted for it, training
checkpoints); the model appears at ``OUT`` only when complete, and the work directory is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .cooccur import CooccurConfig, CooccurrenceShards, count_cooccurrences
from .corpus import open_corpus
from .errors import ConfigError
from .fileio import read_json
from .module import TextEmbedding
from .swivel import CHECKPOINT_STATE, SwivelConfig, SwivelTrainer

log = logging.getLogger(__name__)


def work_dir_for(out_dir: str | os.PathLike) -> Path:
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".partial")


def train_embeddings(out_dir: str | os.PathLike, *, corpus: Iterable[str | os.PathLike] | None = None,
                     cooccur_dir: str | os.PathLike | None = None,
                     cooccur_config: CooccurConfig = CooccurConfig(),
                     swivel_config: SwivelConfig = SwivelConfig(), workers: int | None = None,
                     scheduler: str | None = None, memory_limit: int | str | None = None,
                     on_error: str = "raise", resume: bool = False, overwrite: bool = False,
                     devices: list[str] | None = None,
                     count_progress: Callable | None = None,
                     epoch_progress: Callable | None = None) -> TextEmbedding:
    """Train Swivel embeddings from corpus files or from counted shards, and save the model."""
    if (corpus is None) == (cooccur_dir is None):
        raise ConfigError("give either corpus paths or a co-occurrence directory, not both")
    swivel_config.validate()
    cooccur_config.validate()
    out_dir, work = Path(out_dir), work_dir_for(out_dir)
    if out_dir.exists() and not overwrite and any(out_dir.iterdir()):
        raise ConfigError(f"{out_dir}: output directory exists and is not empty (use --overwrite)")
    if work.exists() and not resume:
        done = read_json(work / CHECKPOINT_STATE)["epoch"] if (work / CHECKPOINT_STATE).exists() else 0
        raise ConfigError(f"{work} holds an interrupted run ({done} of {swivel_config.epochs} epochs "
                          f"done): add --resume to continue it, or delete it to start afresh")
    work.mkdir(parents=True, exist_ok=True)

    if cooccur_dir is None:
        cooccur_dir = work / "cooccurrence"
        if not (cooccur_dir / "config.json").exists():
            stats = count_cooccurrences(open_corpus(corpus, text_fields=cooccur_config.text_fields),
                                        cooccur_dir, cooccur_config, workers=workers, scheduler=scheduler,
                                        memory_limit=memory_limit, on_error=on_error,
                                        overwrite=True, progress=count_progress)
            log.info("counted %d tokens, vocabulary %d, %d non-zero cells in %.1f s",
                     stats.tokens, stats.vocab_size, stats.nnz, stats.seconds)
    shards = CooccurrenceShards(cooccur_dir)
    if corpus is not None and shards.config != cooccur_config:
        raise ConfigError(f"{work}: the interrupted run counted with other settings ({shards.config}); "
                          f"resume with the same settings, or delete it to start afresh")
    trainer = SwivelTrainer(swivel_config, devices=devices).fit(shards, work, resume=resume, progress=epoch_progress)

    table = np.vstack([trainer.vectors_, np.zeros((1, swivel_config.embedding_dim), np.float32)])
    config = {"training": asdict(swivel_config), "cooccurrence": shards.meta["config"],
              "corpus": {**shards.stats, "paths": shards.meta.get("corpus", [])},
              "training_seconds": float(sum(trainer.epoch_seconds_)),
              "final_loss": float(trainer.losses_[-1])}
    loss_table = "epoch\tloss\tseconds\n" + "".join(
        f"{k}\t{loss:.6f}\t{sec:.2f}\n"
        for k, (loss, sec) in enumerate(zip(trainer.losses_, trainer.epoch_seconds_), start=1))
    embedding = TextEmbedding(shards.vocab, table, lowercase=shards.config.lowercase, config=config)
    embedding.save(out_dir, overwrite=overwrite, extra_files={"training_loss.tsv": loss_table})
    shutil.rmtree(work, ignore_errors=True)
    return TextEmbedding.load(out_dir)
