"""CORD-19 releases as corpus sources: a release directory or its ``.tar.gz``, in any layout
(docs/design.md, "CORD-19 releases"): the 2020-05+ ``document_parses/{pdf,pmc}_json`` layout, the
March-April 2020 subset folders, and a folder of parse JSONs alone.

Every paper is read once, as the TF-Hub module was trained: the metadata.csv rows (deduplicated by
cord_uid), each from its PMC parse if the release has one, else its PDF parse, else from metadata.csv
alone; then every parse file that no row claims, as a paper of its own. Units per paper: the title,
the author names, the abstract paragraphs, the body-text paragraphs and the reference titles.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import CorpusError, ErrorKind
from .sources import ErrorPolicy, Selection, Source, decode, split_author_list, text_value

PAPER_BLOCK = 16  # papers per selection block of a release directory
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")  # a release, or an archive nested in one

csv.field_size_limit(2**31 - 1)  # metadata.csv abstracts exceed csv's 128 KiB default


def parse_key(name: str) -> str | None:
    """The paper key of a parse file name (``<sha>.json`` -> sha, ``PMCnnn.xml.json`` -> PMCnnn)."""
    base = name.rsplit("/", 1)[-1]
    if not base.endswith(".json") or base.startswith("."):
        return None
    return base[: -len(".xml.json")] if base.endswith(".xml.json") else base[: -len(".json")]


def is_metadata(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base == "metadata.csv" or (base.startswith("all_sources_metadata") and base.endswith(".csv"))


@dataclass(frozen=True)
class Paper:
    """What metadata.csv says of one paper."""

    title: str = ""
    abstract: str = ""
    authors: str = ""
    claims: tuple[str, ...] = ()  # every parse key of this paper present in the release, PMC first

    def units(self) -> list[str]:
        """The paper's units from metadata.csv alone (for papers without a parse)."""
        return [self.title, *split_author_list(self.authors), self.abstract]


@dataclass(frozen=True)
class Reading:
    """One paper to read: its metadata row (None for a parse no row claims) and the parse file to
    read it from (None: from metadata.csv alone)."""

    paper: Paper | None
    parse: str | None


def plan_readings(names: Iterable[str], read_metadata: Callable[[str, set[str]], list[Paper]]) -> list[Reading]:
    """What to read from a release whose files are ``names``, in order: the metadata rows' papers,
    then the unclaimed parses. ``read_metadata(name, parse keys)`` reads one metadata file."""
    names = list(names)
    parses: dict[str, str] = {}  # paper key -> the first file name with that key
    for name in names:
        key = parse_key(name)
        if key is not None and not is_metadata(name):
            parses.setdefault(key, name)
    papers = [paper for name in names if is_metadata(name) for paper in read_metadata(name, set(parses))]
    claimed = {key for paper in papers for key in paper.claims}
    readings = [Reading(paper, parses[paper.claims[0]] if paper.claims else None) for paper in papers]
    readings += [Reading(None, name) for key, name in parses.items() if key not in claimed]
    return readings


def parse_units(doc: Any, path: str | Path, member: str | None = None, paper: Paper | None = None) -> list[str]:
    """Units of one parse JSON (title, author names, abstract, body text, reference titles).

    Where metadata.csv knows the paper, its title wins (parse titles carry GROBID debris) and its
    abstract fills in for parses without one (PMC parses have no ``abstract`` key).
    """

    def fail(message: str) -> CorpusError:
        return CorpusError(path, message, member=member, kind=ErrorKind.WRONG_TYPE)

    if not isinstance(doc, dict):
        raise fail(f"expected a JSON object, got {type(doc).__name__}")
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise fail("'metadata' is not an object")
    title = (paper.title if paper else "") or text_value(meta.get("title"), path, "title", member=member)
    units = [title]
    authors = meta.get("authors") or []
    if not isinstance(authors, list):
        raise fail("'metadata.authors' is not a list")
    for author in authors:
        if not isinstance(author, dict):
            raise fail("an author is not an object")
        middle = author.get("middle") or []
        parts = [
            author.get("first"),
            *(middle if isinstance(middle, list) else [middle]),
            author.get("last"),
            author.get("suffix"),
        ]
        units.append(" ".join(text_value(p, path, "author name", member=member) for p in parts if p))
    if not authors and paper and paper.authors:
        units.extend(split_author_list(paper.authors))

    def paragraphs(key: str) -> list[str]:
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise fail(f"'{key}' is not a list")
        out = []
        for item in value:
            if not isinstance(item, dict):
                raise fail(f"an item of '{key}' is not an object")
            out.append(text_value(item.get("text"), path, f"{key} text", member=member))
        return out

    abstract = paragraphs("abstract")
    units.extend(abstract if any(abstract) else ([paper.abstract] if paper else []))
    units.extend(paragraphs("body_text"))
    bib = doc.get("bib_entries") or {}
    if not isinstance(bib, dict):
        raise fail("'bib_entries' is not an object")
    for entry in bib.values():
        if isinstance(entry, dict):
            units.append(text_value(entry.get("title"), path, "reference title", member=member))
    return units


