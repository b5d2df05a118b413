"""Every setting of every stage and its default, in one place: one frozen dataclass per stage.

The CLI takes its defaults from these classes, and every output directory records the settings that
made it (``to_dict``) so that loaders can rebuild them (``from_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from .errors import ConfigError

DEFAULT_TEXT_FIELDS = ("title", "abstract", "text", "string")  # JSON lines fields read as text
ON_ERROR_CHOICES = ("raise", "skip")  # what a bad record does
OPTIMIZERS = ("adagrad", "rmsprop", "sgd")
PRECISIONS = ("auto", "float32", "bfloat16")  # operand types of Swivel's matmuls; auto: bfloat16 where native
# Counting refuses more shard-pair blocks than this (one file each; they grow as (V / shard_size)^2):
# 256 x 256 shards, where the published module has 33 x 33.
MAX_BLOCKS = 256 * 256

_Config = TypeVar("_Config", bound="_Settings")


class _Settings:
    """JSON round trip shared by the settings classes (tuples are stored as lists)."""

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[_Config], data: dict[str, Any]) -> _Config:
        known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} settings: {', '.join(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def _require_positive(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class CooccurConfig(_Settings):
    """Settings of the vocabulary and co-occurrence passes."""

    min_count: int = 5  # keep tokens seen at least this often (the module used 50)
    max_vocab: int | None = None  # cap on the vocabulary before truncation to shards
    window: int = 10  # co-occurrence window, tokens each side
    shard_size: int = 4096  # rows per shard; the vocabulary is a multiple of it
    lowercase: bool = False  # lowercase tokens (the published module is cased)
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS  # JSON lines fields read as text
    dense_size: int = 2048  # most frequent words counted in a dense matrix per worker

    def validate(self) -> None:
        self._require_positive("min_count", "window", "shard_size", "dense_size")
        if self.max_vocab is not None and self.max_vocab < self.shard_size:
            raise ConfigError(f"max-vocab {self.max_vocab} is smaller than one shard ({self.shard_size})")


@dataclass(frozen=True)
class SwivelConfig(_Settings):
    """Settings of Swivel training."""

    embedding_dim: int = 128  # vector size
    epochs: int = 40  # at most this many passes over all shard-pair blocks
    tolerance: float = 0.005  # stop once an epoch lowers the loss by less than this fraction (0: never)
    optimizer: str = "adagrad"  # adagrad (original Swivel), rmsprop (distributed Swivel) or sgd
    learning_rate: float = 1.0  # Swivel used 1.0 with Adagrad, 0.1 with RMSProp
    confidence_base: float = 0.1  # confidence(x) = base + scale * x ** exponent
    confidence_scale: float = 0.25
    confidence_exponent: float = 0.5
    seed: int = 0  # initialisation and block order
    precision: str = "auto"  # matmul operands: bfloat16 where the devices compute it natively, else float32

    def validate(self) -> None:
        if self.embedding_dim < 1:
            raise ConfigError(f"dim must be positive, got {self.embedding_dim}")
        self._require_positive("epochs")
        if not 0 <= self.tolerance < 1:
            raise ConfigError(f"tolerance must be in [0, 1), got {self.tolerance}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning rate must be positive, got {self.learning_rate}")


@dataclass(frozen=True)
class ClassifierConfig(_Settings):
    """Settings of the TF-Hub tutorial's SciCite classifier."""

    epochs: int = 35
    batch_size: int = 32
    shuffle_buffer: int = 10_000
    learning_rate: float = 0.001  # Adam's default, as the tutorial
    trainable: bool = False  # fine-tune the embedding matrix
    seed: int = 0

    def validate(self) -> None:
        self._require_positive("epochs", "batch_size", "shuffle_buffer")


# The demo's settings for the 3.6 M-token bundled sample: shards of 1,024 words give every row 17
# updates per epoch (4,096-word shards give only 4, and Adagrad then needs far more epochs), min count
# 10 keeps a 17,408-word cased vocabulary, and training runs until an epoch improves the loss by less
# than the default tolerance (about 35 epochs, under two minutes on 2 cores), at most 40.
DEMO_COOCCUR = CooccurConfig(min_count=10, window=10, shard_size=1024)
DEMO_SWIVEL = SwivelConfig(embedding_dim=128, epochs=40, seed=0)

HEATMAP_NEIGHBOURS = 8  # neighbours listed per heatmap term
NEIGHBOURS = 10  # neighbours per word of `cordswivel neighbors`


@dataclass(frozen=True)
class ServeConfig(_Settings):
    """Settings of ``cordswivel serve``: where it listens and what one request may ask for."""

    host: str = "127.0.0.1"  # loopback only unless told otherwise
    port: int = 8000
    max_body_bytes: int = 1_000_000  # larger request bodies get 413
    max_texts: int = 1_000  # texts (or terms) per request
    max_neighbours: int = 1_000  # k of /api/neighbors
    max_map_words: int = 50_000  # n of /api/map
    map_words: int = 1_000  # n of /api/map by default
    completions: int = 12  # words /api/complete returns by default

    def validate(self) -> None:
        self._require_positive("max_body_bytes", "max_texts", "max_neighbours", "max_map_words", "map_words")
        if not 0 <= self.port < 65536:
            raise ConfigError(f"port must be in [0, 65535], got {self.port}")
