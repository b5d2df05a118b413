"""The text embedding: a trained vocabulary and its vectors, used like TF-Hub's CORD-19 module.

``embed`` follows the module (docs/design.md, "The text embedding"): the training tokenizer, one
vector per token, out-of-vocabulary tokens on the OOV bucket rows (zeros unless fine-tuned) that
still count, the ``sqrtn`` combiner (sum / sqrt(number of tokens)), and a zero vector for a string
without tokens.

Model directory (``save`` / ``load``):

- ``config.json``: format, ``embedding_dim``, ``vocab_size``, ``num_oov_buckets``, tokenizer
  settings, and the training parameters and corpus statistics of the run that made it;
- ``vocab.tsv``: the vocabulary (``vocab.Vocabulary``);
- ``vectors.npy``: float32 (vocab_size + num_oov_buckets, embedding_dim), OOV rows last;
- ``training_loss.tsv``: per-epoch loss and seconds, and why training stopped (written by training).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ANALOGY_METHODS, ANALOGY_RESTRICT_VOCAB
from ..corpus.tokenizer import tokenize
from ..counting.vocab import Vocabulary
from ..errors import ConfigError, ModelFormatError, OutOfVocabularyError
from ..fileio import atomic_directory, atomic_save_npy, atomic_write_json, read_json
from . import queries
from .analogies import AnalogyResult, evaluate_word_analogies
from .queries import Term

FORMAT = "cordswivel-embedding"
FORMAT_VERSION = 1
VECTORS_FILE = "vectors.npy"


@dataclass(frozen=True)
class WordPairsResult:
    """Agreement of model similarities with human scores (as gensim's ``evaluate_word_pairs``)."""

    pearson: float
    spearman: float
    pairs_covered: int
    pairs_total: int

    @property
    def oov_ratio(self) -> float:
        return 1.0 - self.pairs_covered / self.pairs_total if self.pairs_total else 0.0


class TextEmbedding:
    """Sentence and word embeddings from a vocabulary and a vector table.

    >>> emb = cordswivel.load("model")            # doctest: +SKIP
    >>> emb.embed(["SARS coronavirus"]).shape     # doctest: +SKIP
    (1, 128)
    """

    def __init__(
        self,
        vocab: Vocabulary,
        table: np.ndarray,
        *,
        lowercase: bool = False,
        num_oov_buckets: int = 1,
        config: dict[str, Any] | None = None,
    ) -> None:
        table = np.asarray(table, dtype=np.float32)
        if num_oov_buckets < 1:
            raise ConfigError("num_oov_buckets must be at least 1")
        if table.ndim != 2 or table.shape[0] != len(vocab) + num_oov_buckets:
            raise ModelFormatError(
                f"vector table has shape {table.shape}, expected ({len(vocab) + num_oov_buckets}, dim)"
            )
        self._vocab = vocab
        self.table = table  # (V + num_oov_buckets, dim), what embed() looks up
        self.lowercase = lowercase
        self.num_oov_buckets = num_oov_buckets
        self.config = dict(config or {})  # what made it: training settings, corpus statistics
        self._unit: np.ndarray | None = None
        self._norms: np.ndarray | None = None

    # ------------------------------------------------------------------ properties
    @property
    def vocab(self) -> tuple[str, ...]:
        """The words, in id order."""
        return self._vocab.tokens

    @property
    def counts(self) -> np.ndarray:
        """(V,) corpus counts of the words (zeros where the source did not record them)."""
        return self._vocab.counts

    @property
    def vectors(self) -> np.ndarray:
        """(V, dim) vectors of the vocabulary words (OOV rows excluded)."""
        return self.table[: len(self._vocab)]

    @property
    def embedding_dim(self) -> int:
        return self.table.shape[1]

    def __len__(self) -> int:
        return len(self._vocab)

    def __contains__(self, word: str) -> bool:
        return word in self._vocab

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of a vocabulary word (``OutOfVocabularyError``, a ``KeyError``, otherwise)."""
        return self.vectors[self._index(word)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={len(self)}, embedding_dim={self.embedding_dim})"

    # ------------------------------------------------------------------ embedding
    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` as training saw them."""
        return tokenize(text, self.lowercase)

    def token_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Row ids of tokens in ``table``; OOV tokens get a bucket row after the vocabulary."""
        size = len(self._vocab)
        ids = np.fromiter((self._vocab.get(t) for t in tokens), dtype=np.int64, count=len(tokens))
        oov = ids < 0
        if oov.any():
            ids[oov] = size + self._oov_buckets([t for t, o in zip(tokens, oov, strict=False) if o])
        return ids

    def _oov_buckets(self, tokens: list[str]) -> np.ndarray:
        if self.num_oov_buckets == 1:
            return np.zeros(len(tokens), dtype=np.int64)
        # TF's StaticVocabularyTable: Fingerprint64(token) % num_oov_buckets (lazy: TensorFlow is slow to import).
        import tensorflow as tf

        return tf.strings.to_hash_bucket_fast(tokens, self.num_oov_buckets).numpy().astype(np.int64)

    def keras_layer(self, *, trainable: bool = False, name: str = "text_embedding") -> Any:
        """A tf-keras layer: [batch] strings -> [batch, dim] float32, equal to ``embed``; with
        ``trainable`` the vector table (OOV rows included) is fine-tuned."""
        from .layers import TextEmbeddingLayer  # deliberately lazy: TensorFlow takes seconds to import

        return TextEmbeddingLayer(
            self.vocab,
            self.table,
            lowercase=self.lowercase,
            num_oov_buckets=self.num_oov_buckets,
            trainable=trainable,
            name=name,
        )

    def embed(self, texts: Iterable[str]) -> np.ndarray:
        """(n, dim) float32 sentence vectors: sum of token vectors / sqrt(token count)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; wrap a single string in a list")
        texts = list(texts)
        out = np.zeros((len(texts), self.embedding_dim), dtype=np.float32)
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"embed() item {k} is {type(text).__name__}, expected str")
            tokens = self.tokenize(text)
            if tokens:
                rows = self.table[self.token_ids(tokens)]
                out[k] = rows.sum(axis=0, dtype=np.float64) / math.sqrt(len(tokens))
        return out

    # ------------------------------------------------------------------ word queries
    def index_of(self, word: str) -> int:
        """The word's row in ``vectors``, or -1."""
        return self._vocab.get(word)

    def _index(self, word: str) -> int:
        index = self._vocab.get(word)
        if index < 0:
            raise OutOfVocabularyError(word)
        return index

    @property
    def norms(self) -> np.ndarray:
        """(V,) Euclidean norms of the vocabulary vectors (1 where a vector is zero)."""
        if self._norms is None:
            norms = np.linalg.norm(self.vectors, axis=1)
            self._norms = np.where(norms > 0, norms, np.float32(1)).astype(np.float32)
        return self._norms

    def _unit_vectors(self) -> np.ndarray:
        if self._unit is None:
            self._unit = self.vectors / self.norms[:, None]
        return self._unit

    def similarity(self, word_a: str, word_b: str) -> float:
        """Cosine similarity of two vocabulary words."""
        unit = self._unit_vectors()
        return float(unit[self._index(word_a)] @ unit[self._index(word_b)])

    def most_similar(
        self,
        positive: Term | Sequence[Term] | None = None,
        k: int = 10,
        *,
        negative: Term | Sequence[Term] | None = None,
        candidates: Sequence[str] | None = None,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` terms of highest cosine to the query, best first: a word's neighbours
        (``most_similar("virus")``), or an analogy by 3CosAdd (``most_similar(positive=["Paris",
        "Italy"], negative=["France"])``). Terms are words, phrases (``embed``'s vector) or vectors;
        input words are never answers. ``candidates`` restricts the answers to a list of terms (those
        with no token in the vocabulary are left out), ``restrict_vocab`` to the first words."""
        return queries.most_similar(self, positive, negative, k, candidates=candidates, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(
        self,
        positive: Term | Sequence[Term] | None = None,
        k: int = 10,
        *,
        negative: Term | Sequence[Term] | None = None,
        candidates: Sequence[str] | None = None,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """As ``most_similar``, scored by 3CosMul (Levy & Goldberg 2014), as gensim's method of this name."""
        return queries.most_similar_cosmul(
            self, positive, negative, k, candidates=candidates, restrict_vocab=restrict_vocab
        )

    def similar_by_vector(
        self, vector: np.ndarray, k: int = 10, *, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine to ``vector``."""
        return queries.similar_by_vector(self, vector, k, restrict_vocab=restrict_vocab)

    def doesnt_match(self, terms: Sequence[str]) -> str:
        """The term farthest from the mean of the others (unknown terms left out)."""
        return queries.doesnt_match(self, terms)

    def n_similarity(self, terms_a: Sequence[str], terms_b: Sequence[str]) -> float:
        """Cosine similarity of the mean vectors of two sets of terms."""
        return queries.n_similarity(self, terms_a, terms_b)

    def rank(
        self,
        positive: Term | Sequence[Term] | None,
        candidates: Sequence[str],
        *,
        negative: Term | Sequence[Term] | None = None,
    ) -> queries.Ranking:
        """Every candidate term ranked by 3CosAdd to the query (``metformin - diabetes + COVID-19``
        over drug names), with the candidates no token of which is in the vocabulary."""
        return queries.rank(self, positive, candidates, negative)

    def evaluate_word_analogies(
        self,
        path: str | os.PathLike,
        *,
        restrict_vocab: int = ANALOGY_RESTRICT_VOCAB,
        case_insensitive: bool = True,
        method: str = ANALOGY_METHODS[0],
    ) -> AnalogyResult:
        """Accuracy on analogy questions in Google's ``questions-words.txt`` format, overall and per
        section, as gensim's method of this name (``analogies.evaluate_word_analogies``)."""
        return evaluate_word_analogies(
            self, path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive, method=method
        )

    def evaluate_word_pairs(
        self, path: str | os.PathLike, *, delimiter: str | None = None, case_insensitive: bool = False
    ) -> WordPairsResult:
        """Pearson and Spearman correlation of cosine similarity with a ``word word score`` file.

        Fields are split on ``delimiter``, by default on tabs where a line has one, else on
        whitespace (the published sets use either, with LF or CRLF line ends). Lines starting with
        ``#`` are comments, and a first line whose score is not a number is a header; pairs with an
        unknown word are left out and counted. With ``case_insensitive`` words are compared in upper
        case, as gensim's ``evaluate_word_pairs`` does: a word stands for its most frequent case
        variant in the vocabulary. The correlations are NaN with fewer than two distinct pairs covered.
        A file with no pairs, a score that is not a finite number, or text that is not UTF-8 is a
        ``ModelFormatError`` naming the file and line.
        """
        path = Path(path)
        folded = self._case_insensitive_index() if case_insensitive else None

        def word_id(word: str) -> int:
            return folded.get(word.upper(), -1) if folded is not None else self._vocab.get(word)

        unit = self._unit_vectors()
        model, human, total, first = [], [], 0, True
        with open(path, "rb") as handle:  # decoded line by line, so that an error names its line
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise ModelFormatError(f"{path}:{number}: not UTF-8 text") from None
                line = line.rstrip("\r\n") if delimiter is not None else line.strip()  # a stray tab at the end too
                if not line.strip() or line.startswith("#"):
                    continue
                header, first = first, False
                parts = line.split(delimiter if delimiter is not None else ("\t" if "\t" in line else None))
                if len(parts) != 3:
                    raise ModelFormatError(f"{path}:{number}: expected 'word word score', got {len(parts)} fields")
                try:
                    score = float(parts[2])
                except ValueError:
                    if header:  # a first line like "word1 word2 score"
                        continue
                    raise ModelFormatError(f"{path}:{number}: score {parts[2]!r} is not a number") from None
                if not np.isfinite(score):
                    raise ModelFormatError(f"{path}:{number}: score {parts[2]!r} is not a finite number")
                total += 1
                a, b = word_id(parts[0]), word_id(parts[1])
                if a >= 0 and b >= 0:
                    model.append(float(unit[a] @ unit[b]))
                    human.append(score)
        if total == 0:
            raise ModelFormatError(f"{path}: no word pairs ('word word score' lines)")
        if len(model) < 2 or np.ptp(model) == 0 or np.ptp(human) == 0:  # no correlation to speak of
            return WordPairsResult(float("nan"), float("nan"), len(model), total)
        from scipy import stats  # imported when used: SciPy takes a while to import

        return WordPairsResult(
            pearson=float(stats.pearsonr(model, human).statistic),
            spearman=float(stats.spearmanr(model, human).statistic),
            pairs_covered=len(model),
            pairs_total=total,
        )

    def _case_insensitive_index(self) -> dict[str, int]:
        """Upper-cased word -> id of its first (most frequent) case variant."""
        index: dict[str, int] = {}
        for i, word in enumerate(self.vocab):
            index.setdefault(word.upper(), i)
        return index

    # ------------------------------------------------------------------ files
    def save(
        self, directory: str | os.PathLike, *, overwrite: bool = False, extra_files: dict[str, str] | None = None
    ) -> Path:
        """Write the model directory atomically (see the module docstring)."""
        directory = Path(directory)
        with atomic_directory(directory, overwrite=overwrite) as tmp:
            self._vocab.save(tmp)
            atomic_save_npy(tmp / VECTORS_FILE, self.table)
            for name, text in (extra_files or {}).items():
                (tmp / name).write_text(text, encoding="utf-8")
            config = dict(self.config)
            config.update(
                format=FORMAT,
                version=FORMAT_VERSION,
                embedding_dim=self.embedding_dim,
                vocab_size=len(self),
                num_oov_buckets=self.num_oov_buckets,
                tokenizer={"lowercase": self.lowercase},
                vectors_sha256=hashlib.sha256(self.table.tobytes()).hexdigest(),
            )
            atomic_write_json(tmp / "config.json", config)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> TextEmbedding:
        """Read a model directory written by ``save``, checking sizes and the vectors' checksum."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelFormatError(f"{directory}: not a model directory")
        config = read_json(directory / "config.json")
        if config.get("format") != FORMAT:
            raise ModelFormatError(f"{directory}: config.json is not a cordswivel embedding config")
        vocab = Vocabulary.load(directory)
        try:
            table = np.load(directory / VECTORS_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{directory / VECTORS_FILE}: cannot read ({exc})") from None
        if len(vocab) != config.get("vocab_size"):
            raise ModelFormatError(
                f"{directory}: vocab.tsv has {len(vocab)} words, config.json says {config.get('vocab_size')}"
            )
        expected = (config["vocab_size"] + config["num_oov_buckets"], config["embedding_dim"])
        if table.shape != expected or table.dtype != np.float32:
            raise ModelFormatError(
                f"{directory / VECTORS_FILE}: {table.dtype} {table.shape}, expected float32 {expected}"
            )
        digest = config.get("vectors_sha256")
        if digest and hashlib.sha256(table.tobytes()).hexdigest() != digest:
            raise ModelFormatError(f"{directory / VECTORS_FILE}: checksum does not match config.json")
        return cls(
            vocab,
            table,
            lowercase=bool(config["tokenizer"]["lowercase"]),
            num_oov_buckets=int(config["num_oov_buckets"]),
            config=config,
        )
