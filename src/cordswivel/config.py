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
# --shard-size auto. A row update costs V (a s + o / s) seconds for shards of s rows, a s^2 the block's
# matmuls and o a step's fixed cost: least near s = sqrt(o / a), about 1,400 on a 2-core CPU (o = 6 ms,
# 250 GFLOP/s), and within 3% of that from 1,024 to 2,048. Auto takes 1,024 (a smaller vocabulary: one
# shard), doubled up to AUTO_MAX_SHARD_SIZE while that makes more than AUTO_MAX_SHARDS shards (every
# block is a file: counting wrote 16,000 of them, V = 130,000 in shards of 1,024, 3 s slower than 1,024).
AUTO_SHARD_SIZE = 1024
AUTO_MAX_SHARDS = 32
AUTO_MAX_SHARD_SIZE = 4096  # the published Swivel's shard size
# Swivel's loss falls slowly, then fast, then slowly: the stopping rule measures the loss's fall over
# the last STOP_WINDOW row updates (epochs x blocks per row), so that it means the same at any shard size.
STOP_WINDOW = 100

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
    max_vocab: int | None = None  # cap on the vocabulary
    window: int = 10  # co-occurrence window, tokens each side
    shard_size: int | None = None  # rows per shard (a speed setting); None: auto, from the vocabulary size
    lowercase: bool = False  # lowercase tokens (the published module is cased)
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS  # JSON lines fields read as text
    dense_size: int = 2048  # most frequent words counted in a dense matrix per worker

    def validate(self) -> None:
        self._require_positive("min_count", "window", "dense_size")
        if self.shard_size is not None:
            self._require_positive("shard_size")
        if self.max_vocab is not None:
            self._require_positive("max_vocab")


@dataclass(frozen=True)
class SwivelConfig(_Settings):
    """Settings of Swivel training."""

    embedding_dim: int = 128  # vector size
    # Training length counts row updates: an epoch updates each row once per block of its row (and
    # column) shard, V / shard_size times, so learning per epoch grows with the number of shards.
    row_updates: int = 1000  # at most this many updates of each row: epochs = ceil(row_updates / blocks per row)
    epochs: int | None = None  # at most this many passes over all blocks, if given (overrides row_updates)
    tolerance: float = 0.05  # stop once STOP_WINDOW row updates lower the loss by less than this fraction (0: never)
    min_row_updates: int = 200  # never stop before this many row updates (the loss's slow start)
    optimizer: str = "adagrad"  # adagrad (original Swivel), rmsprop (distributed Swivel) or sgd
    learning_rate: float = 1.0  # Swivel used 1.0 with Adagrad, 0.1 with RMSProp
    confidence_base: float = 0.1  # confidence(x) = base + scale * x ** exponent
    confidence_scale: float = 0.25
    confidence_exponent: float = 0.5
    # context distribution smoothing (Levy, Goldberg & Dagan 2015): the PMI's column marginals raised to
    # this power, which raises rare contexts' PMI less (1: plain PMI, as Swivel)
    context_smoothing: float = 1.0
    seed: int = 0  # initialisation and block order
    precision: str = "auto"  # matmul operands: bfloat16 where the devices compute it natively, else float32

    def validate(self) -> None:
        if self.embedding_dim < 1:
            raise ConfigError(f"dim must be positive, got {self.embedding_dim}")
        self._require_positive("row_updates", "min_row_updates")
        if self.epochs is not None:
            self._require_positive("epochs")
        if not 0 <= self.tolerance < 1:
            raise ConfigError(f"tolerance must be in [0, 1), got {self.tolerance}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning rate must be positive, got {self.learning_rate}")
        if not 0 < self.context_smoothing <= 1:
            raise ConfigError(f"context smoothing must be in (0, 1], got {self.context_smoothing}")


