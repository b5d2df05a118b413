"""The one tokenizer of cordswivel, used for training and for embedding (docs/design.md, "Tokenizer").

Split on runs of whitespace (``str.split()``: the characters of ``WHITESPACE``), strip the characters
of ``string.punctuation`` from both ends of each token, drop tokens that become empty; optionally
lowercase. Punctuation inside a token is kept (``covid-19`` stays ``covid-19``). The Numba splitter
(``chunks``) and the in-graph tokenizer (``layers``) take their whitespace from here.
"""

from __future__ import annotations

import string

PUNCTUATION = string.punctuation
# Every character for which str.isspace() is true, i.e. what str.split() splits on
# (tests/test_tokenizer.py checks this against all code points).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def normalize_token(raw: str, lowercase: bool = False) -> str:
    """Turn one whitespace-free chunk of text into a token ('' means: no token)."""
    token = raw.strip(PUNCTUATION)
    return token.lower() if lowercase else token


def tokenize(text: str, lowercase: bool = False) -> list[str]:
    """Tokens of ``text`` in order, exactly as training saw them."""
    tokens = (normalize_token(raw, lowercase) for raw in text.split())
    return [token for token in tokens if token]
