"""Python-Markdown, set up as digest renders bodies (markup.py asks for it only when
quickmark.py cannot decide).

Python-Markdown objects keep state between conversions; `reset()` clears it (its
documented way to convert many documents), and building a converter with its
extensions costs a quarter of a 6 KB body's conversion. So each process builds one
converter on first use and resets it before every text: still a pure function, safe in
forked workers (each has its own) and to cache by content hash.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as etree
from functools import cache

import markdown
from markdown.extensions import Extension
from markdown.extensions.extra import ExtraExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.toc import TocExtension
from markdown.treeprocessors import Treeprocessor

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


def to_html(text: str) -> str:
    converter = _converter(os.getpid())
    converter.reset()
    return converter.convert(text)
