"""Plain text of rendered HTML fragments, via the standard library's HTML parser:
the text of a body Python-Markdown rendered (quickmark.py makes its own), and the
blocks of an email edition's plain-text version. Imported only when one is needed
(markup.py): html.parser costs an edit 5 ms it rarely needs."""

from __future__ import annotations

from html.parser import HTMLParser

from digest import quickmark


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
