"""Crawl the built site: every internal link and asset resolves, under a subpath too,
and no page makes a request that leaves the site."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

# Attributes that make the browser fetch something by itself (as opposed to links).
FETCHING = {("script", "src"), ("img", "src"), ("source", "src"),
            ("iframe", "src"), ("video", "src"), ("audio", "src"), ("img", "srcset")}
# <link> rels a browser fetches by itself; canonical and alternate are only references.
FETCHING_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.fetches: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        rels = set((dict(attrs).get("rel") or "").split())
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            if (tag, name) in FETCHING or (tag == "link" and name == "href"
                                           and rels & FETCHING_RELS):
                self.fetches.append(value)
            elif name == "href":
                self.links.append(value)


def parse(path: Path) -> References:
    refs = References()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


SITE_ORIGIN = "https://example.github.io"  # of the subpath build (conftest.py)


def resolve(site: Path, base_path: str, href: str, page: Path) -> Path | None:
    """The built file an internal href points at, or None for an external one. An
    absolute URL of the site itself (canonical links, email editions) is internal."""
    if href.startswith(SITE_ORIGIN + "/"):
        href = href[len(SITE_ORIGIN):]
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "data:")):
        return None
    path = unquote(parts.path)
    assert path.startswith(base_path), f"{page}: link {href!r} escapes the base path"
    target = site / path[len(base_path):]
    return target / "index.html" if path.endswith("/") else target


@pytest.mark.parametrize("fixture, base_path", [("built_example", "/"),
                                                ("built_under_subpath", "/repo/")])
def test_every_internal_link_and_asset_resolves(fixture: str, base_path: str,
                                                request: pytest.FixtureRequest) -> None:
    site: Path = request.getfixturevalue(fixture)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 40
    checked = 0
    for page in pages:
        refs = parse(page)
        for href in refs.links + refs.fetches:
            target = resolve(site, base_path, href, page)
            if target is None:
                continue
            assert target.is_file(), f"{page.relative_to(site)}: broken link {href}"
            fragment = urlsplit(href).fragment
            if fragment and target.suffix == ".html":
                assert fragment in parse(target).ids, f"{page}: missing anchor {href}"
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("fixture", ["built_example", "built_under_subpath"])
def test_no_request_leaves_the_site(fixture: str, request: pytest.FixtureRequest) -> None:
    site: Path = request.getfixturevalue(fixture)
    for page in site.rglob("*.html"):
        for url in parse(page).fetches:
            inline = url.startswith("data:")  # carried in the page itself
            assert inline or (not urlsplit(url).scheme and not url.startswith("//")), url
    css = (site / "static/style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css


def test_404_page_uses_absolute_paths(built_under_subpath: Path) -> None:
    refs = parse(built_under_subpath / "404.html")
    links = [href for href in refs.links if not href.startswith("#")]
    assert links and all(href.startswith("/repo/") for href in links)
    assert all(u.startswith(("/repo/", "data:")) for u in refs.fetches)


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tags: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "script" and dict(attrs).get("type") != "application/ld+json":
            self.scripts.append(dict(attrs))
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))


def test_every_page_has_landmarks_and_ordered_headings(built_example: Path) -> None:
    for page in sorted(built_example.rglob("*.html")):
        if page.name == "email.html":  # a mail, not a page of the site: test_editions.py
            continue
        outline = Outline()
        outline.feed(page.read_text(encoding="utf-8"))
        where = page.relative_to(built_example)
        assert {"header", "nav", "main", "footer"} <= outline.tags, where
        assert outline.lang, where
        # The only script is the search module; every page works without it.
        assert [s.get("src") for s in outline.scripts] == ["/static/search.js"], where
        assert outline.scripts[0].get("type") == "module", where
        assert outline.headings[0] == 1 and outline.headings.count(1) == 1, where
        for previous, current in zip(outline.headings, outline.headings[1:], strict=False):
            assert current <= previous + 1, f"{where}: h{previous} then h{current}"
