"""Line file sources: units of text and JSON lines files, and the error policy on bad records."""

from __future__ import annotations

import gzip
import json

import pytest

from cordswivel.corpus.sources import ErrorPolicy, JsonLinesFile, Selection, SkipCounts, TextFile, split_author_list
from cordswivel.errors import ConfigError, CorpusError


def records(source, on_error="raise", skips=None):
    return list(source.records(ErrorPolicy(on_error, skips), Selection()))


def test_text_lines_are_units_and_crlf_is_dropped(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one two\r\n\nthree")
    assert records(TextFile(tmp_path / "a.txt")) == [["one two"], [""], ["three"]]


def test_jsonl_fields_in_order_and_authors_one_unit_each(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(
        gzip.compress((json.dumps({"abstract": "A", "title": "T", "authors": "Li, X; Doe, J;"}) + "\n\n").encode())
    )
    assert records(JsonLinesFile(path)) == [["T", "A"]]
    assert records(JsonLinesFile(path, ("authors", "title"))) == [["Li, X", "Doe, J", "T"]]
    assert split_author_list(" ; Smith, Adam J.;Zhang, Xiyun ") == ["Smith, Adam J.", "Zhang, Xiyun"]


def test_bad_records_raise_with_their_line_or_are_counted(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"title": "ok"}\n{"title": 3}\n[1]\n\xff\n{"title": "fine"}\n')
    with pytest.raises(CorpusError, match=r"a\.jsonl:2: field 'title' is int, expected text"):
        records(JsonLinesFile(path))
    skips = SkipCounts()
    assert records(JsonLinesFile(path), "skip", skips) == [["ok"], ["fine"]]
    assert skips == {"wrong type": 2, "invalid UTF-8": 1}
    assert skips.summary() == "1 invalid UTF-8, 2 wrong type"
    assert SkipCounts().summary() == "none"


def test_unit_batches_hold_the_units_separated_by_one_byte(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "é x", "text": "y"}) + "\n" + json.dumps({"title": "z"}) + "\n")
    ((buffer, ends),) = JsonLinesFile(path).unit_batches(ErrorPolicy(), Selection())
    starts = [0, *ends[:-1].tolist()]
    assert [buffer[a:b].rstrip(b"\n").decode() for a, b in zip(starts, ends, strict=True)] == ["é x", "y", "z"]


def test_text_unit_batches_are_the_lines_valid_or_not(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one two\n\nbad \xff\nthr\xc3\xa9e\r\n")
    skips, units = SkipCounts(), []
    for buffer, ends in TextFile(path).unit_batches(ErrorPolicy("skip", skips), Selection()):
        starts = [0, *ends[:-1].tolist()]
        units += [buffer[a:b].rstrip(b"\n") for a, b in zip(starts, ends, strict=True)]
    assert units == [b"one two", b"", "thr\u00e9e\r".encode()]
    assert skips == {"invalid UTF-8": 1}
    path.write_bytes(b"one two\n\nthree\n")  # all valid: one joined buffer, the same units
    ((buffer, ends),) = TextFile(path).unit_batches(ErrorPolicy(), Selection())
    assert buffer == b"one two\n\nthree" and ends.tolist() == [8, 9, 15]


def test_on_error_must_be_raise_or_skip():
    with pytest.raises(ConfigError, match="on_error must be one of"):
        ErrorPolicy("ignore")


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("suffix", [".txt", ".txt.gz", ".jsonl", ".jsonl.gz"])
def test_a_byte_order_mark_is_not_text(tmp_path, suffix, count):
    lines = ["alpha beta", "gamma", "delta"]
    body = "\n".join(json.dumps({"title": t}) if "jsonl" in suffix else t for t in lines) + "\n"
    data = b"\xef\xbb\xbf" + body.encode()
    path = tmp_path / f"a{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    source = JsonLinesFile(path) if "jsonl" in suffix else TextFile(path)
    read = [u for k in range(count) for u in source.records(ErrorPolicy(), Selection(k, count))]
    assert sorted(u for units in read for u in units) == sorted(lines)
    ((buffer, _),) = source.unit_batches(ErrorPolicy(), Selection())
    assert buffer.startswith(b"alpha beta")


def test_json_nested_too_deeply_is_a_malformed_record(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"title": "ok"}\n' + "[" * 100_000 + "]" * 100_000 + '\n{"title": "fine"}\n')
    with pytest.raises(CorpusError, match=r"a\.jsonl:2: malformed JSON \(nested too deeply\)"):
        records(JsonLinesFile(path))
    skips = SkipCounts()
    assert records(JsonLinesFile(path), "skip", skips) == [["ok"], ["fine"]]
    assert skips == {"malformed JSON": 1}


@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_truncated_gzip_file_is_one_counted_skip_whatever_the_partitioning(tmp_path, count):
    whole = gzip.compress("".join(f"line {k} of words\n" for k in range(50_000)).encode())
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    skips = SkipCounts()
    for k in range(count):
        list(TextFile(path).records(ErrorPolicy("skip", skips), Selection(k, count)))
    assert skips == {"corrupt archive": 1}
    (tmp_path / "empty.txt.gz").write_bytes(gzip.compress(b""))
    skips = SkipCounts()
    for k in range(count):
        list(TextFile(tmp_path / "empty.txt.gz").records(ErrorPolicy("skip", skips), Selection(k, count)))
    assert skips == {"empty file": 1}
