"""Links inside article bodies: `[x](other.md)` becomes the other article's URL, and a
relative file or image next to an article is published under /files/. The build uses
`rewrite_links`; `digest check` uses `find_references` to report what does not resolve."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from digest.model import Site
from digest.urls import Urls

ATTRIBUTE = re.compile(r'(href|src)="([^"]*)"')
# Markdown links and images, and HTML href/src attributes, in an article's source
SOURCE_REFERENCE = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)'
                              r'|(?:href|src)="([^"]+)"')
FILES_PREFIX = "files/"


@dataclass(frozen=True)
class Reference:
    target: str  # as written
    line: int
    column: int


def is_external(target: str) -> bool:
    return bool(urlsplit(target).scheme) or target.startswith(("//", "#"))


def source_relative(article_path: str, target: str) -> str:
    """Where a relative target points, as a path relative to the project root."""
    folder = posixpath.dirname(article_path)
    return posixpath.normpath(posixpath.join(folder, unquote(urlsplit(target).path)))


def rewrite_links(site: Site, urls: Urls) -> None:
    """Point .md links at article URLs and relative files at their published copies."""
    by_source = {page.article.path: page.url for page in site.articles}
    articles_dir = f"{site.config.content_dir}/articles/"
    for page in site.articles:
        if 'href="' in page.body_html or 'src="' in page.body_html:
            page.body_html = rewrite_body(page.body_html, page.article.path, by_source,
                                          articles_dir, urls)


def rewrite_body(html: str, article_path: str, by_source: dict[str, str], articles_dir: str,
                 urls: Urls) -> str:
    def replace(match: re.Match[str]) -> str:
        attribute, target = match.groups()
        if not target or is_external(target) or target.startswith("/"):
            return match.group(0)
        path = source_relative(article_path, target)
        fragment = urlsplit(target).fragment
        suffix = f"#{fragment}" if fragment else ""
        if path.endswith(".md"):
            url = by_source.get(path)
            return f'{attribute}="{urls.path(url)}{suffix}"' if url else match.group(0)
        if path.startswith(articles_dir):
            return f'{attribute}="{urls.path(FILES_PREFIX + path[len(articles_dir):])}{suffix}"'
        return match.group(0)

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
