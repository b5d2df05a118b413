"""What each ``cordswivel`` command does once its options are parsed (``cli`` parses them): call the
Python API, print a short summary. One function per command, named as the command.

Each imports what it needs when it runs, deliberately: TensorFlow, Numba and Dask take seconds to
import, and ``--help`` or ``neighbors`` should not wait for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .config import ClassifierConfig, CooccurConfig, ServeConfig, SubwordConfig, SwivelConfig
from .corpus.sources import SkipCounts
from .errors import ConfigError
from .fileio import check_output_free

CLF = ClassifierConfig()


def print_json(data: Any) -> None:
    """One JSON document on stdout, as every command that prints JSON prints it: UTF-8 text as is,
    NaN as null (JSON has no NaN)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and value != value:
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    print(json.dumps(clean(data), ensure_ascii=False, allow_nan=False))


def progress_bar(desc: str, total: int) -> tqdm:
    return tqdm(
        total=total,
        desc=desc,
        unit={"vocabulary": "part", "co-occurrence": "part", "shards": "shard", "SciCite epochs": "epoch"}.get(
            desc, "block"
        ),
        leave=False,
        disable=None,
    )


def epoch_bar(epoch: int, total: int) -> tqdm:
    return progress_bar(f"epoch {epoch + 1}", total)


def cooccur_config(args: argparse.Namespace) -> CooccurConfig:
    return CooccurConfig(
        min_count=args.min_count,
        max_vocab=args.max_vocab,
        window=args.window,
        shard_size=args.shard_size,
        lowercase=args.lowercase,
        text_fields=args.text_fields,
    )


def cooccur(args: argparse.Namespace) -> int:
    from .corpus.reader import open_corpus
    from .counting.cooccur import count_cooccurrences

    config = cooccur_config(args)
    stats = count_cooccurrences(
        open_corpus(args.corpus, text_fields=config.text_fields, on_error=args.on_error),
        args.out,
        config,
        workers=args.workers,
        scheduler=args.scheduler,
        memory_limit=args.memory_limit,
        on_error=args.on_error,
        overwrite=args.overwrite,
        progress=progress_bar,
    )
    print(
        f"{stats.tokens:,} tokens in {stats.units:,} units, {stats.types:,} types; vocabulary "
        f"{stats.vocab_size:,}; {stats.nnz:,} non-zero cells; {stats.seconds:.1f} s "
        f"({stats.tokens / max(stats.seconds, 1e-9) / 1e6:.2f} M tokens/s) -> {args.out}"
    )
    if stats.skipped:
        print(f"skipped: {SkipCounts(stats.skipped).summary()}")
    return 0


def train(args: argparse.Namespace) -> int:
    from .pipeline.train import train_embeddings

    # every SwivelConfig field has an option of its name, but embedding_dim is --dim
    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(SwivelConfig) if f.name != "embedding_dim"}
    swivel = SwivelConfig(embedding_dim=args.dim, **options)
    model = train_embeddings(
        args.out,
        subword_config=SubwordConfig(buckets=args.subwords),
        corpus=args.corpus or None,
        cooccur_dir=args.cooccur,
        cooccur_config=cooccur_config(args),
        swivel_config=swivel,
        workers=args.workers,
        scheduler=args.scheduler,
        memory_limit=args.memory_limit,
        on_error=args.on_error,
        resume=args.resume,
        devices=args.devices,
        overwrite=args.overwrite,
        count_progress=progress_bar,
        epoch_progress=epoch_bar,
    )
    corpus = model.config.get("corpus", {})
    print(
        f"vocabulary {len(model):,} x {model.embedding_dim} from {corpus.get('tokens', 0):,} tokens; "
        f"final loss {model.config['final_loss']:.4f} after {model.config['epochs_trained']} epochs "
        f"({model.config['stop_reason']}); model -> {args.out}"
    )
    if corpus.get("skipped"):
        print(f"skipped: {SkipCounts(corpus['skipped']).summary()}")
    if model.subwords is not None:
        print(f"subwords: {model.subwords.buckets:,} n-gram rows for words outside the vocabulary")
    return 0


def subwords(args: argparse.Namespace) -> int:
    from .embedding.loading import load

    check_output_free(args.out, args.overwrite)
    model = load(args.model).with_subwords(SubwordConfig(buckets=args.buckets))
    model.save(args.out, overwrite=args.overwrite)
    fit = model.config.get("subwords", {})
    done = f"{args.buckets:,} n-gram rows fit (relative error {fit['relative_error']:.3f})" if fit else "no subwords"
    print(f"{len(model):,} words x {model.embedding_dim}, {done} -> {args.out}")
    return 0


