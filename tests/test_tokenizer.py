"""The tokenizer against its definition: str.split on whitespace, string.punctuation stripped at both ends."""

import string
import sys

from cordswivel.corpus.tokenizer import WHITESPACE, normalize_token, tokenize


def test_strips_punctuation_at_ends_only():
    assert tokenize("(SARS-CoV-2), covid-19; 'quoted' ...") == ["SARS-CoV-2", "covid-19", "quoted"]


def test_splits_on_any_whitespace_run_and_drops_empty_tokens():
    assert tokenize("  a \t\tb\n\u2003c  -- ! ") == ["a", "b", "c"]


def test_cased_by_default_lowercase_option():
    assert tokenize("SARS Italy") == ["SARS", "Italy"]
    assert tokenize("SARS Italy", lowercase=True) == ["sars", "italy"]


def test_matches_the_design_formula_on_every_punctuation_character():
    text = " ".join(f"{p}x{p} {p}{p}" for p in string.punctuation)
    expected = [t.strip(string.punctuation) for t in text.split() if t.strip(string.punctuation)]
    assert tokenize(text) == expected == ["x"] * len(string.punctuation)
    assert normalize_token("...") == ""


def test_whitespace_is_every_character_str_split_splits_on():
    assert WHITESPACE == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert tokenize(f"a{WHITESPACE}b") == ["a", "b"] == f"a{WHITESPACE}b".split()
