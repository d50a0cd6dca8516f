"""The search tokenizer, Python side. Spec: docs/SEARCH.md; the JavaScript twin is
templates/static/tokenizer.js; tests/tokenizer_vectors.json proves they agree."""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import cache

from digest.search import unicode_classes

CJK_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
              (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xF900, 0xFAFF),
              (0x20000, 0x2FA1F))


def _class(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" if a != b else re.escape(chr(a))
                   for a, b in ranges)


# Planes 4–13 and 15–16 hold no letters, marks or numbers (only unassigned and private
# use code points), so scanning these is enough and five times faster than all of Unicode.
# (Ranges, not a tuple of their 266,000 numbers: that cost every import 9 ms.)
SCANNED = (range(0x40000), range(0xE0000, 0xE1000))


def _ranges(wanted: str, skip_cjk: bool) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in itertools.chain(*SCANNED):
        if unicodedata.category(chr(code))[0] in wanted and not (skip_cjk and _is_cjk(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return ranges


def _is_cjk(code: int) -> bool:
    if code < 0x1100:  # below the first CJK range: every Latin, Greek, Cyrillic … letter
        return False
    return any(low <= code <= high for low, high in CJK_RANGES)


def character_classes() -> tuple[str, str]:
    """(marks, word characters) as regex classes, computed from Python's Unicode data:
    a scan of 266,000 code points (0.3 s), so the result ships in unicode_classes.py."""
    return _class(_ranges("M", False)), _class(_ranges("LMN", True))


@cache
def _classes() -> tuple[str, str]:
    if unicodedata.unidata_version == unicode_classes.UNIDATA_VERSION:
        return unicode_classes.MARKS, unicode_classes.WORD
    return character_classes()  # another Python's Unicode: compute (tests compare both)


# The token regexes, each compiled when first needed (a class of every Unicode letter
# takes milliseconds to compile, which a one-article edit pays in full). Python's `re`
# has no \p{…}; its \w is exactly letters + numbers + '_' (checked over all of Unicode
# when this was written), so '_' becomes a space beforehand. They agree on the texts
# each is used for, fastest first.
JOINER = r"(?:(?<=\d)[.,](?=\d){0}+)*"


@cache
def _plain() -> re.Pattern[str]:
    """Words of a text with no marks and no CJK: \\w alone."""
    return re.compile(r"\w+" + JOINER.format(r"\w"))


@cache
def _marked() -> re.Pattern[str]:
    """Words of a text with marks but no CJK: \\w plus the mark ranges."""
    marks = _classes()[0]
    return re.compile(rf"[\w{marks}]+" + JOINER.format(rf"[\w{marks}]"))


@cache
def _possessive() -> re.Pattern[str]:
    return re.compile(rf"['\u2019]s(?![{_classes()[1]}])")


@cache
def _cjk_runs() -> re.Pattern[str]:
    """Splits a text into non-CJK text and CJK runs."""
    return re.compile(rf"([{_class(list(CJK_RANGES))}]+)")


def normalize(text: str) -> str:
    """NFKC, then lower-case plus the folds ß→ss and ς→σ (the spec's case folding), then
    the diacritics of Latin letters dropped (éclat → eclat, Zürich → zurich, Çelik →
    celik): readers type names without them."""
    return fold_latin(
        unicodedata.normalize("NFKC", text).lower().replace("ß", "ss").replace("ς", "σ"))


def fold_latin(text: str) -> str:
    """Drop the combining marks that follow a letter a–z (after NFKD), then NFC. Done
    per distinct character (a decomposing letter becomes its base), plus a pass for
    marks written separately: NFKD and NFC over whole articles cost 4× the tokenizing."""
    if text.isascii():
        return text
    unusual = non_ascii(text)
    for char in unusual:  # a few distinct letters: replace() beats translate() 10×
        base = _latin_base(char)
        if base is not None:
            text = text.replace(char, base)
    if any(unicodedata.category(c)[0] == "M" for c in unusual):
        text = _latin_marks().sub("", text)
    return text


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def non_ascii(text: str) -> set[str]:
    """The distinct characters of `text` beyond ASCII: the regex skips the ASCII runs
    in C, where `set(text)` made a set of every character (13 µs against 54 µs for an
    article of 6 KB, done twice per article)."""
    return set(_NON_ASCII.findall(text))


@cache
def _latin_base(char: str) -> str | None:
    """The a–z letter a character is, without its marks (é → e), or None."""
    parts = unicodedata.normalize("NFKD", char)
    if len(parts) > 1 and "a" <= parts[0] <= "z" \
            and all(unicodedata.category(c)[0] == "M" for c in parts[1:]):
        return parts[0]
    return None


@cache
def _latin_marks() -> re.Pattern[str]:
    return re.compile(f"(?<=[a-z])[{_classes()[0]}]+")


def is_cjk(token: str) -> bool:
    return _is_cjk(ord(token[0]))


def tokenize(text: str, query: bool = False) -> list[str]:
    """Index tokens (CJK: characters and bigrams) or, with query=True, query tokens
    (CJK: bigrams only, or the single character of a one-character run)."""
    text = _possessive().sub("", normalize(text)).replace("_", " ")
    # Which pattern applies depends on the text's distinct non-ASCII characters: a set
    # of them is far cheaper to inspect than a regex search with Unicode-wide classes.
    unusual = set() if text.isascii() else non_ascii(text)
    has_mark = any(unicodedata.category(c)[0] == "M" for c in unusual)
    words = _marked() if has_mark else _plain()
    cjk = [c for c in unusual if _is_cjk(ord(c))]
    if not cjk:
        return words.findall(text)
    # Split at CJK runs: the text between them has no CJK, so \w (10× faster than the
    # spec's exact classes over a whole article) finds its words exactly.
    tokens: list[str] = []
    for number, piece in enumerate(_split_at_cjk(text, cjk)):
        if number % 2 == 0:
            tokens += words.findall(piece)
        elif len(piece) == 1:
            tokens.append(piece)
        elif query:
            tokens.extend(piece[i:i + 2] for i in range(len(piece) - 1))
        else:
            for i, char in enumerate(piece):
                tokens.append(char)
                if i + 1 < len(piece):
                    tokens.append(piece[i:i + 2])
    return tokens


# Past this many distinct CJK characters, or places of them, a text is split by the
# regex instead of by finding each character's places.
FEW_CJK = 24
FEW_PLACES = 512


def _split_at_cjk(text: str, cjk: list[str]) -> list[str]:
    """`_cjk_runs().split(text)`, given the text's distinct CJK characters. A text
    with a few (the names of Asian companies in an English article) is cut where
    `str.find` finds them (12 µs an article of the bench), where the regex tried its
    classes at every position of the text (75 µs)."""
    if len(cjk) > FEW_CJK:
        return _cjk_runs().split(text)
    places: list[int] = []
    for char in cjk:
        at = text.find(char)
        while at >= 0:
            places.append(at)
            if len(places) > FEW_PLACES:  # a text in Chinese, Japanese or Korean
                return _cjk_runs().split(text)
            at = text.find(char, at + 1)
    places.sort()
    pieces: list[str] = []
    start = 0  # of the text before the run being read
    run = places[0]  # where that run starts
    for before, at in zip(places, [*places[1:], -1], strict=True):  # (-1: the end)
        if at != before + 1:  # the run ends with `before`
            pieces.append(text[start:run])
            pieces.append(text[run:before + 1])
            start, run = before + 1, at
    pieces.append(text[start:])
    return pieces


def parse_query(text: str) -> tuple[list[str], str | None]:
    """Query tokens, and the token to match as a prefix (the word being typed) if any."""
    tokens = tokenize(text, query=True)
    last = tokens[-1] if tokens else None
    typing = bool(text) and not text[-1].isspace()
    prefix = last if typing and last and not is_cjk(last) and len(last) >= 2 else None
    return tokens, prefix


def write_classes(path: str) -> None:
    """Regenerate unicode_classes.py: `python -m digest.search.tokenizer`."""
    marks, word = character_classes()
    with open(path, "w", encoding="utf-8") as file:
        file.write(f'"""Generated by `python -m digest.search.tokenizer`: tokenizer.py\'s '
                   f'character\nclasses for Unicode {unicodedata.unidata_version}. Do not edit."""'
                   f'\n\nUNIDATA_VERSION = {unicodedata.unidata_version!r}\n'
                   f'MARKS = {marks!r}\nWORD = {word!r}\n')


if __name__ == "__main__":
    write_classes(__file__.replace("tokenizer.py", "unicode_classes.py"))
