"""The Markdown fast path gives Python-Markdown's bytes, or declines.

Documents are generated from fragments chosen to sit on the edges of what the fast path
models (stars next to spaces, lists that become loose, quotes that merge, tables with
alignment, headings that repeat, entities, raw HTML...), and every Markdown file in the
repository is compared too."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from digest import quickmark
from digest.markup import RenderedMarkdown, render_markdown, render_with_python_markdown

REPO = Path(__file__).resolve().parent.parent

WORDS = ["Alibaba", "cloud", "IPO", "revenue", "rose", "12%", "$5", "billion", "Q3",
         "東京ロボティクス", "蓝海云计算", "Zürich", "O'Brien", "\"quoted\"", "AT&T", "M&A",
         "a > b", "3.5%", "-14.7%", "(Reuters)", "e.g.", "co-op", "ca.", "2023."]
INLINE = ["*em*", "**strong**", "*two words*", "**two words**", "* spaced *", "a*b*c",
          "***both***", "**a *b* c**", "*a **b** c*", "*", "**", "[link](https://example.com/a)",
          "[x](/topics/cloud/)", "[ref]", "[a][b]", "![img](/a.png)", "&amp;", "&copy;",
          "&#169;", "<b>raw</b>", "`code`", "\\*", "_under_", "snake_case", "~~del~~",
          "{#id}", "[^1]", "x  ", "<https://example.com>", "[Read the filing](https://example.com/f?a=1&b=2)",
          "[t](u \"title\")", "\u3000", "\t", "[a]: /b", "*[HTML]: Hyper"]
LINE_STARTS = ["", "", "", "", "- ", "1. ", "3. ", "* ", "+ ", "> ", ">> ", "# ", "## ",
               "###### ", "####### ", "#", "    ", " ", "|", ": ", "1) ", "01. ", "---",
               "===", "***", "```", "~~~", "<div>", "!", "[", "0. ", "12. "]


def line(rng: random.Random, odd: float) -> str:
    """A line of words; `odd`: how likely each part is to be an edge case."""
    words = [rng.choice(INLINE if rng.random() < odd else WORDS)
             for _ in range(rng.randint(1, 8))]
    start = rng.choice(LINE_STARTS) if rng.random() < odd * 3 else ""
    return start + " ".join(words) + (rng.choice([" ", " #", "  "]) if rng.random() < odd else "")


def table(rng: random.Random) -> str:
    width = rng.randint(1, 4)
    rule = "|" + "|".join(rng.choice(["---", ":---", "---:", ":---:", " --- ", "-"])
                          for _ in range(width)) + "|"
    rows = ["| " + " | ".join(rng.choice(WORDS + INLINE[:3]) for _ in range(
        width if rng.random() < 0.9 else width + 1)) + " |" for _ in range(rng.randint(1, 4))]
    return "\n".join([rows[0], rule, *rows[1:]])


def block(rng: random.Random, odd: float) -> str:
    kind = rng.random()
    if kind < 0.1:
        return table(rng)
    if kind < 0.3:  # a list or quote of like lines, the shape most articles have
        start = rng.choice(["- ", "1. ", "2. ", "> "])
        return "\n".join(start + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
                         + (" " + rng.choice(INLINE) if rng.random() < odd * 2 else "")
                         for _ in range(rng.randint(1, 4)))
    if kind < 0.4:
        return rng.choice(["#", "##", "###"]) + " " + rng.choice(["Industry context",
                                                                   "Market *reaction*",
                                                                   "Q3", "東京", "A & B"])
    return "\n".join(line(rng, odd) for _ in range(rng.randint(1, 3)))


def document(rng: random.Random) -> str:
    odd = rng.choice([0.0, 0.01, 0.03, 0.1])  # from plain to hostile documents
    gaps = ["\n\n", "\n\n", "\n\n\n", "\n\n\n\n"] + ["\n"] * (odd > 0)
    text = "".join(block(rng, odd) + rng.choice(gaps) for _ in range(rng.randint(1, 8)))
    return rng.choice(["", "\n", "\n\n"]) + text


def as_tuple(rendered: RenderedMarkdown) -> tuple[str, str, str]:
    return rendered.html, rendered.text, rendered.first_paragraph


@pytest.mark.parametrize("seed", range(8))
def test_fast_path_gives_python_markdowns_bytes_or_declines(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(600):
        text = document(rng)
        quick = quickmark.render(text)
        if quick is not None:
            taken += 1
            assert quick == as_tuple(render_with_python_markdown(text)), text
    # the generator is built so that a fair share is plain enough for the fast path
    assert taken >= 100


@pytest.mark.parametrize("seed", range(4))
def test_word_count_counts_what_split_counts(seed: int) -> None:
    """RenderedMarkdown.word_count relies on `text` being squashed, on both paths."""
    rng = random.Random(seed)
    for _ in range(200):
        text = document(rng) + rng.choice(["", "\n\n \u00a0 x\u2028y\t z ", "\n\n&nbsp;"])
        for rendered in (render_markdown(text), render_with_python_markdown(text)):
            assert rendered.word_count() == len(rendered.text.split()), text
    assert RenderedMarkdown("", "", "").word_count() == 0


# The single regex `unsure` replaced (one alternative per case, tried at every character):
# the split checks must decline exactly what it declined.
FORMER_UNSURE = re.compile(r"[<`\\_{}\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f~\ufeff]|&#?\w+;"
                           r"|\[\^|\*\[|!\[|\]:|^[ ]|[ ]$", re.MULTILINE)


@pytest.mark.parametrize("seed", range(4))
def test_unsure_declines_what_the_former_regex_declined(seed: int) -> None:
    rng = random.Random(seed)
    edges = ["", " ", "\n", " \n", "\n ", "&", "&x;", "&#1;", "& ;", "[", "^", "]", ":", "*",
             "!", "\r", "\t", "\ufeff", "_", "a"]
    declined = 0
    for _ in range(3000):
        text = document(rng) if rng.random() < 0.5 else \
            "".join(rng.choice(edges) for _ in range(rng.randint(0, 6)))
        expected = FORMER_UNSURE.search(text) is not None
        assert quickmark.unsure(text) == expected, repr(text)
        declined += expected
    assert 300 < declined < 2700  # both answers were checked many times


def test_squash_is_the_whitespace_regex() -> None:
    spaces = [chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))]
    assert spaces == [chr(c) for c in range(0x110000) if chr(c).isspace()]
    rng = random.Random(1)
    for _ in range(2000):
        text = "".join(rng.choice([*spaces, "a", "b", "東"]) for _ in range(rng.randint(0, 9)))
        assert quickmark.squash(text) == re.sub(r"\s+", " ", text).strip()


PLAIN = """Alibaba said on *Tuesday* that its **cloud** unit would list.

