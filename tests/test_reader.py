"""The corpus: sources found from paths, partitions that cover every unit once, and bad input."""

from __future__ import annotations

import gzip
import json
import random
import shutil

import pytest

from cordswivel.corpus.reader import Partition, open_corpus
from cordswivel.corpus.sources import SkipCounts
from cordswivel.errors import ConfigError, CorpusError

from helpers import in_child, world_readable_dir


def test_text_and_jsonl_units(tmp_path):
    (tmp_path / "a.txt").write_text("first line\r\nsecond line\n\nlast", encoding="utf-8")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"title": "T", "abstract": "A", "other": "no", "string": None}) + "\n")
        handle.write(json.dumps({"text": "X", "authors": "Smith, J; Doe, A"}) + "\n")
    assert list(open_corpus([tmp_path / "a.txt"]).units()) == ["first line", "second line", "", "last"]
    assert list(open_corpus([tmp_path / "b.jsonl.gz"]).units()) == ["T", "A", "X"]
    fields = ("title", "authors")
    assert [u for u in open_corpus([tmp_path / "b.jsonl.gz"], text_fields=fields).units() if u] == [
        "T",
        "Smith, J",
        "Doe, A",
    ]


def test_partitions_cover_every_unit_once(tmp_path):
    lines = [f"line {k}" for k in range(10_000)]
    (tmp_path / "a.txt").write_text("\n".join(lines))
    (tmp_path / "b.txt").write_text("x\ny\n")
    corpus = open_corpus([tmp_path])
    parts = corpus.partitions(5)
    assert len(parts) > 2
    seen = [u for p in parts for u in p.units()]
    assert sorted(seen) == sorted(lines + ["x", "y"])


def test_partition_groups_hold_every_partition_once_in_balanced_groups(tmp_path):
    for k in range(12):
        (tmp_path / f"f{k:02d}.txt").write_text("word " * (1000 * (k + 1)))
    corpus = open_corpus([tmp_path])
    groups = corpus.partition_groups(3)
    assert len(groups) == 3
    parts = sorted((str(p.source.path), p.index, p.count) for group in groups for p in group)
    assert parts == sorted((str(p.source.path), p.index, p.count) for p in corpus.partitions(3))
    sizes = [sum(p.source.size() // p.count for p in group) for group in groups]
    assert max(sizes) - min(sizes) <= 5000  # largest first, each to the lightest group: even here
    assert len(corpus.partition_groups(3, max_bytes=20_000)) >= sum(sizes) // 20_000  # more, smaller groups


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name,content,kind,line",
    [
        ("bad.jsonl", b'{"title": "ok"}\n{"title": broken\n', "malformed JSON", 2),
        ("bad.txt", b"fine\nbad \xff\xfe bytes\n", "invalid UTF-8", 2),
        ("empty.txt", b"", "empty file", None),
        ("wrong.jsonl", b'{"title": 5}\n', "wrong type", 1),
    ],
)
def test_bad_input_raises_with_file_and_line_or_is_counted(tmp_path, name, content, kind, line):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorpusError) as info:
        list(open_corpus([path]).units())
    assert str(info.value).startswith(str(path) + (f":{line}: " if line else ": "))
    assert info.value.kind == kind and info.value.line == line
    skips = SkipCounts()
    list(open_corpus([path]).units(on_error="skip", skips=skips))
    assert skips == {kind: 1}


def test_error_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"title": "a"}\n{"title": "b"}\n{oops\n')
    with pytest.raises(CorpusError, match=r"bad\.jsonl:3: malformed JSON"):
        list(open_corpus([path]).units())


@pytest.mark.parametrize("damage", ["flipped bytes", "wrong CRC"])
def test_a_corrupt_gzip_stream_is_a_data_error_naming_the_file(tmp_path, damage):
    data = bytearray(gzip.compress("".join(f"line {k} of words {k * 7919 % 1000}\n" for k in range(20_000)).encode()))
    if damage == "flipped bytes":
        data[200:260] = bytes(b ^ 0xFF for b in data[200:260])
    else:
        data[-8] ^= 1
    (tmp_path / "bad.txt.gz").write_bytes(bytes(data))
    with pytest.raises(CorpusError, match=r"bad\.txt\.gz.*truncated or corrupt gzip"):
        list(open_corpus([tmp_path / "bad.txt.gz"]).units())


def test_truncated_gzip_and_bad_release_json(tmp_path):
    data = gzip.compress(("line\n" * 5000).encode())
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusError, match="truncated or corrupt gzip"):
        list(open_corpus([tmp_path / "cut.txt.gz"]).units())
    release = tmp_path / "rel" / "document_parses" / "pdf_json"
    release.mkdir(parents=True)
    (release / "abc.json").write_text('{"paper_id": "abc", "metadata": {"title": "t"')
    with pytest.raises(CorpusError, match=r"abc\.json: malformed JSON"):
        list(open_corpus([tmp_path / "rel"]).units())
    skips = SkipCounts()
    assert list(open_corpus([tmp_path / "rel"]).units("skip", skips)) == []
    assert skips == {"malformed JSON": 1}


