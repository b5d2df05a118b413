"""CORD-19 releases: every layout, directory and archive, against units built here and the real sample files."""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path

import pytest

from cordswivel.corpus.cord19 import Paper, is_metadata, parse_key, plan_readings
from cordswivel.corpus.reader import open_corpus
from cordswivel.corpus.sources import SkipCounts
from cordswivel.errors import CorpusError

from helpers import write_parse


def test_parse_keys_and_metadata_names():
    assert parse_key("document_parses/pmc_json/PMC123.xml.json") == "PMC123"
    assert parse_key("a/b/0a1b.json") == "0a1b" and parse_key("a/.hidden.json") is None
    assert parse_key("metadata.csv") is None
    assert is_metadata("x/metadata.csv") and is_metadata("all_sources_metadata_2020-03-13.csv")
    assert not is_metadata("x/other.csv")


def test_plan_reads_each_paper_once_pmc_first_then_unclaimed_parses():
    names = ["metadata.csv", "pdf/a1.json", "pmc/PMC1.xml.json", "pdf/b2.json", "pdf/orphan.json", "dup/b2.json"]

    def metadata(name, keys):
        assert keys == {"a1", "PMC1", "b2", "orphan"}
        return [Paper(title="one", claims=("PMC1", "a1")), Paper(title="two", claims=("b2",)), Paper(title="three")]

    readings = plan_readings(names, metadata)
    assert [(r.paper.title if r.paper else None, r.parse) for r in readings] == [
        ("one", "pmc/PMC1.xml.json"),
        ("two", "pdf/b2.json"),
        ("three", None),
        (None, "pdf/orphan.json"),
    ]


METADATA_HEADER = [
    "cord_uid",
    "sha",
    "source_x",
    "title",
    "doi",
    "pmcid",
    "pubmed_id",
    "license",
    "abstract",
    "publish_time",
    "authors",
    "journal",
    "mag_id",
    "who_covidence_id",
    "arxiv_id",
    "pdf_json_files",
    "pmc_json_files",
    "url",
    "s2_id",
]