## Market reaction

Shares rose 3% & more > expected. [Read the filing](https://example.com/filings/1).

- first
- second *item*

1. one
1. two

3. three

> "A quote," said someone.

> Another paragraph of the quote.

| Quarter | Revenue ($M) |
|:---|---:|
| Q1 | 8107 |

## Market reaction
"""


def test_articles_written_like_news_take_the_fast_path() -> None:
    quick = quickmark.render(PLAIN)
    assert quick is not None
    assert quick == as_tuple(render_with_python_markdown(PLAIN))
    assert '<h2 id="market-reaction_1">' in quick[0]
    assert render_markdown(PLAIN) == render_with_python_markdown(PLAIN)


HEADING_NAMES = ["Market reaction", "Market reaction", "market-reaction_1", "", "", "_1",
                 "Zürich & Genève", "東京ロボティクス", "蓝海云计算 IPO", "  spaced   out  ",
                 "Q3 2023: 12% (up)", "co-op -- dash", "a_2", "a", "a", "a_1", "a", "x_9",
                 "x_9", "Ølje Æble", "Ça va?", "straße", "ﬁnancial ﬂows", "M&A", "AT&T",
                 "O'Brien's view", "-", "- -", "__init__", "Ⅻ chapter", "①②", "ﬀ"]


@pytest.mark.parametrize("seed", range(20))
def test_heading_ids_are_the_toc_extensions(seed: int) -> None:
    """quickmark makes heading ids itself (importing Python-Markdown for them cost an
    edit 15 ms): the toc extension's `slugify` and `unique` give the same ids, for
    names that repeat, collide with numbered ids, are empty or not Latin."""
    from markdown.extensions.toc import slugify, unique

    rng = random.Random(seed)
    names = [rng.choice(HEADING_NAMES) for _ in range(rng.randint(1, 30))]
    theirs: set[str] = set()
    ours: set[str] = set()
    counters: dict[str, int] = {}  # (as the toc extension passes them)
    expected = [unique(slugify(name, "-"), theirs, counters) for name in names]
    assert [quickmark.unique_anchor(quickmark.heading_slug(name), ours)
            for name in names] == expected
    assert ours == theirs


@pytest.mark.parametrize("text", ["a <b>b</b>", "`x`", "a\\*b", "[a][b]\n\n[b]: /c",
                                  "x[^1]\n\n[^1]: note", "*[HTML]: Hyper\n\nHTML", "a  \nb",
                                  "    code", "Term\n: definition", "# Title {#custom}",
                                  "* star list", "a * b * c"])
def test_markdown_it_does_not_model_is_left_to_python_markdown(text: str) -> None:
    assert quickmark.render(text) is None
    assert render_markdown(text) == render_with_python_markdown(text)


def test_every_markdown_file_in_the_repository() -> None:
    compared = 0
    for path in sorted(REPO.glob("**/*.md")):
        if ".venv" in path.parts or "site" in path.parts[:len(REPO.parts) + 1]:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n---\n", 1)[-1]
        quick = quickmark.render(body)
        if quick is not None:
            compared += 1
            assert quick == as_tuple(render_with_python_markdown(body)), path
    assert compared >= 5
