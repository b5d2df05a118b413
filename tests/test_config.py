"""Settings: validation, and the JSON round trip that output directories rely on."""

from __future__ import annotations

import json

import pytest

from cordswivel.config import ClassifierConfig, CooccurConfig, SwivelConfig
from cordswivel.errors import ConfigError


@pytest.mark.parametrize(
    "config",
    [
        CooccurConfig(min_count=3, text_fields=("title", "authors"), max_vocab=8192),
        SwivelConfig(embedding_dim=16, optimizer="sgd", learning_rate=0.5),
        ClassifierConfig(epochs=3, trainable=True),
    ],
)
def test_json_round_trip(config):
    data = json.loads(json.dumps(config.to_dict()))
    assert type(config).from_dict(data) == config
    if isinstance(config, CooccurConfig):
        assert data["text_fields"] == ["title", "authors"]


def test_unknown_settings_are_named():
    with pytest.raises(ConfigError, match="unknown SwivelConfig settings: colour"):
        SwivelConfig.from_dict({"colour": 1})


@pytest.mark.parametrize(
    "bad, message",
    [
        (CooccurConfig(window=0), "window must be positive"),
        (CooccurConfig(min_count=0), "min-count must be positive"),
        (CooccurConfig(max_vocab=0), "max-vocab must be positive"),
        (CooccurConfig(shard_size=0), "shard-size must be positive"),
        (SwivelConfig(row_updates=0), "row-updates must be positive"),
        (SwivelConfig(epochs=0), "epochs must be positive"),
        (SwivelConfig(embedding_dim=0), "dim must be positive"),
        (SwivelConfig(optimizer="lbfgs"), "optimizer must be one of adagrad, rmsprop, sgd"),
        (SwivelConfig(learning_rate=0), "learning rate must be positive"),
        (SwivelConfig(tolerance=1.0), r"tolerance must be in \[0, 1\)"),
        (SwivelConfig(precision="float8"), "precision must be one of auto, float32, bfloat16"),
        (ClassifierConfig(batch_size=0), "batch-size must be positive"),
    ],
)
def test_invalid_settings(bad, message):
    with pytest.raises(ConfigError, match=message):
        bad.validate()
