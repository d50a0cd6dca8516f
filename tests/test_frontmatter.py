"""frontmatter.quick_front_matter reads the plain front matter of most news without
libyaml: on anything it takes, it must give exactly what libyaml's path gives (values,
body, every key's and value's position); anything else it must leave to libyaml."""

from __future__ import annotations

import random

import pytest

import digest.frontmatter as frontmatter
from digest.errors import Diagnostics
from digest.frontmatter import FrontMatter, parse_front_matter, quick_front_matter

KEYS = ["title", "date", "tags", "companies", "source", "summary", "slug", "updated",
        "lang", "authors", "aliases", "draft",
        # keys YAML reads as other than text, or that are no keys at all
        "on", "no", "y", "null", "true", "Title", "x-y", "a1"]
TEXTS = ["Alibaba", "Cloud: the IPO", "株式会社サクラ電機", "Łódź Logistyka", "", " padded ",
         'say \\"hi\\"', "back\\\\slash", "a # not a comment", "50% up", "'single'",
         "emoji 🚀", "nbsp\xa0x", "&anchor", "*star", "[bracket]", "{brace}", "colon: x"]
# what the quick path must leave to libyaml (or give as libyaml does)
TRICKY_TEXTS = ["tab\there", "nel\x85x", "line\u2028sep", "bom\ufeffx", "del\x7fx",
                "new\\nline", "uni\\u00e9", "cr\rx", "nul\x00x", "end\\"]
PLAIN = ["2023-12-09", "2022-01-12T14:33:04Z", "2022-01-29T12:40:41+01:00",
         "2023-05-18 09:30", "2023-05-18 09:30:15.25", "2023-05-18T09:30-0500"]
TRICKY_PLAIN = ["2023", "2023-5-1", "true", "12:30", "yes", "1_000", "0x1f", "~", "null", "3.5",
                "Alibaba", "2023-12-09 ", ".inf", "2023-12-09 # when", "2023-12-09T25:99"]


def quoted(rng: random.Random) -> str:
    return '"' + rng.choice(TEXTS if rng.random() < 0.95 else TRICKY_TEXTS) + '"'


def value(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return quoted(rng)
    if kind < 0.7:
        items = [quoted(rng) for _ in range(rng.randint(0, 4))]
        return "[" + rng.choice([", ", ",", " , "]).join(items) + "]" if rng.random() < 0.9 \
            else "[" + ", ".join(item.strip('"') for item in items) + "]"
    return rng.choice(PLAIN if rng.random() < 0.9 else TRICKY_PLAIN)


def document(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 7)):
        key = rng.choice(KEYS if rng.random() < 0.2 else KEYS[:12])
        line = f"{key}: {value(rng)}"
        if rng.random() < 0.05:
            line = rng.choice([line + " ", line + "  # note", "  " + line, "# a comment",
                               "", key + ":" + value(rng), "- item", "...", "--- "])
        lines.append(line)
    opening = rng.choice(["---\n"] * 18 + ["--- \n", "\ufeff---\n"])
    closing = rng.choice(["---\n"] * 18 + ["...\n", "---\r\n", "---"])
    newline = "\r\n" if rng.random() < 0.03 else "\n"
    body = rng.choice(["", "Body.\n", "\n---\nNot front matter.\n", "A\u2028B\n"])
    return opening + newline.join(lines) + ("\n" if lines else "") + closing + body


def as_tuple(matter: FrontMatter | None) -> object:
    if matter is None:
        return None
    return (matter.data, matter.body, matter.body_line, matter.key_positions,
            matter.value_positions)


def slow(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    with monkeypatch.context() as patched:
        patched.setattr(frontmatter, "quick_front_matter", lambda text: None)
        found = Diagnostics()
        return as_tuple(parse_front_matter(text, "a.md", found)), list(found)


@pytest.mark.parametrize("seed", range(6))
def test_the_quick_path_gives_libyamls_front_matter_or_declines(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(500):
        text = document(rng)
        quick = quick_front_matter(text.removeprefix("\ufeff"))
        expected, problems = slow(text, monkeypatch)
        if quick is not None:
            taken += 1
            assert as_tuple(quick) == expected and not problems, text
        found = Diagnostics()
        assert as_tuple(parse_front_matter(text, "a.md", found)) == expected, text
        assert list(found) == problems, text
    assert taken >= 60  # (a sixth of the documents: each line may hold what it declines)


@pytest.mark.parametrize("text", [
    '---\ntitle: "A"\non: "x"\n---\n', '---\ntitle: "A"\ntitle: "B"\n---\n',
    '---\ntitle: "tab\there"\n---\n', '---\ntitle: "a\\nb"\n---\n', '---\ndate: 2023\n---\n',
    '---\ntitle: "A"\n...\n', '---\r\ntitle: "A"\r\n---\r\n', '---\ntitle: A\n---\n',
    '---\ntags: [Cloud, IPO]\n---\n', '---\n---\n', '---\ntitle: "x\x85y"\n---\n',
])
def test_what_the_quick_path_leaves_to_libyaml(text: str) -> None:
    assert quick_front_matter(text) is None


def test_news_front_matter_takes_the_quick_path(monkeypatch: pytest.MonkeyPatch) -> None:
    text = ('---\ntitle: "Apex Bank Corp.: \\"Demand\\" in Asia"\ndate: 2022-01-29T12:40:41+01:00\n'
            'tags: ["crypto", "real estate"]\ncompanies: ["ミドリ物産", "Apex Motors plc"]\n'
            'source: "Press release"\nsummary: "Shares rose 35% after the announcement."\n'
            '---\n\nBody.\n')
    quick = quick_front_matter(text)
    assert quick is not None and quick.data["title"] == 'Apex Bank Corp.: "Demand" in Asia'
    assert quick.value_positions[("companies", 1)] == (5, 22)
    assert as_tuple(quick) == slow(text, monkeypatch)[0]
