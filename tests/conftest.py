"""Shared fixtures: small corpora built here, and the real data in ../shared when present."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RELEASE_SAMPLE = SHARED / "testdata" / "cord19_release_sample" / "files"


@pytest.fixture
def release_sample() -> Path:
    if not RELEASE_SAMPLE.is_dir():
        pytest.skip(f"{RELEASE_SAMPLE} is absent (the shared test data sits beside the repository)")
    return RELEASE_SAMPLE


def write_parse(path: Path, paper_id: str, *, title: str, authors=(), abstract=(), body=(), bibs=(),
                pmc: bool = False, indent=None) -> dict:
    """Write a CORD-19 parse JSON in AI2's layout (PMC parses have no abstract, spans say 'mention')."""
    span_key = "mention" if pmc else "text"
    para = lambda text, section: {"text": text, "cite_spans": [{"start": 0, "end": 1, span_key: text[:1],
                                                                 "ref_id": None}],
                                  "ref_spans": [], "section": section}
    doc = {"paper_id": paper_id,
           "metadata": {"title": title, "authors": [
               {"first": f, "middle": list(m), "last": l, "suffix": "", "affiliation": {}, "email": ""}
               for f, m, l in authors]}}
    if not pmc:
        doc["abstract"] = [para(t, "Abstract") for t in abstract]
    doc["body_text"] = [para(t, "Intro") for t in body]
    doc["bib_entries"] = {f"BIBREF{2 * k}": {"ref_id": f"b{2 * k}", "title": t, "authors": [], "year": 2000,
                                              "venue": "", "volume": "", "issn": "", "pages": "", "other_ids": {}}
                          for k, t in enumerate(bibs)}
    doc["ref_entries"] = {}
    doc["back_matter"] = [para("Competing interests none", "Competing interests")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent), encoding="utf-8")
    return doc
