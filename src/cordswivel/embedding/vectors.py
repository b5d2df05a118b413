"""The text embedding: a trained vocabulary and its vectors, used like TF-Hub's CORD-19 module.

``embed`` follows the module (docs/design.md, "The text embedding"): the training tokenizer, one
vector per token, out-of-vocabulary tokens on the OOV bucket rows (zeros unless fine-tuned), or on
their subword vectors where the model has them (``subwords``), that still count, the ``sqrtn``
combiner (sum / sqrt(number of tokens)), and a zero vector for a string without tokens.

Model directory (``save`` / ``load``):

- ``config.json``: format, ``embedding_dim``, ``vocab_size``, ``num_oov_buckets``, tokenizer
  settings, and the training parameters and corpus statistics of the run that made it;
- ``vocab.tsv``: the vocabulary (``vocab.Vocabulary``);
- ``vectors.npy``: float32 (vocab_size + num_oov_buckets, embedding_dim), OOV rows last;
- ``subwords.npy``: float32 (buckets, embedding_dim) n-gram rows, where the model has subwords;
- ``training_loss.tsv``: per-epoch loss and seconds, and why training stopped (written by training).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ANALOGY_METHODS, ANALOGY_RESTRICT_VOCAB, SubwordConfig
from ..corpus.tokenizer import tokenize
from ..counting.vocab import Vocabulary
from ..errors import ConfigError, ModelFormatError, OutOfVocabularyError
from ..fileio import atomic_directory, atomic_save_npy, atomic_write_json, read_json
from . import queries
from .analogies import AnalogyResult, evaluate_word_analogies
from .queries import Term
from .subwords import HASH_NAME, SUBWORDS_FILE, SubwordTable, fit_subwords
from .wordpairs import WordPairsResult, evaluate_word_pairs

FORMAT = "cordswivel-embedding"
FORMAT_VERSION = 1
VECTORS_FILE = "vectors.npy"
SUBWORD_CACHE = 100_000  # subword vectors of unseen tokens kept (a dict, cleared when full)


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
        subwords: SubwordTable | None = None,
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
        if subwords is not None and subwords.vectors.shape[1] != table.shape[1]:
            raise ModelFormatError(
                f"subword vectors have {subwords.vectors.shape[1]} dimensions, words {table.shape[1]}"
            )
        self.subwords = subwords  # n-gram vectors for tokens outside the vocabulary, if fit
        self._unit: np.ndarray | None = None
        self._norms: np.ndarray | None = None
        self._subword_cache: dict[str, np.ndarray | None] = {}

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

    def has_vector(self, word: str) -> bool:
        """Whether the model gives ``word`` a vector: in the vocabulary, or from its subwords."""
        return word in self._vocab or self.subword_vector(word) is not None

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of a vocabulary word, or of another word from its subwords where the model has
        them, as gensim's FastText (``OutOfVocabularyError``, a ``KeyError``, otherwise)."""
        return self.word_vector(word)[0]

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
            subwords=self.subwords,
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
                ids = self.token_ids(tokens)
                rows = self.table[ids]
                if self.subwords is not None and (ids >= len(self._vocab)).any():
                    rows = rows.copy()
                    for position in np.flatnonzero(ids >= len(self._vocab)):
                        vector = self.subword_vector(tokens[position])
                        if vector is not None:
                            rows[position] = vector
                out[k] = rows.sum(axis=0, dtype=np.float64) / math.sqrt(len(tokens))
        return out

    def subword_vector(self, token: str) -> np.ndarray | None:
        """The vector of a token outside the vocabulary from its character n-grams (``subwords``), or
        None without subwords or where its n-gram rows sum to zero (buckets no vocabulary word uses)."""
        if self.subwords is None:
            return None
        if token not in self._subword_cache:
            if len(self._subword_cache) >= SUBWORD_CACHE:
                self._subword_cache.clear()
            vectors, known = self.subwords.word_vectors([token])
            self._subword_cache[token] = vectors[0] if known[0] else None
        return self._subword_cache[token]

    def with_subwords(
        self, config: SubwordConfig = SubwordConfig(), *, log: Callable[[str], None] | None = None
    ) -> TextEmbedding:
        """A copy of this model with subword vectors fit to its word vectors (``subwords.fit_subwords``);
        ``config.buckets`` 0 gives a copy without them. The word vectors are unchanged. (A TF-Hub module
        gives a ``TextEmbedding`` of its vocabulary and matrix: its own graph knows no subwords.)"""
        config.validate()
        settings = {k: v for k, v in self.config.items() if k not in ("subwords", "vectors_sha256")}
        subwords = None
        if config.buckets:
            fit = fit_subwords(self.vocab, self.vectors, self.counts, config, log=log)
            settings["subwords"] = {**config.to_dict(), "relative_error": fit.relative_error}
            subwords = fit.table
        return TextEmbedding(
            self._vocab,
            self.table,
            lowercase=self.lowercase,
            num_oov_buckets=self.num_oov_buckets,
            config=settings,
            subwords=subwords,
        )

    def word_vector(self, word: str) -> tuple[np.ndarray, bool]:
        """(vector, from subwords?) of a word: its trained vector, else its subword vector; a word with
        neither is an ``OutOfVocabularyError``."""
        index = self._vocab.get(word)
        if index >= 0:
            return self.vectors[index], False
        vector = self.subword_vector(word)
        if vector is None:
            raise OutOfVocabularyError(word)
        return vector, True

    # ------------------------------------------------------------------ word queries
    def index_of(self, word: str) -> int:
        """The word's row in ``vectors``, or -1."""
        return self._vocab.get(word)

    @property
    def norms(self) -> np.ndarray:
        """(V,) Euclidean norms of the vocabulary vectors (1 where a vector is zero)."""
        if self._norms is None:
            norms = np.linalg.norm(self.vectors, axis=1)
            self._norms = np.where(norms > 0, norms, np.float32(1)).astype(np.float32)
        return self._norms

    @property
    def unit_vectors(self) -> np.ndarray:
        """(V, dim) the vocabulary vectors divided by their ``norms``, computed once."""
        if self._unit is None:
            self._unit = self.vectors / self.norms[:, None]
        return self._unit

    def similarity(self, word_a: str, word_b: str) -> float:
        """Cosine similarity of two words (vocabulary words, or others from their subwords)."""
        a, b = self._unit_vector(word_a), self._unit_vector(word_b)
        return float(a @ b)

    def _unit_vector(self, word: str) -> np.ndarray:
        index = self._vocab.get(word)
        if index >= 0:
            return self.unit_vectors[index]
        vector = self.word_vector(word)[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-30)

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
        input words are never answers; words outside the vocabulary take their subword vectors, where
        the model has them. ``candidates`` restricts the answers to a list of terms (those without a
        vector are left out), ``restrict_vocab`` to the first words."""
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
        over drug names), with the candidates it could not place and those placed by subwords alone."""
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
        """Pearson and Spearman correlation of cosine similarity with a ``word word score`` file, as
        gensim's method of this name (``wordpairs.evaluate_word_pairs``)."""
        return evaluate_word_pairs(self, path, delimiter=delimiter, case_insensitive=case_insensitive)

    # ------------------------------------------------------------------ files
    def save(
        self, directory: str | os.PathLike, *, overwrite: bool = False, extra_files: dict[str, str] | None = None
    ) -> Path:
        """Write the model directory atomically (see the module docstring)."""
        directory = Path(directory)
        with atomic_directory(directory, overwrite=overwrite) as tmp:
            self._vocab.save(tmp)
            atomic_save_npy(tmp / VECTORS_FILE, self.table)
            if self.subwords is not None:
                atomic_save_npy(tmp / SUBWORDS_FILE, self.subwords.vectors)
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
            config.pop("subwords", None)
            if self.subwords is not None:
                config["subwords"] = {
                    **self.config.get("subwords", {}),  # how they were fit
                    "buckets": self.subwords.buckets,
                    "min_n": self.subwords.min_n,
                    "max_n": self.subwords.max_n,
                    "hash": HASH_NAME,
                    "sha256": hashlib.sha256(self.subwords.vectors.tobytes()).hexdigest(),
                }
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
            subwords=_load_subwords(directory, config),
        )


def _load_subwords(directory: Path, config: dict[str, Any]) -> SubwordTable | None:
    """The model's subword table, checked against config.json, or None if it has none."""
    settings = config.get("subwords")
    if not settings:
        return None
    path = directory / SUBWORDS_FILE
    if settings.get("hash") != HASH_NAME:
        raise ModelFormatError(
            f"{directory}: its subwords were hashed with {settings.get('hash', 'an older scheme')!r}, not "
            f"{HASH_NAME!r}: fit them again (cordswivel subwords MODEL --out MODEL2)"
        )
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc})") from None
    expected = (settings.get("buckets"), config["embedding_dim"])
    if vectors.shape != expected or vectors.dtype != np.float32:
        raise ModelFormatError(f"{path}: {vectors.dtype} {vectors.shape}, expected float32 {expected}")
    if settings.get("sha256") and hashlib.sha256(vectors.tobytes()).hexdigest() != settings["sha256"]:
        raise ModelFormatError(f"{path}: checksum does not match config.json")
    return SubwordTable(vectors, int(settings["min_n"]), int(settings["max_n"]))
