"""The exceptions cordswivel raises; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations


class CordswivelError(Exception):
    """Base class of every error cordswivel raises on purpose."""


class ConfigError(CordswivelError, ValueError):
    """A parameter or combination of parameters is invalid (a usage error)."""


class DataDirError(CordswivelError):
    """The data directory (bundled CORD-19 sample, SciCite) cannot be found."""


class CorpusError(CordswivelError):
    """A corpus file cannot be read; names the file and, where known, the line or member."""

    def __init__(self, path, message: str, *, line: int | None = None, member: str | None = None,
                 kind: str = "invalid"):
        self.path = str(path)
        self.line = line
        self.member = member
        self.kind = kind
        where = self.path
        if member is not None:
            where += f"[{member}]"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")
        self._fields = (path, message, line, member, kind)

    def at_line(self, line: int) -> "CorpusError":
        """The same error, at another line of the same file."""
        path, message, _, member, kind = self._fields
        return CorpusError(path, message, line=line, member=member, kind=kind)

    def __reduce__(self):  # errors raised in worker processes travel back pickled
        path, message, line, member, kind = self._fields
        return _rebuild_corpus_error, (str(path), message, line, member, kind)


def _rebuild_corpus_error(path, message, line, member, kind):
    return CorpusError(path, message, line=line, member=member, kind=kind)


class ModelFormatError(CordswivelError):
    """A model or co-occurrence directory is missing files or is inconsistent."""


class OutOfVocabularyError(CordswivelError, KeyError):
    """A word is not in the vocabulary (also a KeyError, as in gensim)."""

    def __init__(self, word: str):
        self.word = word
        super().__init__(f"word {word!r} not in vocabulary")

    def __reduce__(self):
        return OutOfVocabularyError, (self.word,)

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return self.args[0]
