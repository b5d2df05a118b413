"""The two line readers against splitting the whole file in memory."""

from __future__ import annotations

import gzip
import random

import pytest

from cordswivel.corpus import linefiles
from cordswivel.corpus.linefiles import LineNumbers, byte_range_lines, stream_lines


def lines_of(batches):
    return [(batch.line_of(n), raw) for batch in batches for n, raw in batch.lines]


@pytest.mark.parametrize("seed", range(4))
def test_byte_ranges_read_every_line_once_with_its_number(tmp_path, seed, monkeypatch):
    monkeypatch.setattr(linefiles, "READ_BYTES", 7)  # many reads per range, lines across reads
    rng = random.Random(seed)
    lines = [b"x" * rng.choice([0, 1, 3, 40]) + rng.choice([str(k).encode(), b""]) for k in range(rng.randint(1, 80))]
    path = tmp_path / "f.txt"
    content = b"\n".join(lines) + rng.choice([b"", b"\n", b"\n\n"])
    path.write_bytes(content)
    expected = content.split(b"\n")  # a final newline ends the last line
    if content.endswith(b"\n"):
        expected.pop()
    expected = list(enumerate(expected, start=1))
    for count in (1, 2, 3, 7, 50):
        got = sorted(pair for k in range(count) for pair in lines_of(byte_range_lines(path, k, count)))
        assert got == expected, count
    assert lines_of(stream_lines(path)) == expected


def test_stream_reads_gzip_and_keeps_selected_blocks(tmp_path):
    lines = [f"line {k}".encode() for k in range(10)]
    path = tmp_path / "f.txt.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    assert lines_of(stream_lines(path)) == list(enumerate(lines, start=1))
    odd = lines_of(stream_lines(path, 3, lambda block: block % 2 == 1))  # lines 4-6 and 10
    assert [n for n, _ in odd] == [4, 5, 6, 10]
    assert max(batch.read for batch in stream_lines(path, 3, lambda block: False)) == 10


def test_line_numbers_count_the_lines_before_the_range_only_when_asked(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nb\nc\nd\n")
    numbers = LineNumbers(path, 4)  # byte 4 starts line 3
    assert numbers.base is None and numbers(1) == 3 and numbers(2) == 4
