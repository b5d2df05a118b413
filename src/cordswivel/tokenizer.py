"""The one tokenizer of cordswivel, used for training and for embedding (DESIGN.md section 1).

Split on runs of whitespace (``str.split()``), strip the characters of ``string.punctuation`` from
both ends of each token, drop tokens that become empty; optionally lowercase. Punctuation inside a
token is kept (``covid-19`` stays ``covid-19``).
"""

from __future__ import annotations

import string

PUNCTUATION = string.punctuation


def normalize_token(raw: str, lowercase: bool = False) -> str:
    """Turn one whitespace-free chunk of text into a token ('' means: no token)."""
    token = raw.strip(PUNCTUATION)
    return token.lower() if lowercase else token


def tokenize(text: str, lowercase: bool = False) -> list[str]:
    """Tokens of ``text`` in order, exactly as training saw them."""
    tokens = (normalize_token(raw, lowercase) for raw in text.split())
    return [token for token in tokens if token]