def neighbors(args: argparse.Namespace) -> int:
    from .embedding.loading import load

    model = load(args.model)
    for word in args.words:
        if not model.has_vector(word):
            print(f"{word}: not in vocabulary")
            continue
        mark = "" if word in model else " (not in vocabulary: from its subwords)"
        print(f"{word}{mark}: " + ", ".join(f"{w} ({s:.3f})" for w, s in model.most_similar(word, k=args.k)))
    return 0


def embed(args: argparse.Namespace) -> int:
    from .embedding.loading import load

    model = load(args.model)
    vectors = model.embed(args.texts)
    rows = [{"text": t, "embedding": [round(float(x), 7) for x in v]} for t, v in zip(args.texts, vectors, strict=True)]
    print_json(rows)
    return 0


def evaluate_pairs(args: argparse.Namespace) -> int:
    from .embedding.loading import load

    result = load(args.model).evaluate_word_pairs(args.file, case_insensitive=args.case_insensitive)
    print_json(dataclasses.asdict(result))  # NaN (fewer than two pairs covered) prints as null
    return 0


def analogy(args: argparse.Namespace) -> int:
    from .embedding.loading import load
    from .embedding.queries import read_terms

    model = load(args.model)
    candidates = read_terms(args.candidates) if args.candidates else None
    query = model.most_similar_cosmul if args.cosmul else model.most_similar
    found = query(args.positive, args.k, negative=args.negative, candidates=candidates)
    print_json(
        {
            "positive": args.positive,
            "negative": args.negative,
            "method": "3cosmul" if args.cosmul else "3cosadd",
            "results": [{"term": t, "score": round(s, 6)} for t, s in found],
        }
    )
    return 0


def rank(args: argparse.Namespace) -> int:
    from .embedding.loading import load
    from .embedding.queries import read_terms

    if args.out:
        check_output_free(args.out, args.overwrite, kind="file")
    model = load(args.model)
    ranking = model.rank(args.query, read_terms(args.candidates), negative=args.negative)
    if ranking.missing:
        print(f"not ranked, no token in the vocabulary: {', '.join(ranking.missing)}", file=sys.stderr)
    if ranking.subword:
        print(f"ranked by their subwords (not in the vocabulary): {', '.join(ranking.subword)}", file=sys.stderr)
    if args.out:
        ranking.to_csv(args.out)
        best = f"; first: {ranking.terms[0]} ({ranking.scores[0]:.3f})" if ranking.terms else ""
        print(f"{len(ranking.terms):,} candidates ranked{best} -> {args.out}")
    else:
        rows = [{"rank": k, "term": t, "score": round(s, 6)} for k, t, s in ranking.rows()]
        print_json({"ranking": rows, "missing": list(ranking.missing), "subword": list(ranking.subword)})
    return 0


def evaluate_analogies(args: argparse.Namespace) -> int:
    from .embedding.loading import load

    result = load(args.model).evaluate_word_analogies(
        args.file, restrict_vocab=args.restrict_vocab, case_insensitive=not args.case_sensitive, method=args.method
    )
    sections = [
        {"section": s.section, "correct": s.correct, "incorrect": s.incorrect, "accuracy": s.accuracy}
        for s in result.sections
    ]
    print_json(
        {
            "accuracy": result.accuracy,
            "correct": result.correct,
            "questions": result.questions,
            "skipped": result.skipped,
            "sections": sections,
        }
    )
    return 0


def compare(args: argparse.Namespace) -> int:
    from .embedding.loading import load
    from .tutorial.compare import drift

    if args.out:
        check_output_free(args.out, args.overwrite, kind="file")
    old, new = load(args.old), load(args.new)
    table = drift(old, new, k=args.k, min_count=args.min_count).ranked(args.by, most_changed=not args.stable)
    if args.out:
        table.to_csv(args.out)
        print(f"{len(table):,} shared words, ranked by {args.by} -> {args.out}")
    else:
        print_json({"shared_words": len(table), "by": args.by, "words": table.head(args.top).rows()})
    return 0


