"""Markdown → HTML as a pure function of the text.

Python-Markdown objects keep state between conversions; `reset()` clears it (its
documented way to convert many documents), and building a converter with its
extensions costs a quarter of a 6 KB body's conversion. So each process builds one
converter on first use and resets it before every text: still a pure function, safe in
forked workers (each has its own) and to cache by content hash.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser

import markdown
from markdown.extensions import Extension
from markdown.extensions.extra import ExtraExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.toc import TocExtension
from markdown.treeprocessors import Treeprocessor

from digest import quickmark


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    text: str  # plain text of the whole body, for word counts and search
    first_paragraph: str  # plain text of the first <p>, the default summary


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class _HeadingTreeprocessor(Treeprocessor):
    """Shift headings so the topmost one is an <h2>, since the page's <h1> is the title
    (editors write `#` or `##` for sections; both work). Links are left as written: the
    base path and article URLs are applied when a page is rendered (links.py), so one
    rendered body serves every base_url."""

    def run(self, root: etree.Element) -> None:
        levels = [int(element.tag[1]) for element in root.iter() if element.tag in HEADINGS]
        shift = 2 - min(levels) if levels else 0
        if shift:
            for element in root.iter():
                if element.tag in HEADINGS:
                    element.tag = f"h{min(6, int(element.tag[1]) + shift)}"


class _HeadingExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_HeadingTreeprocessor(md), "digest_headings", 1)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.paragraphs: list[str] = []
        self._paragraph: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p" and self._paragraph is None and not self.paragraphs:
            self._paragraph = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._paragraph is not None:
            self._paragraph.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(all text, first paragraph text) of an HTML fragment, via a real HTML parser."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    first = extractor.paragraphs[0] if extractor.paragraphs else ""
    return quickmark.squash("".join(extractor.parts)), quickmark.squash(first)


class _BlockExtractor(HTMLParser):
    """The text of each block (paragraph, heading, list item, quote) of an HTML
    fragment, a link's target after its text: a plain-text email of a note."""

    BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                        "tr", "div"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.links: list[tuple[str | None, int]] = []  # target, where its text starts
        self.lists: list[int] = []  # per open list: the next number (0: a bullet list)
        self.marker = ""  # a list item's, put before its first text

    def end_block(self) -> None:
        text = quickmark.squash("".join(self.current))
        if text:
            self.blocks.append(self.marker + text)
            self.marker = ""
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.lists.append(1 if tag == "ol" else 0)
        elif tag in self.BLOCKS:
            self.end_block()
            if tag == "li" and self.lists:
                number = self.lists[-1]
                self.marker = f"{number}. " if number else "- "
                self.lists[-1] = number + 1 if number else 0
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.current)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        elif tag == "br":
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self.end_block()
            if self.lists:
                self.lists.pop()
        elif tag in self.BLOCKS:
            self.end_block()
        elif tag == "a" and self.links:
            target, start = self.links.pop()
            text = "".join(self.current[start:]).strip()
            if target and not target.startswith("#") and text != target:
                self.current.append(f" <{target}>")

    def handle_data(self, data: str) -> None:
        self.current.append(data)


def html_blocks(html: str) -> list[str]:
    """The text of each block of an HTML fragment (links as "text <url>")."""
    extractor = _BlockExtractor()
    extractor.feed(html)
    extractor.close()
    extractor.end_block()
    return extractor.blocks


@cache
def _converter(process: int) -> markdown.Markdown:
    """One converter per process (the pid is the key: a forked worker builds its own)."""
    # Extensions as objects: named, Markdown looks each up among the installed
    # packages' entry points (20 ms of the first body it renders). "smarty"
    # (typographic quotes) is left out: it doubled the cost of a 640-word body
    # (3.3 ms → 1.7 ms), and pasted news text already carries typographic quotes.
    return markdown.Markdown(extensions=[ExtraExtension(), SaneListExtension(),
                                         TocExtension(), _HeadingExtension()],
                             output_format="html")


def render_markdown(text: str) -> RenderedMarkdown:
    quick = quickmark.render(text)  # the same bytes, for the plain Markdown of most news
    if quick is not None:
        return RenderedMarkdown(*quick)
    return render_with_python_markdown(text)


def render_with_python_markdown(text: str) -> RenderedMarkdown:
    converter = _converter(os.getpid())
    converter.reset()
    html = converter.convert(text)
    plain, first = html_to_text(html)
    return RenderedMarkdown(html=html, text=plain, first_paragraph=first)