def read_metadata(
    handle: IO[bytes], path: str | Path, member: str | None, parse_keys: set[str], policy: ErrorPolicy
) -> list[Paper]:
    """Papers of a metadata.csv, one per cord_uid (the first row wins), with the parses they claim."""

    def decoded_lines() -> Iterator[str]:
        for number, raw in enumerate(handle, start=1):
            try:
                yield decode(raw, path, number, member)
            except CorpusError as error:
                policy(error)  # raises, or counts the line and leaves it out

    papers, seen = [], set()
    reader = csv.DictReader(decoded_lines())
    try:
        for row in reader:
            key = row.get("cord_uid") or row.get("sha") or row.get("doi") or f"row{reader.line_num}"
            if key in seen:
                continue
            seen.add(key)
            shas = [s.strip() for s in (row.get("sha") or "").split(";") if s.strip()]
            pmcids = [p.strip() for p in (row.get("pmcid") or "").split(";") if p.strip()]
            papers.append(
                Paper(
                    title=row.get("title") or "",
                    abstract=row.get("abstract") or "",
                    authors=row.get("authors") or "",
                    claims=tuple(k for k in pmcids + shas if k in parse_keys),
                )
            )
    except csv.Error as exc:
        policy(
            CorpusError(
                path, f"malformed CSV ({exc})", member=member, line=reader.line_num, kind=ErrorKind.MALFORMED_CSV
            )
        )
    return papers


def load_json(data: bytes, path: str | Path, member: str | None) -> Any:
    if not data.strip():
        raise CorpusError(path, "file is empty", member=member, kind=ErrorKind.EMPTY_FILE)
    try:
        return json.loads(decode(data, path, None, member))
    except ValueError as exc:
        raise CorpusError(path, f"malformed JSON ({exc})", member=member, kind=ErrorKind.MALFORMED_JSON) from None


@dataclass(frozen=True)
class Cord19Release(Source):
    """A CORD-19 release: a directory or a ``.tar.gz`` (see the module docstring)."""

    def max_partitions(self) -> int:
        return 1 if self.path.is_file() else 1 << 30  # an archive is read in one stream

    def records(self, policy: ErrorPolicy, selection: Selection) -> Iterator[list[str]]:
        if self.path.is_dir():
            yield from self._directory_records(policy, selection)
        else:
            yield from self._archive_records(policy)

    # ------------------------------------------------------------------ directories
    def _files(self) -> list[str]:
        """Paths of the directory's files relative to it, in a stable order."""
        names: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.path)
            names.extend(n if rel == "." else f"{rel}/{n}" for n in sorted(filenames))
        return names

    def _directory_records(self, policy: ErrorPolicy, selection: Selection) -> Iterator[list[str]]:
        def metadata(name: str, keys: set[str]) -> list[Paper]:
            with open(self.path / name, "rb") as handle:
                return read_metadata(handle, self.path / name, None, keys, policy)

        for number, reading in enumerate(plan_readings(self._files(), metadata)):
            if not selection(number // PAPER_BLOCK):
                continue
            if reading.parse is None:
                if reading.paper is not None:  # always: a reading without a parse comes from a row
                    yield reading.paper.units()
                continue
            path = self.path / reading.parse
            try:
                yield parse_units(load_json(path.read_bytes(), path, None), path, None, reading.paper)
            except CorpusError as error:
                policy(error)
            except OSError as exc:
                policy(CorpusError(path, f"cannot read: {exc.strerror or exc}", kind=ErrorKind.UNREADABLE))

    # ------------------------------------------------------------------ archives
    def _archive_members(self, policy: ErrorPolicy, parses: bool = True) -> Iterator[tuple[str, bytes | None]]:
        """(member name, contents) of the archive's parse JSONs and metadata files, nested archives
        included; with ``parses=False`` a parse's contents are not read (None)."""

        def walk(tar: tarfile.TarFile, prefix: str) -> Iterator[tuple[str, bytes | None]]:
            for info in tar:
                name = prefix + info.name
                if not info.isfile():
                    continue
                lower = name.lower()
                wanted = lower.endswith(".json") or is_metadata(name)
                nested = lower.endswith(ARCHIVE_SUFFIXES) and "embeddings" not in lower
                if not (wanted or nested):
                    continue
                handle = tar.extractfile(info)
                if handle is None:
                    continue
                if nested:
                    with tarfile.open(fileobj=handle, mode="r|*") as inner:
                        yield from walk(inner, name + "/")
                else:
                    yield name, handle.read() if parses or not lower.endswith(".json") else None

        try:
            with tarfile.open(self.path, mode="r|*") as tar:
                yield from walk(tar, "")
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if not parses:  # the first of the two passes reports a broken archive; the second stops where it did
                policy(CorpusError(self.path, f"truncated or corrupt archive ({exc})", kind=ErrorKind.CORRUPT_ARCHIVE))
        except OSError as exc:
            raise CorpusError(self.path, f"cannot read: {exc.strerror or exc}", kind=ErrorKind.UNREADABLE) from None

    def _archive_records(self, policy: ErrorPolicy) -> Iterator[list[str]]:
        # First pass: member names and metadata files; second pass: the parses, in archive order.
        names: list[str] = []
        metadata: dict[str, bytes] = {}
        for name, data in self._archive_members(policy, parses=False):
            names.append(name)
            if is_metadata(name) and data is not None:
                metadata[name] = data

        def read(name: str, keys: set[str]) -> list[Paper]:
            return read_metadata(io.BytesIO(metadata[name]), self.path, name, keys, policy)

        readings = plan_readings(names, read)
        by_parse: dict[str, list[Paper | None]] = {}
        for reading in readings:
            if reading.parse is not None:
                by_parse.setdefault(reading.parse, []).append(reading.paper)
        for name, data in self._archive_members(policy):
            for paper in by_parse.get(name, []):
                try:
                    yield parse_units(load_json(data or b"", self.path, name), self.path, name, paper)
                except CorpusError as error:
                    policy(error)
        for reading in readings:
            if reading.parse is None and reading.paper is not None:
                yield reading.paper.units()
