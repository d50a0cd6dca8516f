"""Stemming for search: Snowball English (Porter2), from the `snowballstemmer` package.

The browser stems queries with templates/static/stemmer.js, the same algorithm;
tests/stemmer_vectors.txt proves they agree. Only words of a–z letters are stemmed
(names in other scripts, numbers and CJK stay as they are). A word whose stem differs
from it also counts for the term `stem + "~"` (docs/SEARCH.md): the `~` keeps stems apart
from words spelled the same and sorts them right after the words they come from, in the
same shard. A query reads `stem~` and the word `stem` itself.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

STEM_MARK = "~"
_STEMMABLE = re.compile(r"[a-z]+")


def english_stemmer() -> Any:
    """Snowball's English stemmer. Its package imports the stemmers of all its 29
    languages first (9 ms, a thirtieth of a one-article edit): the English module is
    imported beneath a package object whose __init__ has not run, which is then taken
    away again (a later `import snowballstemmer` runs it and reuses the module)."""
    if "snowballstemmer" not in sys.modules:
        spec = importlib.util.find_spec("snowballstemmer")
        if spec is not None and spec.submodule_search_locations is not None:
            sys.modules["snowballstemmer"] = importlib.util.module_from_spec(spec)
            try:
                from snowballstemmer.english_stemmer import EnglishStemmer
            finally:
                del sys.modules["snowballstemmer"]
            return EnglishStemmer()
    import snowballstemmer
    return snowballstemmer.stemmer("english")


_ENGLISH = english_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Porter2 stem of a lower-case a–z word; any other token unchanged."""
    return str(_ENGLISH.stemWord(word)) if _STEMMABLE.fullmatch(word) else word


@lru_cache(maxsize=200_000)
def stem_term(word: str) -> str | None:
    """The index term of `word`'s stem, or None for a token that is not stemmed or is
    its own stem: the word's exact term already holds it (queries read both), and the
    index stays about half the size it would have with a stem term for every word."""
    if not _STEMMABLE.fullmatch(word):
        return None
    stemmed = stem(word)
    return stemmed + STEM_MARK if stemmed != word else None


def term_key(word: str) -> str:
    return stem(word) if _STEMMABLE.fullmatch(word) else word


def pair_terms(tokens: Sequence[str], is_cjk: Callable[[str], bool]) -> list[str]:
    """Terms for adjacent words of a title, "stem stem" (a space is in no token): a
    query whose words stand side by side in a headline ranks that headline higher."""
    return [f"{term_key(a)} {term_key(b)}" for a, b in pairwise(tokens)
            if not is_cjk(a) and not is_cjk(b)]


TITLE_MARK = "^"


def title_terms(tokens: Sequence[str]) -> set[str]:
    """Membership terms of a headline's words, "key^": ranking puts articles whose
    headline has more of the query's words first among those matching as many words.
    `^` sorts right after the word itself, usually in its shard."""
    return {term_key(token) + TITLE_MARK for token in tokens}
