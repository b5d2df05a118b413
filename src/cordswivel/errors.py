"""The exceptions cordswivel raises; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

import enum
import errno
import os


class ErrorKind(enum.StrEnum):
    """What went wrong with a record: the key under which ``--on-error skip`` counts it."""

    INVALID = "invalid"
    INVALID_UTF8 = "invalid UTF-8"
    MALFORMED_JSON = "malformed JSON"
    MALFORMED_CSV = "malformed CSV"
    WRONG_TYPE = "wrong type"
    EMPTY_FILE = "empty file"
    CORRUPT_ARCHIVE = "corrupt archive"
    UNREADABLE = "unreadable"
    UNKNOWN_LABEL = "unknown label"


class CordswivelError(Exception):
    """Base class of every error cordswivel raises on purpose."""


class ConfigError(CordswivelError, ValueError):
    """A parameter or combination of parameters is invalid (a usage error)."""


class DataDirError(CordswivelError):
    """The data directory (bundled CORD-19 sample, SciCite) cannot be found."""


class CorpusError(CordswivelError):
    """A corpus file cannot be read; names the file and, where known, the line or member."""

    def __init__(
        self,
        path: str | os.PathLike,
        message: str,
        *,
        line: int | None = None,
        member: str | None = None,
        kind: ErrorKind = ErrorKind.INVALID,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.member = member
        self.kind = ErrorKind(kind)
        where = self.path
        if member is not None:
            where += f"[{member}]"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")
        self._fields = (path, message, line, member, kind)

    def at_line(self, line: int) -> CorpusError:
        """The same error, at another line of the same file."""
        path, message, _, member, kind = self._fields
        return CorpusError(path, message, line=line, member=member, kind=kind)

    def __reduce__(self) -> tuple:  # errors raised in worker processes travel back pickled
        path, message, line, member, kind = self._fields
        return _rebuild_corpus_error, (str(path), message, line, member, str(kind))


def _rebuild_corpus_error(path: str, message: str, line: int | None, member: str | None, kind: str) -> CorpusError:
    return CorpusError(path, message, line=line, member=member, kind=ErrorKind(kind))


class ModelFormatError(CordswivelError):
    """A model or co-occurrence directory is missing files or is inconsistent, or a file a model is
    evaluated or queried with (word pairs, analogy questions, candidate terms) cannot be read."""


class TrainingError(CordswivelError):
    """Training diverged or cannot continue."""


class NotFoundError(CordswivelError, LookupError):
    """A request names something that is not loaded: a model, or a classifier that was not given."""


class OutOfVocabularyError(CordswivelError, KeyError):
    """A word is not in the vocabulary (also a KeyError, as in gensim)."""

    def __init__(self, word: str) -> None:
        self.word = word
        super().__init__(f"word {word!r} not in vocabulary")

    def __reduce__(self) -> tuple:
        return OutOfVocabularyError, (self.word,)

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return self.args[0]


def describe_os_error(exc: OSError) -> str:
    """``path: reason`` of an OSError (both paths of a rename), or its text where it names none."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno != errno.ENOSPC and "requested and" in reason:  # NumPy's short write: a full disk
        reason += " (no space left on the device?)"
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason
