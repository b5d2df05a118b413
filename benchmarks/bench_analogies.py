"""evaluate_word_analogies against gensim's on Google's questions-words.txt: equal accuracy, time.

    .venv/bin/python benchmarks/bench_analogies.py [--model runs/demo/model] [--repeat 3]

Loads the model's vectors into gensim's ``KeyedVectors`` too, answers the questions-words.txt that
gensim ships in its test data (the ``bench`` extra installs gensim) both ways, case-insensitive and
case-sensitive, and reports both accuracies, the per-section counts' agreement and the best of
``--repeat`` timings. Targets: equal accuracy (to 1e-6), at least gensim's speed. 3CosMul is timed
too (gensim's ``evaluate_word_analogies`` has only 3CosAdd).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cordswivel.embedding.loading import load


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="runs/demo/model", help="model (default %(default)s: make demo)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import gensim
        from gensim.models import KeyedVectors
    except ImportError:
        sys.exit("bench_analogies: needs gensim: .venv/bin/pip install -e '.[bench]'")
    questions = Path(gensim.__file__).parent / "test" / "test_data" / "questions-words.txt"
    if not Path(args.model).exists():
        sys.exit(f"bench_analogies: {args.model} not found: run 'make demo' first or pass --model")
    model = load(args.model)
    kv = KeyedVectors(model.embedding_dim)
    kv.add_vectors(list(model.vocab), model.vectors)
    report: dict = {"benchmark": "analogies", "model": args.model, "vocab_size": len(model)}
    for case_insensitive in (True, False):
        ours_s, ours = best_time(
            lambda ci=case_insensitive: model.evaluate_word_analogies(questions, case_insensitive=ci), args.repeat
        )
        theirs_s, (score, sections) = best_time(
            lambda ci=case_insensitive: kv.evaluate_word_analogies(questions, case_insensitive=ci), args.repeat
        )
        same_sections = [(s.section, s.correct, s.incorrect) for s in ours.sections] == [
            (s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections[:-1]
        ]
        report["case_insensitive" if case_insensitive else "case_sensitive"] = {
            "questions": ours.questions,
            "skipped": ours.skipped,
            "accuracy": ours.accuracy,
            "gensim_accuracy": score,
            "difference": abs(ours.accuracy - score),
            "sections_equal": same_sections,
            "seconds": round(ours_s, 3),
            "gensim_seconds": round(theirs_s, 3),
        }
    cosmul_s, cosmul = best_time(lambda: model.evaluate_word_analogies(questions, method="3cosmul"), args.repeat)
    report["3cosmul"] = {"accuracy": cosmul.accuracy, "seconds": round(cosmul_s, 3)}
    report["targets"] = {"difference": 1e-6, "seconds": "<= gensim_seconds"}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
