"""The ``cordswivel`` command line's parser: every command, its options, their help and defaults (from
``config``), and the argparse types that check them. ``cli`` runs what it parses."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from . import commands
from .config import (
    ANALOGY_METHODS,
    ANALOGY_RESTRICT_VOCAB,
    AUTO_MAX_SHARD_SIZE,
    AUTO_SHARD_SIZE,
    DEFAULT_TEXT_FIELDS,
    DRIFT_MIN_COUNT,
    DRIFT_NEIGHBOURS,
    DRIFT_TOP,
    HEATMAP_NEIGHBOURS,
    NEIGHBOURS,
    ON_ERROR_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    STOP_WINDOW,
    ClassifierConfig,
    CooccurConfig,
    ServeConfig,
    SubwordConfig,
    SwivelConfig,
)
from .errors import ConfigError

COOC = CooccurConfig()
SWIV = SwivelConfig()
SUBWORDS = SubwordConfig()
CLF = ClassifierConfig()
SERVE = ServeConfig()
MODEL_HELP = "a cordswivel model directory, a TF-Hub text-embedding module, or a word2vec/GloVe file"


def _add_corpus_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("corpus and counting")
    g.add_argument(
        "--min-count",
        type=int,
        default=COOC.min_count,
        help=f"keep tokens seen at least this often (default {COOC.min_count}; the TF-Hub module used 50)",
    )
    g.add_argument("--max-vocab", type=int, default=COOC.max_vocab, help="cap on the vocabulary size")
    g.add_argument("--window", type=int, default=COOC.window, help=f"co-occurrence window (default {COOC.window})")
    g.add_argument(
        "--shard-size",
        type=_auto_or_positive,
        default=COOC.shard_size,
        help="words per shard, a speed setting: training counts row updates, so any size reaches the same "
        "quality, and every word that passes --min-count is kept, the last shards padded (default auto: "
        f"{AUTO_SHARD_SIZE}, the fastest on CPUs, up to {AUTO_MAX_SHARD_SIZE} for a large vocabulary; a GPU "
        "runs larger blocks faster)",
    )
    g.add_argument("--lowercase", action="store_true", help="lowercase tokens (default: cased, like the module)")
    g.add_argument(
        "--text-fields",
        type=_field_names,
        default=",".join(DEFAULT_TEXT_FIELDS),
        help=f"comma-separated JSON lines fields read as text (default {','.join(DEFAULT_TEXT_FIELDS)})",
    )
    g.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="local worker processes for the corpus passes (default: all cores)",
    )
    g.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=_size,
        help="memory counting may use, this process and its workers together, e.g. 1GB; "
        "partial counts spill to disk beyond it (default: half the RAM)",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the corpus passes on this dask.distributed scheduler (tcp://host:8786); its "
        "workers need cordswivel, the corpus at the same paths, and OUT on a shared file system",
    )
    g.add_argument(
        "--on-error",
        choices=ON_ERROR_CHOICES,
        default="raise",
        help="on a bad record: stop with an error (raise, default) or skip and count it",
    )


def _field_names(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated names, at least one."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no field")
    return names


def _auto_or_positive(text: str) -> int | None:
    """argparse type: ``auto`` (None) or an integer of at least 1."""
    return None if text == "auto" else _positive(text)


def _at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    return parse


_positive, _non_negative = _at_least(1), _at_least(0)


def _size(text: str) -> int:
    from .counting.execution import parse_size

    try:
        return parse_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cordswivel",
        description="Train Swivel word embeddings on CORD-19 (or any text) and use them like the "
        "TF-Hub CORD-19 Swivel module.",
    )
    for flags in (parser, common := argparse.ArgumentParser(add_help=False)):
        default = False if flags is parser else argparse.SUPPRESS  # before or after COMMAND, either works
        flags.add_argument("-q", "--quiet", action="store_true", default=default, help="log warnings only")
        text = "log everything, TensorFlow's own messages and every served request included"
        flags.add_argument("-v", "--verbose", action="store_true", default=default, help=text)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])  # type: ignore[method-assign]

    p = sub.add_parser(
        "cooccur",
        help="count vocabulary and co-occurrences into shards",
        description="Count the vocabulary and co-occurrences of a corpus into Swivel "
        "shards (train them later with 'train --cooccur DIR').",
    )
    text = "text/JSON lines files (.gz too), directories of them, CORD-19 releases (dir or .tar.gz)"
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help=text)
    p.add_argument("--out", required=True, help="output directory for the shards")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    _add_corpus_options(p)
    p.set_defaults(run=commands.cooccur)

    p = sub.add_parser(
        "train",
        help="train Swivel embeddings (counts first unless --cooccur)",
        description="Train Swivel embeddings from a corpus, or from shards made by "
        "'cordswivel cooccur', and write a model directory.",
    )
    p.add_argument("corpus", nargs="*", metavar="CORPUS", help="corpus files or directories (see cooccur)")
    p.add_argument("--cooccur", help="train on this co-occurrence directory instead of counting")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in OUT.partial")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model directory")
    _add_corpus_options(p)
    g = p.add_argument_group("training")
    g.add_argument(
        "--dim", type=_positive, default=SWIV.embedding_dim, help=f"vector size (default {SWIV.embedding_dim})"
    )
    text = (
        "the most updates of each row (default %(default)s); an epoch visits every block once and updates "
        "each row once per shard, so it takes ceil(ROW_UPDATES / shards) epochs whatever the shard size"
    )
    g.add_argument("--row-updates", type=_positive, default=SWIV.row_updates, help=text)
    text = "the most epochs (passes over all blocks), if given: overrides --row-updates"
    g.add_argument("--epochs", type=_positive, default=SWIV.epochs, help=text)
    text = (
        f"stop once the last {STOP_WINDOW} row updates lowered the loss by less than this fraction "
        "(default %(default)s; 0: never)"
    )
    g.add_argument("--tolerance", type=float, default=SWIV.tolerance, help=text)
    text = "never stop before this many row updates, the loss's slow start (default %(default)s)"
    g.add_argument("--min-row-updates", type=_positive, default=SWIV.min_row_updates, help=text)
    text = (
        "matmul operands (default %(default)s: bfloat16 where the CPU has AVX512_BF16 or AMX, or the GPUs "
        "compute capability 8.0 on, else float32)"
    )
    g.add_argument("--precision", choices=PRECISIONS, default=SWIV.precision, help=text)
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=SWIV.optimizer, help="default %(default)s")
    g.add_argument("--learning-rate", type=float, default=SWIV.learning_rate, help="default %(default)s")
    g.add_argument("--confidence-base", type=float, default=SWIV.confidence_base, help="default %(default)s")
    g.add_argument("--confidence-scale", type=float, default=SWIV.confidence_scale, help="default %(default)s")
    g.add_argument("--confidence-exponent", type=float, default=SWIV.confidence_exponent, help="default %(default)s")
    text = "raise the PMI's context counts to this power, 0.75 in word2vec and GloVe (default %(default)s)"
    g.add_argument("--context-smoothing", type=float, default=SWIV.context_smoothing, help=text)
    g.add_argument("--seed", type=int, default=SWIV.seed, help="initialisation and block order (default %(default)s)")
    text = (
        "hashed character n-gram rows (n 3-6, as fastText) fit to the trained vectors after training, which give "
        "words outside the vocabulary a vector (default %(default)s; 0: none, every such word on the OOV row)"
    )
    g.add_argument("--subwords", type=_non_negative, default=SUBWORDS.buckets, metavar="BUCKETS", help=text)
    text = "comma-separated TensorFlow devices, one block each per step, e.g. GPU:0,GPU:1 (default: the GPUs, else CPU)"
    g.add_argument("--devices", type=lambda arg: [d.strip() for d in arg.split(",") if d.strip()], help=text)
    p.set_defaults(run=commands.train)

    p = sub.add_parser(
        "subwords",
        help="fit subword (character n-gram) vectors to an existing model",
        description="Fit hashed character n-gram vectors (fastText's n-grams, 3 to 6 characters in '<word>') "
        "so that each vocabulary word's n-grams reproduce its vector, and write MODEL with them to OUT: words "
        "outside the vocabulary then get a vector from their n-grams in embed, neighbours, word pairs, the "
        "explorer and the TF-Hub export. Vocabulary words keep their vectors.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--out", required=True, help="model directory to write")
    text = "hashed n-gram rows (default %(default)s; 0 writes the model without subwords)"
    p.add_argument("--buckets", type=_non_negative, default=SUBWORDS.buckets, help=text)
    p.add_argument("--overwrite", action="store_true", help="replace an existing model directory")
    p.set_defaults(run=commands.subwords)

    p = sub.add_parser(
        "demo",
        help="the TF-Hub tutorial end to end on the bundled data (make demo)",
        description="Train Swivel embeddings on the bundled CORD-19 sample, draw the similarity "
        "heatmap and neighbours, train and evaluate the SciCite classifier, and write "
        "OUT/report.html and OUT/metrics.json. An interrupted run continues where "
        "its embedding training stopped.",
    )
    p.add_argument("--out", default="runs/demo", help="output directory (default %(default)s)")
    p.add_argument("--data-dir", help="data directory (default: $CORDSWIVEL_DATA, else ../shared/data)")
    p.add_argument("--workers", type=_positive, default=None, help="worker processes (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="run again over a finished demo in OUT")
    p.set_defaults(run=commands.demo)

    p = sub.add_parser(
        "export",
        help="export as a TF-Hub SavedModel, word2vec file or projector files",
        description="Export embeddings: 'hub' writes a TF2 SavedModel that hub.load and "
        "hub.KerasLayer take in place of tensorflow/cord-19/swivel-128d/3; 'word2vec' "
        "a file gensim's KeyedVectors.load_word2vec_format reads; 'projector' "
        "vectors.tsv, metadata.tsv and projector_config.pbtxt.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--format", choices=("hub", "word2vec", "projector"), default="hub", help="default %(default)s")
    p.add_argument("--out", required=True, help="output directory (hub, projector) or file (word2vec)")
    p.add_argument("--binary", action="store_true", help="binary word2vec format")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(run=commands.export)

    p = sub.add_parser(
        "heatmap",
        help="similarity heatmap and neighbours of terms",
        description="Draw the inner-product matrix of the terms' embeddings divided by its maximum "
        "(or cosine) as a heatmap, as the TF-Hub tutorial, and print neighbours.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("terms", nargs="*", metavar="TERM", help="terms (default: the tutorial's nine)")
    p.add_argument("--out", required=True, help="image file (.png, .svg or .pdf)")
    p.add_argument("--cosine", action="store_true", help="cosine similarity instead of inner product / max")
    p.add_argument("--overwrite", action="store_true", help="replace an existing image")
    p.add_argument("-k", type=_positive, default=HEATMAP_NEIGHBOURS, help="neighbours per term (default %(default)s)")
    p.set_defaults(run=commands.heatmap)

    p = sub.add_parser(
        "scicite",
        help="train and evaluate the SciCite citation-intent classifier",
        description="Train the tutorial's classifier (embedding layer -> Dense(3)) on SciCite and "
        "write metrics.json, curves.png, confusion.png, predictions.csv and the "
        "saved classifier to OUT.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--epochs", type=_positive, default=CLF.epochs, help="default %(default)s")
    p.add_argument("--batch-size", type=_positive, default=CLF.batch_size, help="default %(default)s")
    p.add_argument("--trainable", action="store_true", help="fine-tune the embedding matrix")
    p.add_argument("--seed", type=int, default=CLF.seed, help="default %(default)s")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--scicite", help="SciCite directory (default: DATA/scicite)")
    p.add_argument("--data-dir", help="data directory (default: $CORDSWIVEL_DATA, else ../shared/data)")
    p.set_defaults(run=commands.scicite)

    p = sub.add_parser(
        "predict",
        help="label citation sentences with a saved classifier",
        description="Label each TEXT with a classifier saved by 'cordswivel scicite' (JSON output "
        "with class probabilities).",
    )
    p.add_argument("classifier", help="classifier directory (OUT/classifier of 'cordswivel scicite')")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.set_defaults(run=commands.predict)

    p = sub.add_parser(
        "neighbors",
        help="nearest neighbours of words (cosine)",
        description="Print the nearest neighbours of each WORD by cosine similarity.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("-k", type=_positive, default=NEIGHBOURS, help="neighbours per word (default %(default)s)")
    p.set_defaults(run=commands.neighbors)

    p = sub.add_parser(
        "embed", help="embed texts (JSON output)", description="Print the sentence embedding of each TEXT as JSON."
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.set_defaults(run=commands.embed)

    p = sub.add_parser(
        "evaluate-pairs",
        help="correlate similarities with human word-pair scores",
        description="Spearman and Pearson correlation of cosine similarity with the human scores of a "
        "'word word score' file (tab or space separated, as MEN, SimLex-999 and WordSim-353 come), over the "
        "pairs whose words are both in the vocabulary (JSON output, with the coverage).",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("file", help="word pairs file")
    p.add_argument(
        "--case-insensitive",
        action="store_true",
        help="compare words in upper case, a word standing for its most frequent case variant (as gensim's "
        "evaluate_word_pairs(case_insensitive=True))",
    )
    p.set_defaults(run=commands.evaluate_pairs)

    p = sub.add_parser(
        "analogy",
        help="A is to B as C is to ? (3CosAdd or 3CosMul)",
        description="The terms closest to the positive terms minus the negative ones, e.g. "
        "--positive Italy Paris --negative France (Paris - France + Italy), as gensim's most_similar "
        "(JSON output). A term is a word or a quoted phrase (its tokens combined as the module does); "
        "input words are never answers.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--positive", nargs="+", required=True, metavar="TERM", help="terms added")
    p.add_argument("--negative", nargs="+", default=[], metavar="TERM", help="terms subtracted")
    p.add_argument("-k", type=_positive, default=NEIGHBOURS, help="answers (default %(default)s)")
    p.add_argument("--candidates", metavar="FILE", help="answer only from these terms, one per line")
    p.add_argument("--cosmul", action="store_true", help="3CosMul (Levy & Goldberg 2014) instead of 3CosAdd")
    p.set_defaults(run=commands.analogy)

    p = sub.add_parser(
        "rank",
        help="rank a list of candidate terms by similarity to a query",
        description="Rank every candidate (one word or phrase per line of FILE; multi-word names combined "
        "as the module combines tokens) by cosine to the sum of the QUERY terms minus the --negative ones, "
        "e.g. the drug names closest to metformin - diabetes + COVID-19. JSON on stdout, or CSV "
        "(rank,term,score) with --out; stderr lists the candidates with no vector and those placed by their "
        "subwords alone.",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("query", nargs="+", metavar="QUERY", help="terms added")
    p.add_argument("--negative", nargs="+", default=[], metavar="TERM", help="terms subtracted")
    p.add_argument("--candidates", required=True, metavar="FILE", help="candidate terms, one per line")
    p.add_argument("--out", help="CSV file to write (default: JSON on stdout)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing CSV file")
    p.set_defaults(run=commands.rank)

    p = sub.add_parser(
        "evaluate-analogies",
        help="accuracy on analogy questions (Google's questions-words.txt format)",
        description="Answer every 'a b c d' question of FILE (': section' headers) by 3CosAdd over the "
        "first --restrict-vocab words, as gensim's evaluate_word_analogies, and print the overall and "
        "per-section accuracy with the questions skipped for an unknown word (JSON output).",
    )
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("file", help="analogy questions file, e.g. gensim's test_data/questions-words.txt")
    text = "answer from and ask about the first N words, most frequent first (default %(default)s, gensim's)"
    p.add_argument("--restrict-vocab", type=_positive, default=ANALOGY_RESTRICT_VOCAB, metavar="N", help=text)
    text = "compare words as they are (default: in upper case, a word standing for its most frequent variant)"
    p.add_argument("--case-sensitive", action="store_true", help=text)
    p.add_argument("--method", choices=ANALOGY_METHODS, default=ANALOGY_METHODS[0], help="default %(default)s")
    p.set_defaults(run=commands.evaluate_analogies)

    p = sub.add_parser(
        "compare",
        help="words whose meaning moved between two models (e.g. two corpus releases)",
        description="Align OLD onto NEW (orthogonal Procrustes on the words both know) and rank the shared "
        "words by the cosine of their aligned vectors, or by the overlap of their nearest neighbours in "
        "each model, the words that moved most first. JSON of the first --top words, or the whole table "
        "as CSV with --out.",
    )
    p.add_argument("old", metavar="OLD", help=MODEL_HELP)
    p.add_argument("new", metavar="NEW", help="the model to compare it with")
    p.add_argument("--out", help="CSV file to write the whole table to (default: JSON on stdout)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing CSV file")
    text = "compare words seen this often in both corpora (default %(default)s; models without counts do not filter)"
    p.add_argument("--min-count", type=int, default=DRIFT_MIN_COUNT, help=text)
    p.add_argument("-k", type=_positive, default=DRIFT_NEIGHBOURS, help="neighbours compared (default %(default)s)")
    p.add_argument(
        "--by", choices=("cosine", "overlap"), default="cosine", help="ranking measure (default %(default)s)"
    )
    p.add_argument("--stable", action="store_true", help="the words that moved least first")
    p.add_argument("--top", type=_positive, default=DRIFT_TOP, help="words printed without --out (default %(default)s)")
    p.set_defaults(run=commands.compare)

    p = sub.add_parser(
        "serve",
        help="the explorer page and JSON API in a local web server",
        description="Serve an explorer page (neighbours, the tutorial's heatmap, a map of frequent words, "
        "sentence similarity and citation intent, models side by side) and its JSON API under /api. "
        "Listens on 127.0.0.1 unless --host says otherwise; Ctrl-C stops it.",
    )
    text = "models: directories, TF-Hub modules or word2vec/GloVe files, named by file or directory name"
    p.add_argument("models", nargs="+", metavar="MODEL", help=text + "; the first is the default")
    p.add_argument("--classifier", help="classifier directory (OUT/classifier of 'cordswivel scicite')")
    p.add_argument("--host", default=SERVE.host, help="address to listen on (default %(default)s: this machine only)")
    p.add_argument("--port", type=int, default=SERVE.port, help="port (default %(default)s; 0 picks a free one)")
    p.set_defaults(run=commands.serve)
    return parser
