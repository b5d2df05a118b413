"""Devices and memory: an unknown device is a clear error; training too big for the RAM is refused;
bfloat16 matmuls by default only where the device computes them natively."""

from __future__ import annotations

import os

import pytest

from cordswivel.config import CooccurConfig, SwivelConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.shards import CooccurrenceShards
from cordswivel.errors import ConfigError
from cordswivel.training.devices import check_memory, training_bytes
from cordswivel.training.swivel import SwivelTrainer

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


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx512f", "avx512_bf16"}, "bfloat16"),
        ({"amx_bf16", "amx_tile"}, "bfloat16"),
        ({"avx2", "avx512f"}, "float32"),
    ],
)
def test_auto_precision_is_bfloat16_only_where_the_cpu_computes_it(monkeypatch, flags, expected):
    from cordswivel.training import devices

    monkeypatch.setattr(devices, "cpu_flags", lambda: flags)
    assert devices.matmul_precision("auto", ["/cpu:0"]) == expected
    assert devices.matmul_precision("float32", ["/cpu:0"]) == "float32"
    assert devices.matmul_precision("bfloat16", ["/cpu:0"]) == "bfloat16"


def test_cpu_flags_are_this_machines():
    from cordswivel.training.devices import cpu_flags

    if not os.path.exists("/proc/cpuinfo"):
        assert cpu_flags() == set()
        return
    with open("/proc/cpuinfo") as handle:
        line = next(line for line in handle if line.startswith("flags"))
    assert cpu_flags() == set(line.split(":")[1].split()) and "fpu" in cpu_flags()


def test_training_records_the_precision_it_used(planted_shards, tmp_path, monkeypatch):
    from cordswivel.training import devices

    monkeypatch.setattr(devices, "cpu_flags", lambda: set())
    _, shards = planted_shards
    trainer = SwivelTrainer(SwivelConfig(embedding_dim=4, epochs=1), devices=["/cpu:0"]).fit(shards, tmp_path / "w")
    assert trainer.precision_ == "float32"
