"""A fast path for the plain Markdown that news articles are written in.

Python-Markdown is the reference: this module renders only documents made of blocks it
recognises for certain (paragraphs, `#` headings, `-` and `1.` lists, `>` quotes,
pipe tables) with inline text it recognises for certain (`*em*`, `**strong**`,
`[text](url)`, `&`, `>`), and gives the same bytes Python-Markdown gives with digest's
extensions. Anything else (raw HTML, code, escapes, `_`, reference links, footnotes,
attribute lists, indentation, loose lists...) makes `render` return None and the caller
uses Python-Markdown. It exists because Python-Markdown costs ~2 ms per 6 KB article,
most of a cold build of a large archive; `tests/test_quickmark.py` compares both on
generated documents and on every fixture, and `scripts/bench_build.py` on the bench
corpus.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

# Characters whose Markdown meaning this fast path does not model.
UNSURE_CHARACTER = re.compile(r"[<`\\_{}\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f~\ufeff]")
ENTITY = re.compile(r"&#?\w+;")
# Pairs that start footnotes, abbreviations, images, link definitions, and lines that
# begin or end with a space (indented code, hard breaks).
UNSURE_PAIRS = ("[^", "*[", "![", "]:", "\n ", " \n")
HEADING = re.compile(r"(#{1,6}) (?=\S)([^#\n]*[^#\s])\Z")
BULLET = re.compile(r"- (?=\S)(.*)\Z")
NUMBERED = re.compile(r"([1-9][0-9]{0,8})\. (?=\S)(.*)\Z")
QUOTED = re.compile(r"> (?=\S)(.*)\Z")
# A paragraph line must start like prose, not like any block Markdown knows.
PROSE = re.compile(r"(?![0-9]+[.)](?:\s|\Z))(?:[^\s#>*+=|:\[!\-]|\*(?=\S))")
TABLE_RULE = re.compile(r"\|(?: *:?-+:? *\|)+\Z")
LINK = re.compile(r"\[([^\[\]*\n]+)\]\(([A-Za-z0-9/:.?=#%+-]+)\)")
LEFTOVER = re.compile(r"[\[\]]")
EMPHASIS = re.compile(r"\*([^*]+)\*", re.DOTALL)
STRONG = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
TAG = re.compile(r"<[^>]*>")
END_TAG = re.compile(r"</[^>]*>")
ALIGN = {(True, False): ' style="text-align: left;"', (False, True): ' style="text-align: right;"',
         (True, True): ' style="text-align: center;"', (False, False): ""}


class Unsure(Exception):
    """The text uses Markdown this module does not model: use Python-Markdown."""


def render(text: str) -> tuple[str, str, str] | None:
    """(html, plain text, first paragraph's text) as markup.render_markdown makes them,
    or None when Python-Markdown must decide."""
    if unsure(text):
        return None
    try:
        body = _blocks(text)
    except Unsure:
        return None
    return body, _plain(body), _first_paragraph(body)


def unsure(text: str) -> bool:
    """Whether `text` holds anything this module does not model. One regex with every
    case as an alternative, tried each at every character, cost a third of rendering;
    a character class and substring searches are each one fast scan."""
    return bool(UNSURE_CHARACTER.search(text)) \
        or ("&" in text and ENTITY.search(text) is not None) \
        or any(pair in text for pair in UNSURE_PAIRS) \
        or text.startswith(" ") or text.endswith(" ")


def squash(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: str.split() and the regex
    `\\s` agree on what is whitespace (both Py_UNICODE_ISSPACE), and splitting is
    ten times faster than substituting."""
    return " ".join(text.split())


@dataclass
class _Group:
    """A list or a quote, kept open: Python-Markdown adds the next block of the same kind
    to it (items on both sides of the blank line become loose, `<li><p>`)."""

    kind: str  # "ul", "ol" or "blockquote"
    opening: str
    items: list[str]
    loose: list[bool]

    def html(self) -> str:
        if self.kind == "blockquote":
            return "<blockquote>\n" + "\n".join(self.items) + "\n</blockquote>"
        return self.opening + "\n" + "\n".join(
            f"<li>\n<p>{item}</p>\n</li>" if loose else f"<li>{item}</li>"
            for item, loose in zip(self.items, self.loose, strict=True)) + f"\n</{self.kind}>"


def _blocks(text: str) -> str:
    parts: list[str | _Group] = []
    headings: list[int] = []  # indexes into parts, shifted once all are known
    for block in text.strip("\n").split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        made = _block(block.split("\n"))
        last = parts[-1] if parts else None
        if isinstance(made, _Group) and isinstance(last, _Group) and made.kind == last.kind:
            if made.kind != "blockquote":
                last.loose[-1] = made.loose[0] = True
            last.items += made.items
            last.loose += made.loose
            continue
        if isinstance(made, str) and made.startswith("\0"):
            headings.append(len(parts))
        parts.append(made)
    html = [part if isinstance(part, str) else part.html() for part in parts]
    if headings:
        _number_headings(html, headings)
    return "\n".join(html)


def _block(lines: list[str]) -> str | _Group:
    first = lines[0]
    if first.startswith("#"):
        match = HEADING.match(first)
        if len(lines) > 1 or not match:
            raise Unsure
        return f"\0{len(match[1])}\0{_inline(match[2])}"
    if first.startswith("- "):
        items = [_inline(_item(BULLET, line)[1]) for line in lines]
        return _Group("ul", "<ul>", items, [False] * len(items))
    if first[:1].isdigit() and NUMBERED.match(first):
        numbered = [_item(NUMBERED, line) for line in lines]
        start = int(numbered[0][0])
        opening = "<ol>" if start == 1 else f'<ol start="{start}">'
        items = [_inline(item) for _, item in numbered]
        return _Group("ol", opening, items, [False] * len(items))
    if first.startswith("> "):
        quoted = [_item(QUOTED, line)[0] for line in lines]
        return _Group("blockquote", "", [_paragraph(quoted)], [False])
    if first.startswith("|"):
        return _table(lines)
    return _paragraph(lines)


def _item(pattern: re.Pattern[str], line: str) -> tuple[str, str]:
    """(marker, text) of a list item or quoted line whose text reads as prose (an item
    holding `- x` or `# x` is a nested block to Python-Markdown)."""
    match = pattern.match(line)
    if not match:
        raise Unsure
    text = match[match.lastindex or 1]
    if not PROSE.match(text) or text.strip("-=* ") == "":
        raise Unsure
    return match[1], text


def _paragraph(lines: list[str]) -> str:
    for line in lines:
        if not PROSE.match(line) or line.strip("-=* ") == "":
            raise Unsure
    return f"<p>{_inline(chr(10).join(lines))}</p>"


def _table(lines: list[str]) -> str:
    if len(lines) < 3 or not TABLE_RULE.match(lines[1]):  # no body row: an empty one
        raise Unsure
    rows = [_cells(line) for line in lines]
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise Unsure
    aligns = [ALIGN[rule.startswith(":"), rule.endswith(":")] for rule in rows[1]]
    out = ["<table>\n<thead>\n<tr>"]
    out += [f"<th{align}>{_inline(cell)}</th>" for cell, align in zip(rows[0], aligns, strict=True)]
    out.append("</tr>\n</thead>\n<tbody>")
    for row in rows[2:]:
        out.append("<tr>")
        out += [f"<td{align}>{_inline(cell)}</td>" for cell, align in zip(row, aligns, strict=True)]
        out.append("</tr>")
    out.append("</tbody>\n</table>")
    return "\n".join(out)


def _cells(line: str) -> list[str]:
    if not (line.startswith("|") and line.endswith("|")) or len(line) < 3:
        raise Unsure
    cells = [cell.strip() for cell in line[1:-1].split("|")]
    if any(not cell for cell in cells):
        raise Unsure
    return cells


def _inline(text: str) -> str:
    text = text.replace("&", "&amp;").replace(">", "&gt;")
    if "[" in text or "]" in text:
        text = LINK.sub(r'<a href="\2">\1</a>', text)
        if LEFTOVER.search(text):
            raise Unsure
    if "*" in text:
        text = _emphasis(text)
    return text


def _emphasis(text: str) -> str:
    """Python-Markdown's order: at each `*`, `**strong**` first, then `*em*`; a star that
    starts neither, or a nested star, is left to Python-Markdown."""
    out: list[str] = []
    position = 0
    while (star := text.find("*", position)) >= 0:
        out.append(text[position:star])
        if text.startswith("**", star):
            match = STRONG.match(text, star)
            if not match or "*" in match[1] or text.startswith("***", star) \
                    or _edged(match[1]):
                raise Unsure
            out.append(f"<strong>{match[1]}</strong>")
        else:
            match = EMPHASIS.match(text, star)
            if not match or _edged(match[1]):
                raise Unsure
            out.append(f"<em>{match[1]}</em>")
        position = match.end()
    out.append(text[position:])
    return "".join(out)


def _edged(inner: str) -> bool:
    """Emphasis starting or ending in a space: Python-Markdown may read one of its stars
    as a lone `*` (its not_strong pattern runs first)."""
    return inner[0].isspace() or inner[-1].isspace()


def _number_headings(parts: list[str], headings: list[int]) -> None:
    """Ids as the toc extension makes them; levels shifted so the top one is <h2>
    (pythonmarkdown._HeadingTreeprocessor)."""
    levels = [int(parts[index].split("\0")[1]) for index in headings]
    shift = 2 - min(levels)
    used: set[str] = set()
    for index, level in zip(headings, levels, strict=True):
        inner = parts[index].split("\0", 2)[2]
        anchor = unique_anchor(heading_slug(html.unescape(TAG.sub("", inner).strip())), used)
        tag = f"h{min(6, level + shift)}"
        parts[index] = f'<{tag} id="{html.escape(anchor)}">{inner}</{tag}>'


# A heading's id, by the toc extension's rules (markdown.extensions.toc: `slugify` with
# "-", then `unique`), written here because importing Python-Markdown for them cost an
# edit of a body with headings 15 ms (tests/test_quickmark.py compares the two).
SLUG_DROPPED = re.compile(r"[^\w\s-]")
SLUG_JOINED = re.compile(r"[-\s]+")
NUMBERED_ANCHOR = re.compile(r"^(.*)_([0-9]+)$")


def heading_slug(name: str) -> str:
    """Latin letters without their accents, other non-ASCII dropped, punctuation but
    `-` dropped, lower case, runs of spaces and dashes one dash."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return SLUG_JOINED.sub("-", SLUG_DROPPED.sub("", ascii_name).strip().lower())


def unique_anchor(anchor: str, used: set[str]) -> str:
    """`anchor`, or when it is taken (or empty) the first free `base_N` counting on
    from its own number (`a_2` taken: `a_3`), added to `used`."""
    if anchor in used or not anchor:
        numbered = NUMBERED_ANCHOR.match(anchor)
        base, count = (numbered.group(1), int(numbered.group(2))) if numbered \
            else (anchor, 0)
        count += 1
        while f"{base}_{count}" in used:
            count += 1
        anchor = f"{base}_{count}"
    used.add(anchor)
    return anchor


def _plain(body: str) -> str:
    """markup.html_to_text's text: data, and a space after every end tag."""
    return squash(html.unescape(TAG.sub("", END_TAG.sub(" ", body))))


def _first_paragraph(body: str) -> str:
    start = body.find("<p>")
    if start < 0:
        return ""
    inner = body[start + 3:body.index("</p>", start)]
    return squash(html.unescape(TAG.sub("", inner)))
