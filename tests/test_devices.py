"""Devices and memory: an unknown device is a clear error; training too big for the RAM is refused."""

from __future__ import annotations

import os

import pytest

from cordswivel.config import CooccurConfig, SwivelConfig
from cordswivel.cooccur import count_cooccurrences
from cordswivel.corpus import open_corpus
from cordswivel.devices import check_memory, training_bytes
from cordswivel.errors import ConfigError
from cordswivel.shards import CooccurrenceShards
from cordswivel.swivel import SwivelTrainer

from helpers import planted_corpus


@pytest.fixture(scope="module")
def planted_shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    words = planted_corpus(root / "c.txt", units=300)
    count_cooccurrences(
        open_corpus([root / "c.txt"]), root / "cooc", CooccurConfig(min_count=1, window=5, shard_size=8), workers=1
    )
    return words, CooccurrenceShards(root / "cooc")


def test_unknown_device_is_a_clear_error(planted_shards, tmp_path):
    _, shards = planted_shards
    with pytest.raises(ConfigError, match=r"unknown device 'GPU:99'; this machine has .*CPU:0"):
        SwivelTrainer(SwivelConfig(embedding_dim=4, epochs=1), devices=["GPU:99"]).fit(shards, tmp_path)


def test_training_that_cannot_fit_in_memory_is_refused_before_allocating(planted_shards, tmp_path):
    _, shards = planted_shards
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    dim = ram // (len(shards.vocab) * 4 * 4) + 1  # the four tables alone exceed the RAM
    with pytest.raises(ConfigError, match=rf"training {len(shards.vocab)} words x {dim} dimensions needs about"):
        SwivelTrainer(SwivelConfig(embedding_dim=dim, epochs=1)).fit(shards, tmp_path / "work")
    check_memory(len(shards.vocab), 128, shards.shard_size)  # a real size passes
    assert training_bytes(1000, 10, 8) == 2 * 4 * 1000 * 10 * 4 + 6 * 64 * 4