def build_release(root: Path, layout: str) -> dict[str, list[str]]:
    """A small release with every case; returns the units each paper must give (order-free)."""
    if layout == "2020-05":
        pdf_dir, pmc_dir = root / "document_parses" / "pdf_json", root / "document_parses" / "pmc_json"
    else:  # March-April 2020 subset layout
        pdf_dir, pmc_dir = root / "comm_use_subset" / "pdf_json", root / "comm_use_subset" / "pmc_json"
    # Paper 1: PDF and PMC parse -> PMC read, metadata title and abstract used.
    write_parse(pdf_dir / "aaa1.json", "aaa1", title="PDF title", body=["pdf body must not appear"])
    write_parse(
        pmc_dir / "PMC1.xml.json",
        "PMC1",
        title="pmc parse title",
        authors=[("Ann", "B", "Lee")],
        body=["pmc body one", "pmc body two"],
        bibs=["Ref title one"],
        pmc=True,
        indent=4,
    )
    # Paper 2: PDF parse only, with its own abstract.
    write_parse(
        pdf_dir / "bbb2.json",
        "bbb2",
        title="",
        authors=[("Bo", "", "Chan")],
        abstract=["pdf abstract"],
        body=["body two"],
        bibs=["Ref A", "Ref B"],
    )
    # Paper 4: a parse no metadata row claims.
    write_parse(pdf_dir / "ddd4.json", "ddd4", title="Orphan title", body=["orphan body"])
    rows = [
        dict(
            cord_uid="u1",
            sha="aaa1",
            pmcid="PMC1",
            title="Meta title one",
            abstract="Meta abstract one",
            authors="Lee, Ann B.",
        ),
        dict(cord_uid="u1", sha="aaa1", pmcid="PMC1", title="Duplicate row", abstract="dup"),
        dict(cord_uid="u2", sha="bbb2", title="Meta title two", abstract="unused meta abstract"),
        dict(cord_uid="u3", title="Only metadata", abstract="Meta abstract three", authors="Roe, Jo; Poe, Ed"),
    ]
    with open(root / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, METADATA_HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return {
        "u1": ["Meta title one", "Ann B Lee", "Meta abstract one", "pmc body one", "pmc body two", "Ref title one"],
        "u2": ["Meta title two", "Bo Chan", "pdf abstract", "body two", "Ref A", "Ref B"],
        "u3": ["Only metadata", "Roe, Jo", "Poe, Ed", "Meta abstract three"],
        "ddd4": ["Orphan title", "orphan body"],
    }


def make_tar(directory: Path, out: Path, nested: bool = False) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        if nested:  # 2020-05+ releases ship document_parses as a tarball inside the release tarball
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w:gz") as parses:
                parses.add(directory / "document_parses", arcname="document_parses")
            info = tarfile.TarInfo("2020-06-01/document_parses.tar.gz")
            info.size = inner.tell()
            inner.seek(0)
            tar.addfile(info, inner)
            tar.add(directory / "metadata.csv", arcname="2020-06-01/metadata.csv")
        else:
            tar.add(directory, arcname="2020-04-10")
    return out


@pytest.mark.parametrize("layout", ["2020-05", "2020-04"])
@pytest.mark.parametrize("packed", ["directory", "tar.gz"])
def test_release_fixture_units(tmp_path, layout, packed):
    expected = build_release(tmp_path / "release", layout)
    path = tmp_path / "release"
    if packed == "tar.gz":
        path = make_tar(path, tmp_path / "release.tar.gz", nested=layout == "2020-05")
    corpus = open_corpus([path])
    units = [u for u in corpus.units() if u]
    assert sorted(units) == sorted(u for paper in expected.values() for u in paper)
    # partitioned reading gives the same units
    assert sorted(u for p in corpus.partitions(3) for u in p.units() if u) == sorted(units)


def _expected_parse_units(doc: dict) -> list[str]:
    """Independent reading of one parse file: what the module's corpus took from it."""
    units = [doc["metadata"]["title"]]
    for a in doc["metadata"]["authors"]:
        units.append(" ".join(p for p in [a["first"], *a["middle"], a["last"], a["suffix"]] if p))
    units += [p["text"] for p in doc.get("abstract", [])]
    units += [p["text"] for p in doc["body_text"]]
    units += [b["title"] for b in doc["bib_entries"].values()]
    return [u for u in units if u]


def test_real_release_parses_are_all_read(release_sample):
    """Every real parse file of ../shared/testdata gives its paragraphs, titles and names."""
    parse_files = sorted(p for p in release_sample.rglob("*.json"))
    assert len(parse_files) == 12
    for path in parse_files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        expected = _expected_parse_units(doc)
        assert not (path.parent / "metadata.csv").exists()
        got = [u for u in open_corpus([path.parent]).units() if u]
        for unit in expected:
            assert unit in got, (path.name, unit[:60])


def test_real_releases_with_metadata(release_sample):
    """Releases with metadata.csv: PMC preferred, metadata title and abstract, one read per cord_uid."""
    units = [u for u in open_corpus([release_sample / "2020-04-10"]).units() if u]
    pmc = json.loads((release_sample / "2020-04-10/custom_license/pmc_json/PMC140314.xml.json").read_text())
    pdf = json.loads(
        (
            release_sample / "2020-04-10/custom_license/pdf_json/1e1286db212100993d03cc22374b624f7caee956.json"
        ).read_text()
    )
    other = json.loads(
        (
            release_sample / "2020-04-10/custom_license/pdf_json/8377625371f618e98225d922c389f9da4bf059da.json"
        ).read_text()
    )
    for paragraph in pmc["body_text"]:
        assert paragraph["text"] in units or not paragraph["text"]
    only_pdf = {p["text"] for p in pdf["body_text"]} - {p["text"] for p in pmc["body_text"]}
    assert not only_pdf & set(units)  # the PDF parse of the PMC paper is not read
    with open(release_sample / "2020-04-10/metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        assert row["title"] in units
    assert rows[0]["abstract"] in units  # PMC parses have no abstract: metadata's is used
    assert pdf["metadata"]["title"] not in units  # the metadata title replaces the GROBID one
    for paragraph in other["body_text"]:
        assert paragraph["text"] in units or not paragraph["text"]
    # 2020-11-29: the final schema; both parses are read, the missing ones fall back to metadata
    late = [u for u in open_corpus([release_sample / "2020-11-29"]).units() if u]
    with open(release_sample / "2020-11-29/metadata.csv", newline="", encoding="utf-8") as handle:
        late_rows = list(csv.DictReader(handle))
    assert all(row["title"] in late for row in late_rows)
    assert len(open_corpus([release_sample / "2020-03-20"]).sources) == 1


def test_metadata_csv_with_invalid_utf8_names_its_line(tmp_path):
    release = tmp_path / "rel"
    release.mkdir()
    (release / "metadata.csv").write_bytes(b"cord_uid,title,abstract\nu1,Good title,A\nu2,Bad \xff title,B\n")
    with pytest.raises(CorpusError, match=r"metadata\.csv:3: invalid UTF-8"):
        list(open_corpus([release]).units())
    skips = SkipCounts()
    assert [u for u in open_corpus([release]).units("skip", skips) if u] == ["Good title", "A"]
    assert skips == {"invalid UTF-8": 1}


def test_a_truncated_archive_is_one_counted_skip(tmp_path):
    build_release(tmp_path / "release", "2020-04")
    whole = make_tar(tmp_path / "release", tmp_path / "whole.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(whole[: len(whole) * 2 // 3])
    corpus = open_corpus([tmp_path / "cut.tar.gz"])
    skips = SkipCounts()
    list(corpus.units(on_error="skip", skips=skips))
    assert skips == {"corrupt archive": 1}
    with pytest.raises(CorpusError, match=r"cut\.tar\.gz: truncated or corrupt archive"):
        list(corpus.units())