def test_usage_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        open_corpus([tmp_path / "absent.txt"])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ConfigError, match="no corpus files"):
        open_corpus([tmp_path / "empty_dir"])
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(ConfigError, match="unsupported"):
        open_corpus([tmp_path / "x.pdf"])


@pytest.mark.parametrize("seed", range(4))
def test_byte_range_partitions_read_every_line_once_in_order(tmp_path, seed):
    rng = random.Random(seed)
    lines = [
        ("x" * rng.choice([0, 1, 5, 300]) + str(k)) if rng.random() > 0.1 else "" for k in range(rng.randint(1, 300))
    ]
    lines.append("last")  # a final empty line would vanish into the trailing newline
    path = tmp_path / "c.txt"
    path.write_bytes(("\n".join(lines) + rng.choice(["", "\n"])).encode())
    source = open_corpus([path]).sources[0]
    for count in (1, 2, 3, 7, 64):
        assert [u for k in range(count) for u in Partition(source, k, count).units()] == lines, count


def test_errors_in_a_later_byte_range_name_the_file_line(tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [json.dumps({"title": f"paper {k}"}) for k in range(1000)]
    rows[776] = '{"title": oops'
    path.write_text("\n".join(rows) + "\n")
    source = open_corpus([path]).sources[0]
    with pytest.raises(CorpusError, match=r"c\.jsonl:777: malformed JSON"):
        for part in (Partition(source, k, 5) for k in range(5)):
            list(part.units())
    skips = SkipCounts()
    assert sum(len(list(Partition(source, k, 5).units("skip", skips))) for k in range(5)) == 999
    assert dict(skips) == {"malformed JSON": 1}


def test_an_unreadable_subdirectory_is_an_error_as_an_unreadable_file_is():
    root = world_readable_dir()
    try:
        (root / "a.txt").write_text("alpha beta\n")
        (root / "hidden").mkdir()
        (root / "hidden" / "b.txt").write_text("gamma\n")
        (root / "hidden").chmod(0o000)

        def opened():
            try:
                open_corpus([root])
            except CorpusError as error:
                return str(error)
            return "opened"

        message = in_child(opened, unprivileged=True)
        assert message == f"{root / 'hidden'}: cannot read: Permission denied"
    finally:
        (root / "hidden").chmod(0o755)
        shutil.rmtree(root)


def test_with_on_error_skip_unreadable_folders_and_files_are_skipped_and_counted():
    """What the README promises for --on-error skip, for a folder and a file the user cannot read."""
    import encodings.cp437  # noqa: F401  (the child, user nobody, cannot read the standard library here)

    from cordswivel.config import CooccurConfig
    from cordswivel.counting.cooccur import count_cooccurrences

    root = world_readable_dir()
    try:
        (root / "corpus").mkdir()
        (root / "corpus" / "a.txt").write_text("alpha beta alpha\n")
        (root / "corpus" / "locked.txt").write_text("gamma\n")
        (root / "corpus" / "locked.txt").chmod(0o000)
        (root / "corpus" / "hidden").mkdir()
        (root / "corpus" / "hidden" / "b.txt").write_text("gamma\n")
        (root / "corpus" / "hidden").chmod(0o000)
        (root / "writable").mkdir()
        (root / "writable").chmod(0o777)

        def counted():
            corpus = open_corpus([root / "corpus"], on_error="skip")
            config = CooccurConfig(min_count=1)
            stats = count_cooccurrences(corpus, root / "writable" / "out", config, workers=1, on_error="skip")
            return [sorted(s.path.name for s in corpus.sources), stats.skipped, stats.tokens]

        assert in_child(counted, unprivileged=True) == [["a.txt", "locked.txt"], {"unreadable": 2}, 3]
    finally:
        (root / "corpus" / "hidden").chmod(0o755)
        shutil.rmtree(root)


def test_a_symbolic_link_back_up_the_tree_is_read_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("alpha\n")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    assert [s.path.name for s in open_corpus([tmp_path]).sources] == ["a.txt"]
