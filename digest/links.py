"""Links inside rendered bodies. Markdown renders site-relative; here, when a page is
written, `[x](other.md)` becomes the other article's URL, a relative file or image next
to an article becomes its published copy under /files/, and root-relative links
(`/topics/ipo/`) get the site's base path. `digest check` uses `find_references` to
report what does not resolve."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from digest.urls import FILES_PREFIX, Urls

ATTRIBUTE = re.compile(r'(href|src)="([^"]*)"')
# An href or src whose target does not start like an external one: only a body with
# one can change (a regex that starts with the literal `="` is searched for at C speed,
# 10× faster than ATTRIBUTE's substitution over a body whose links are all external).
MAYBE_RESOLVED = re.compile(r'="(?:(?<=href=")|(?<=src="))(?!https:|http:|mailto:|//|#)')
# An href or src whose target spells ".md" or has a "%": only such a target can name a
# source file (content.body_links), and most bodies have none.
MAYBE_SOURCE = re.compile(r'="(?:(?<=href=")|(?<=src="))[^"]*(?:\.md|%)')
# Markdown links and images, and HTML href/src attributes, in an article's source
SOURCE_REFERENCE = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)'
                              r'|(?:href|src)="([^"]+)"')


@dataclass(frozen=True)
class Reference:
    target: str  # as written
    line: int
    column: int


def is_external(target: str) -> bool:
    # (the usual targets answered before urlsplit, a twentieth of rendering an article
    # page: a target starting with a scheme and its colon has that scheme)
    return target.startswith(("https:", "http:", "mailto:", "//", "#")) \
        or bool(urlsplit(target).scheme)


def source_relative(article_path: str, target: str) -> str:
    """Where a relative target points, as a path relative to the project root."""
    folder = posixpath.dirname(article_path)
    return posixpath.normpath(posixpath.join(folder, unquote(urlsplit(target).path)))


def resolve_body(html: str, article_path: str, by_source: Mapping[str, str],
                 articles_dir: str, urls: Urls, absolute: bool = False) -> str:
    """A rendered body as a page (or, `absolute`, a feed) shows it."""
    link = urls.absolute if absolute else urls.path
    origin = urls.origin if absolute else ""

    def replace(match: re.Match[str]) -> str:
        attribute, target = match.groups()
        if not target or is_external(target):
            return match.group(0)
        if target.startswith("/"):  # as written, under the base path
            return f'{attribute}="{origin}{urls.base_path}{target[1:]}"'
        path = source_relative(article_path, target)
        fragment = urlsplit(target).fragment
        suffix = f"#{fragment}" if fragment else ""
        if path.endswith(".md"):
            url = by_source.get(path)
            return f'{attribute}="{link(url)}{suffix}"' if url is not None else match.group(0)
        if path.startswith(articles_dir):
            return f'{attribute}="{link(FILES_PREFIX + path[len(articles_dir):])}{suffix}"'
        return match.group(0)

    if not MAYBE_RESOLVED.search(html):
        return html
    return ATTRIBUTE.sub(replace, html)


def find_references(source: str, body_line: int) -> list[Reference]:
    """Every link and image target in a Markdown body, with its position in the file."""
    references = []
    for match in SOURCE_REFERENCE.finditer(source):
        target = match.group(1) or match.group(2)
        start = match.start(1) if match.group(1) else match.start(2)
        line = source.count("\n", 0, start)
        column = start - (source.rfind("\n", 0, start) + 1) + 1
        references.append(Reference(target, body_line + line, column))
    return references