@dataclass(frozen=True)
class SubwordConfig(_Settings):
    """Settings of the character n-gram vectors fit to a trained model (``embedding.subwords``)."""

    # Measured on the demo model (docs/design.md, "Subwords"): RW with every pair scored 0.260 / 0.256 /
    # 0.255 / 0.257 at 32k / 64k / 128k / 256k buckets; 64k leaves room for larger vocabularies.
    buckets: int = 65_536  # hashed n-gram rows; 0: no subword vectors
    min_n: int = 3  # n-gram lengths, '<' and '>' around the word counted (fastText's 3 to 6)
    max_n: int = 6
    # a word's weight in the fit: count ** weight_power (RW at l2 1: 0.254 / 0.238 / 0.207 at 0 / 0.5 / 1)
    weight_power: float = 0.0
    l2: float = 3.0  # ridge penalty on the n-gram rows (RW: 0.254 / 0.255 / 0.252 / 0.243 at 1 / 3 / 5 / 10)
    tolerance: float = 1e-3  # conjugate gradients stop at this relative residual (about 20 iterations)
    max_iterations: int = 500

    def validate(self) -> None:
        if self.buckets < 0:
            raise ConfigError(f"subwords (buckets) must be 0 or more, got {self.buckets}")
        if not 1 <= self.min_n <= self.max_n:
            raise ConfigError(f"n-gram lengths must satisfy 1 <= min_n <= max_n, got {self.min_n}, {self.max_n}")
        if self.l2 < 0 or self.weight_power < 0 or not 0 < self.tolerance < 1:
            raise ConfigError("l2 and weight_power must be >= 0 and tolerance in (0, 1)")
        self._require_positive("max_iterations")


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


# The demo's settings for the 3.6 M-token bundled sample: min count 10 keeps a cased vocabulary of
# about 18,000 words; shard size and training length are the defaults (auto, until it has learned).
DEMO_COOCCUR = CooccurConfig(min_count=10, window=10)
DEMO_SWIVEL = SwivelConfig(embedding_dim=128, seed=0)

HEATMAP_NEIGHBOURS = 8  # neighbours listed per heatmap term
MAX_HEATMAP_TERMS = 100  # terms one heatmap image shows (its memory grows with their square)
NEIGHBOURS = 10  # neighbours per word of `cordswivel neighbors`
ANALOGY_METHODS = ("3cosadd", "3cosmul")  # evaluate-analogies: Mikolov's vector offset, Levy & Goldberg's
ANALOGY_RESTRICT_VOCAB = 300_000  # questions about and answers from the first words only, as gensim
DRIFT_NEIGHBOURS = 10  # k of the neighbour overlap of `cordswivel compare`
DRIFT_TOP = 20  # rows `cordswivel compare` prints without --out
DRIFT_MIN_COUNT = 20  # words compared: seen this often in both corpora (rare words' vectors move by chance)


@dataclass(frozen=True)
class ServeConfig(_Settings):
    """Settings of ``cordswivel serve``: where it listens and what one request may ask for."""

    host: str = "127.0.0.1"  # loopback only unless told otherwise
    port: int = 8000
    max_body_bytes: int = 1_000_000  # larger request bodies get 413
    max_texts: int = 1_000  # texts (or terms) per request
    max_neighbours: int = 1_000  # k of /api/neighbors
    max_map_words: int = 50_000  # n of /api/map (PCA)
    max_layout_words: int = 20_000  # n of /api/map by t-SNE or UMAP (a minute on 2 cores)
    map_words: int = 1_000  # n of /api/map by default
    drift_rows: int = 100  # rows of /api/drift by default (at most max_neighbours)
    completions: int = 12  # words /api/complete returns by default

    def validate(self) -> None:
        self._require_positive(
            "max_body_bytes",
            "max_texts",
            "max_neighbours",
            "max_map_words",
            "max_layout_words",
            "map_words",
            "drift_rows",
        )
        if not 0 <= self.port < 65536:
            raise ConfigError(f"port must be in [0, 65535], got {self.port}")
