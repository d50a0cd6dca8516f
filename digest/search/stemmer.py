"""Stemming for search: Snowball English (Porter2), from the `snowballstemmer` package.

The browser stems queries with templates/static/stemmer.js, the same algorithm;
tests/stemmer_vectors.txt proves they agree. Only words of a–z letters are stemmed
(names in other scripts, numbers and CJK stay as they are). A stem is indexed as its own
term, `stem + "~"` (docs/SEARCH.md): the `~` keeps stems apart from words spelled the
same and sorts them right after the words they come from, in the same shard.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

STEM_MARK = "~"
_STEMMABLE = re.compile(r"[a-z]+")
_ENGLISH = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Porter2 stem of a lower-case a–z word; any other token unchanged."""
    return str(_ENGLISH.stemWord(word)) if _STEMMABLE.fullmatch(word) else word


def stem_term(word: str) -> str | None:
    """The index term of `word`'s stem, or None for a token that is not stemmed."""
    return stem(word) + STEM_MARK if _STEMMABLE.fullmatch(word) else None