def demo(args: argparse.Namespace) -> int:
    from .pipeline.demo import run_demo

    bar = progress_bar("SciCite epochs", CLF.epochs)
    result = run_demo(
        args.out,
        data_dir=args.data_dir,
        workers=args.workers,
        log=lambda m: print(m, flush=True),
        count_progress=progress_bar,
        epoch_progress=epoch_bar,
        on_classifier_epoch=lambda epoch, logs: bar.update(1),
        overwrite=args.overwrite,
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


def export(args: argparse.Namespace) -> int:
    from .embedding.formats import export_projector, export_word2vec
    from .embedding.loading import load

    if args.binary and args.format != "word2vec":
        raise ConfigError(f"--binary is an option of --format word2vec, not of --format {args.format}")
    check_output_free(args.out, args.overwrite, kind="file" if args.format == "word2vec" else "directory")
    model = load(args.model)
    if args.format == "hub":
        from .embedding.hub import export_hub_module  # only this format needs TensorFlow

        export_hub_module(model, args.out, overwrite=args.overwrite)
    elif args.format == "word2vec":
        export_word2vec(model, args.out, binary=args.binary, overwrite=args.overwrite)
    else:
        export_projector(model, args.out, overwrite=args.overwrite)
    print(f"{args.format} export of {len(model):,} x {model.embedding_dim} -> {args.out}")
    return 0


def heatmap(args: argparse.Namespace) -> int:
    from .embedding.loading import load
    from .fileio import check_figure_format
    from .tutorial.analysis import TUTORIAL_TERMS, neighbour_table, plot_heatmap, similarity_matrix

    check_figure_format(args.out)
    check_output_free(args.out, args.overwrite, kind="file")
    model = load(args.model)
    terms = args.terms or list(TUTORIAL_TERMS)
    result = similarity_matrix(model, terms, cosine=args.cosine)
    plot_heatmap(result, args.out)
    if result.oov:
        print(f"not in vocabulary (the model's OOV vector): {', '.join(result.oov)}", file=sys.stderr)
    if result.subword:
        print(f"not in vocabulary (built from subwords): {', '.join(result.subword)}", file=sys.stderr)
    for term, neighbours in neighbour_table(model, terms, k=args.k):
        print(f"{term}: " + (", ".join(f"{w} ({s:.3f})" for w, s in neighbours) or "not in vocabulary"))
    print(f"heatmap -> {args.out}")
    return 0


def scicite(args: argparse.Namespace) -> int:
    from .data import find_data_dir
    from .embedding.loading import load
    from .tutorial.scicite import load_scicite, train_classifier, write_classifier_outputs

    config = ClassifierConfig(epochs=args.epochs, batch_size=args.batch_size, trainable=args.trainable, seed=args.seed)
    config.validate()
    check_output_free(args.out, args.overwrite)  # before training, not after
    data = load_scicite(args.scicite or find_data_dir(args.data_dir) / "scicite")
    model = load(args.model)
    bar = progress_bar("SciCite epochs", config.epochs)
    result = train_classifier(model, data, config, on_epoch=lambda epoch, logs: bar.update(1))
    bar.close()
    write_classifier_outputs(result, data, args.out, overwrite=args.overwrite)
    for split, m in (("validation", result.validation), ("test", result.test)):
        print(f"{split}: loss {m.loss:.3f}, accuracy {m.accuracy:.3f}, macro-F1 {m.macro_f1:.3f}")
    print(f"outputs -> {args.out}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from .tutorial.scicite import load_classifier, predict_intents

    intents = predict_intents(load_classifier(args.classifier), args.texts)
    out = [
        {"text": t, "prediction": i.label, "probabilities": {k: round(p, 4) for k, p in i.probabilities.items()}}
        for t, i in zip(args.texts, intents, strict=True)
    ]
    print_json(out)
    return 0


def serve(args: argparse.Namespace) -> int:
    from .explorer.backend import Explorer
    from .explorer.serve import run

    config = ServeConfig(host=args.host, port=args.port)
    config.validate()
    explorer = Explorer.open(args.models, args.classifier, config)
    names = ", ".join(f"{name} ({len(m):,} words)" for name, m in explorer.models.items())

    def ready(url: str) -> None:
        print(f"serving {names} at {url} (Ctrl-C to stop)", flush=True)

    try:
        run(explorer, log_level="info" if args.verbose else "warning", on_ready=ready)
    finally:
        print("stopped", flush=True)  # then Ctrl-C or SIGTERM exits 130 or 143, as every command
    return 0
