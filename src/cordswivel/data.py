"""Where the project's data lives: the bundled CORD-19 sample and SciCite.

Order: an explicit ``--data-dir``, else ``$CORDSWIVEL_DATA``, else ``../shared/data`` beside the
repository root. The directory holds ``cord19/`` (text files) and ``scicite/`` (JSON lines).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataDirError

ENV_VAR = "CORDSWIVEL_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]
CORD19_SAMPLE_FILES = (
    "cord19_ann_sentences.txt.gz",
    "fhircat_2020-03-13_title_abstract.jsonl.gz",
    "metadata_rows.jsonl.gz",
)


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory, or a ``DataDirError`` saying what to put where."""
    candidates = [
        ("--data-dir", explicit),
        (f"${ENV_VAR}", os.environ.get(ENV_VAR)),
        ("default", REPO_ROOT.parent / "shared" / "data"),
    ]
    for origin, value in candidates:
        if value:
            path = Path(value)
            if path.is_dir():
                return path
            if origin != "default":
                raise DataDirError(f"data directory {path} (from {origin}) does not exist")
    raise DataDirError(
        f"no data directory ({REPO_ROOT.parent / 'shared' / 'data'} does not exist): pass --data-dir DIR "
        f"(make demo DATA=DIR) or set ${ENV_VAR}; DIR must hold cord19/ (CORD-19 "
        f"text: .txt/.jsonl files or a release) and scicite/ (train.jsonl, dev.jsonl, test.jsonl); "
        f"see README.md, 'Data'"
    )


def cord19_sample_paths(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The files of the bundled CORD-19 text sample."""
    directory = find_data_dir(data_dir) / "cord19"
    paths = [directory / name for name in CORD19_SAMPLE_FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DataDirError(f"CORD-19 sample files missing: {', '.join(missing)}")
    return paths
