"""The ``cordswivel`` command: a thin layer over the Python API (parse options, call, report).

Each command imports what it needs when it runs, deliberately: TensorFlow, Numba and Dask take
seconds to import, and ``--help`` or ``neighbors`` should not wait for them.

Exit codes: 0 success, 1 data or model error (one line on stderr), 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .config import (
    DEFAULT_TEXT_FIELDS,
    DEMO_SWIVEL,
    HEATMAP_NEIGHBOURS,
    NEIGHBOURS,
    ON_ERROR_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    ClassifierConfig,
    CooccurConfig,
    SwivelConfig,
)
from .errors import ConfigError, CordswivelError
from .sources import SkipCounts

COOC = CooccurConfig()
SWIV = SwivelConfig()
CLF = ClassifierConfig()


def _bar(desc: str, total: int) -> tqdm:
    return tqdm(
        total=total,
        desc=desc,
        unit={"vocabulary": "part", "co-occurrence": "part", "shards": "shard", "SciCite epochs": "epoch"}.get(
            desc, "block"
        ),
        leave=False,
        disable=None,
    )


def _epoch_bar(epochs: int) -> Any:
    return lambda epoch, total: _bar(f"epoch {epoch + 1}/{epochs}", total)


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
        type=int,
        default=COOC.shard_size,
        help=f"words per shard; the vocabulary is truncated to a multiple (default {COOC.shard_size})",
    )
    g.add_argument("--lowercase", action="store_true", help="lowercase tokens (default: cased, like the module)")
    g.add_argument(
        "--text-fields",
        default=",".join(DEFAULT_TEXT_FIELDS),
        help="comma-separated JSON lines fields read as text (default %(default)s)",
    )
    g.add_argument(
        "--workers", type=int, default=None, help="local worker processes for the corpus passes (default: all cores)"
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


def _size(text: str) -> int:
    from .execution import parse_size

    try:
        return parse_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cooccur_config(args: argparse.Namespace) -> CooccurConfig:
    return CooccurConfig(
        min_count=args.min_count,
        max_vocab=args.max_vocab,
        window=args.window,
        shard_size=args.shard_size,
        lowercase=args.lowercase,
        text_fields=tuple(f.strip() for f in args.text_fields.split(",") if f.strip()),
    )


def _cmd_cooccur(args: argparse.Namespace) -> int:
    from .cooccur import count_cooccurrences
    from .corpus import open_corpus

    config = _cooccur_config(args)
    stats = count_cooccurrences(
        open_corpus(args.corpus, text_fields=config.text_fields),
        args.out,
        config,
        workers=args.workers,
        scheduler=args.scheduler,
        memory_limit=args.memory_limit,
        on_error=args.on_error,
        overwrite=args.overwrite,
        progress=_bar,
    )
    print(
        f"{stats.tokens:,} tokens in {stats.units:,} units, {stats.types:,} types; vocabulary "
        f"{stats.vocab_size:,}; {stats.nnz:,} non-zero cells; {stats.seconds:.1f} s "
        f"({stats.tokens / max(stats.seconds, 1e-9) / 1e6:.2f} M tokens/s) -> {args.out}"
    )
    if stats.skipped:
        print(f"skipped: {SkipCounts(stats.skipped).summary()}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .pipeline import train_embeddings

    # every SwivelConfig field has an option of its name, but embedding_dim is --dim
    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(SwivelConfig) if f.name != "embedding_dim"}
    swivel = SwivelConfig(embedding_dim=args.dim, **options)
    model = train_embeddings(
        args.out,
        corpus=args.corpus or None,
        cooccur_dir=args.cooccur,
        cooccur_config=_cooccur_config(args),
        swivel_config=swivel,
        workers=args.workers,
        scheduler=args.scheduler,
        memory_limit=args.memory_limit,
        on_error=args.on_error,
        resume=args.resume,
        devices=args.devices,
        overwrite=args.overwrite,
        count_progress=_bar,
        epoch_progress=_epoch_bar(args.epochs),
    )
    corpus = model.config.get("corpus", {})
    print(
        f"vocabulary {len(model):,} x {model.embedding_dim} from {corpus.get('tokens', 0):,} tokens; "
        f"final loss {model.config['final_loss']:.4f} after {model.config['epochs_trained']} epochs "
        f"({model.config['stop_reason']}); model -> {args.out}"
    )
    if corpus.get("skipped"):
        print(f"skipped: {SkipCounts(corpus['skipped']).summary()}")
    return 0


def _cmd_neighbors(args: argparse.Namespace) -> int:
    from .loading import load

    model = load(args.model)
    for word in args.words:
        if word not in model:
            print(f"{word}: not in vocabulary")
            continue
        print(f"{word}: " + ", ".join(f"{w} ({s:.3f})" for w, s in model.most_similar(word, k=args.k)))
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from .loading import load

    model = load(args.model)
    vectors = model.embed(args.texts)
    rows = [{"text": t, "embedding": [round(float(x), 7) for x in v]} for t, v in zip(args.texts, vectors, strict=True)]
    json.dump(rows, sys.stdout)
    print()
    return 0


def _cmd_evaluate_pairs(args: argparse.Namespace) -> int:
    from .loading import load

    result = load(args.model).evaluate_word_pairs(args.file, case_insensitive=args.case_insensitive)
    print(
        json.dumps(
            {
                "pearson": result.pearson,
                "spearman": result.spearman,
                "pairs_covered": result.pairs_covered,
                "pairs_total": result.pairs_total,
            }
        )
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    bar = _bar("SciCite epochs", CLF.epochs)
    result = run_demo(
        args.out,
        data_dir=args.data_dir,
        workers=args.workers,
        log=lambda m: print(m, flush=True),
        count_progress=_bar,
        epoch_progress=_epoch_bar(DEMO_SWIVEL.epochs),
        on_classifier_epoch=lambda epoch, logs: bar.update(1),
    )
    bar.close()
    test, heat = result.classifier.test, result.coherence
    print(f"SciCite test: accuracy {test.accuracy:.3f}, macro-F1 {test.macro_f1:.3f}, loss {test.loss:.3f}")
    print(
        f"heatmap: within-group cosine {heat.within_group_mean_cosine:.3f}, "
        f"between {heat.between_group_mean_cosine:.3f}"
    )
    print(f"demo took {result.seconds:.0f} s; open {Path(args.out) / 'report.html'}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .formats import export_projector, export_word2vec
    from .loading import load

    model = load(args.model)
    if args.format == "hub":
        from .hub import export_hub_module  # only this format needs TensorFlow

        export_hub_module(model, args.out, overwrite=args.overwrite)
    elif args.format == "word2vec":
        export_word2vec(model, args.out, binary=args.binary)
    else:
        export_projector(model, args.out, overwrite=args.overwrite)
    print(f"{args.format} export of {len(model):,} x {model.embedding_dim} -> {args.out}")
    return 0


def _cmd_heatmap(args: argparse.Namespace) -> int:
    from .analysis import TUTORIAL_TERMS, neighbour_table, plot_heatmap, similarity_matrix
    from .loading import load

    model = load(args.model)
    terms = args.terms or list(TUTORIAL_TERMS)
    result = similarity_matrix(model, terms, cosine=args.cosine)
    plot_heatmap(result, args.out)
    if result.oov:
        print(f"not in vocabulary (zero vectors): {', '.join(result.oov)}", file=sys.stderr)
    for term, neighbours in neighbour_table(model, terms, k=args.k):
        print(f"{term}: " + (", ".join(f"{w} ({s:.3f})" for w, s in neighbours) or "not in vocabulary"))
    print(f"heatmap -> {args.out}")
    return 0


def _cmd_scicite(args: argparse.Namespace) -> int:
    from .data import find_data_dir
    from .loading import load
    from .scicite import load_scicite, train_classifier, write_classifier_outputs

    config = ClassifierConfig(epochs=args.epochs, batch_size=args.batch_size, trainable=args.trainable, seed=args.seed)
    config.validate()
    data = load_scicite(args.scicite or find_data_dir(args.data_dir) / "scicite")
    model = load(args.model)
    bar = _bar("SciCite epochs", config.epochs)
    result = train_classifier(model, data, config, on_epoch=lambda epoch, logs: bar.update(1))
    bar.close()
    write_classifier_outputs(result, data, args.out)
    for split, m in (("validation", result.validation), ("test", result.test)):
        print(f"{split}: loss {m.loss:.3f}, accuracy {m.accuracy:.3f}, macro-F1 {m.macro_f1:.3f}")
    print(f"outputs -> {args.out}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .scicite import load_classifier, log_softmax

    classify = load_classifier(args.classifier)
    logits, labels = classify(args.texts)
    probs = np.exp(log_softmax(logits))
    out = [
        {
            "text": t,
            "prediction": labels[int(p.argmax())],
            "probabilities": {label: round(float(x), 4) for label, x in zip(labels, p, strict=True)},
        }
        for t, p in zip(args.texts, probs, strict=True)
    ]
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cordswivel",
        description="Train Swivel word embeddings on CORD-19 (or any text) and use them like the "
        "TF-Hub CORD-19 Swivel module.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.set_defaults(run=_cmd_cooccur)

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
    g.add_argument("--dim", type=int, default=SWIV.embedding_dim, help=f"vector size (default {SWIV.embedding_dim})")
    g.add_argument("--epochs", type=int, default=SWIV.epochs, help="the most epochs to train (default %(default)s)")
    text = "stop once an epoch lowers the loss by less than this fraction (default %(default)s; 0: never)"
    g.add_argument("--tolerance", type=float, default=SWIV.tolerance, help=text)
    text = "matmul operands (default %(default)s); bfloat16 is faster on CPUs with AVX512_BF16 or AMX and on GPUs"
    g.add_argument("--precision", choices=PRECISIONS, default=SWIV.precision, help=text)
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=SWIV.optimizer, help="default %(default)s")
    g.add_argument("--learning-rate", type=float, default=SWIV.learning_rate, help="default %(default)s")
    g.add_argument("--confidence-base", type=float, default=SWIV.confidence_base, help="default %(default)s")
    g.add_argument("--confidence-scale", type=float, default=SWIV.confidence_scale, help="default %(default)s")
    g.add_argument("--confidence-exponent", type=float, default=SWIV.confidence_exponent, help="default %(default)s")
    g.add_argument("--seed", type=int, default=SWIV.seed, help="initialisation and block order (default %(default)s)")
    text = "comma-separated TensorFlow devices, one block each per step, e.g. GPU:0,GPU:1 (default: the GPUs, else CPU)"
    g.add_argument("--devices", type=lambda arg: [d.strip() for d in arg.split(",") if d.strip()], help=text)
    p.set_defaults(run=_cmd_train)

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
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.set_defaults(run=_cmd_demo)

    p = sub.add_parser(
        "export",
        help="export as a TF-Hub SavedModel, word2vec file or projector files",
        description="Export embeddings: 'hub' writes a TF2 SavedModel that hub.load and "
        "hub.KerasLayer take in place of tensorflow/cord-19/swivel-128d/3; 'word2vec' "
        "a file gensim's KeyedVectors.load_word2vec_format reads; 'projector' "
        "vectors.tsv, metadata.tsv and projector_config.pbtxt.",
    )
    p.add_argument("model", help="model directory (or any embeddings cordswivel.load accepts)")
    p.add_argument("--format", choices=("hub", "word2vec", "projector"), default="hub", help="default %(default)s")
    p.add_argument("--out", required=True, help="output directory (hub, projector) or file (word2vec)")
    p.add_argument("--binary", action="store_true", help="binary word2vec format")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser(
        "heatmap",
        help="similarity heatmap and neighbours of terms",
        description="Draw the inner-product matrix of the terms' embeddings divided by its maximum "
        "(or cosine) as a heatmap, as the TF-Hub tutorial, and print neighbours.",
    )
    p.add_argument("model", help="model directory")
    p.add_argument("terms", nargs="*", metavar="TERM", help="terms (default: the tutorial's nine)")
    p.add_argument("--out", required=True, help="image file (.png, .svg or .pdf)")
    p.add_argument("--cosine", action="store_true", help="cosine similarity instead of inner product / max")
    p.add_argument("-k", type=int, default=HEATMAP_NEIGHBOURS, help="neighbours per term (default %(default)s)")
    p.set_defaults(run=_cmd_heatmap)

    p = sub.add_parser(
        "scicite",
        help="train and evaluate the SciCite citation-intent classifier",
        description="Train the tutorial's classifier (embedding layer -> Dense(3)) on SciCite and "
        "write metrics.json, curves.png, confusion.png, predictions.csv and the "
        "saved classifier to OUT.",
    )
    p.add_argument("model", help="model directory")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--epochs", type=int, default=CLF.epochs, help="default %(default)s")
    p.add_argument("--batch-size", type=int, default=CLF.batch_size, help="default %(default)s")
    p.add_argument("--trainable", action="store_true", help="fine-tune the embedding matrix")
    p.add_argument("--seed", type=int, default=CLF.seed, help="default %(default)s")
    p.add_argument("--scicite", help="SciCite directory (default: DATA/scicite)")
    p.add_argument("--data-dir", help="data directory (default: $CORDSWIVEL_DATA, else ../shared/data)")
    p.set_defaults(run=_cmd_scicite)

    p = sub.add_parser(
        "predict",
        help="label citation sentences with a saved classifier",
        description="Label each TEXT with a classifier saved by 'cordswivel scicite' (JSON output "
        "with class probabilities).",
    )
    p.add_argument("classifier", help="classifier directory (OUT/classifier of 'cordswivel scicite')")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.set_defaults(run=_cmd_predict)

    p = sub.add_parser(
        "neighbors",
        help="nearest neighbours of words (cosine)",
        description="Print the nearest neighbours of each WORD by cosine similarity.",
    )
    p.add_argument("model", help="model directory, TF-Hub module directory, or word2vec/GloVe file")
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("-k", type=int, default=NEIGHBOURS, help="neighbours per word (default %(default)s)")
    p.set_defaults(run=_cmd_neighbors)

    p = sub.add_parser(
        "embed", help="embed texts (JSON output)", description="Print the sentence embedding of each TEXT as JSON."
    )
    p.add_argument("model", help="model directory")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.set_defaults(run=_cmd_embed)

    p = sub.add_parser(
        "evaluate-pairs",
        help="correlate similarities with human word-pair scores",
        description="Spearman and Pearson correlation of cosine similarity with the human scores of a "
        "'word word score' file (tab or space separated, as MEN, SimLex-999 and WordSim-353 come), over the "
        "pairs whose words are both in the vocabulary (JSON output, with the coverage).",
    )
    p.add_argument("model", help="model directory (or any embeddings cordswivel.load accepts)")
    p.add_argument("file", help="word pairs file")
    p.add_argument(
        "--case-insensitive",
        action="store_true",
        help="compare words in upper case, a word standing for its most frequent case variant (as gensim's "
        "evaluate_word_pairs(case_insensitive=True))",
    )
    p.set_defaults(run=_cmd_evaluate_pairs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"cordswivel {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except CordswivelError as exc:
        print(f"cordswivel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        hint = " (continue with the same command plus --resume)" if args.command == "train" else ""
        print(f"cordswivel {args.command}: interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
