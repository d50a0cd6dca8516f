"""Feeds, metadata, sitemap and scheduling (issue 4), on the built example site."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.conftest import RunDigest

BASE = "https://example.github.io/repo/"
JSON_FEED_ITEM_REQUIRED = ("id",)


def feeds_of(site: Path) -> list[Path]:
    return sorted(p for name in ("feed.xml", "rss.xml", "feed.json") for p in site.rglob(name))


def test_every_feed_parses_strictly(built_under_subpath: Path) -> None:
    feeds = feeds_of(built_under_subpath)
    assert len(feeds) == 3 * (1 + 1 + 10 + 7)  # site, editions, each topic, each company
    for path in feeds:
        data = path.read_bytes()
        if path.suffix == ".json":
            feed = json.loads(data)
            assert feed["version"] == "https://jsonfeed.org/version/1.1"
            assert feed["title"] and isinstance(feed["items"], list) and feed["items"]
            ids = [item["id"] for item in feed["items"]]
            assert len(ids) == len(set(ids)), path
            for item in feed["items"]:
                assert item.get("content_html") or item.get("content_text"), path
            continue
        ElementTree.fromstring(data)  # strict XML
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        ids = [entry.id for entry in parsed.entries]
        assert len(ids) == len(set(ids)), path
        dates = [entry.published_parsed for entry in parsed.entries]
        assert dates == sorted(dates, reverse=True), f"{path}: newest first"


def test_company_feed_is_its_timeline(built_under_subpath: Path) -> None:
    feed = feedparser.parse((built_under_subpath / "companies/alibaba/feed.xml").read_bytes())
    titles = [entry.title for entry in feed.entries]
    assert any(t.startswith("IPO: ") for t in titles), titles
    assert any("#event-" in entry.id for entry in feed.entries)


class Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") == "canonical":
            self.found.append(values["href"] or "")
        if tag == "meta" and values.get("property") == "og:url":
            self.found.append(values["content"] or "")
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)
            self._in_ld = False


def built_file(site: Path, url: str) -> Path:
    assert url.startswith(BASE), f"{url} is not under {BASE}"
    path = urlsplit(url).path[len("/repo/"):]
    return site / (path + "index.html" if path.endswith("/") or not path else path)


def test_every_published_url_is_absolute_and_built(built_under_subpath: Path) -> None:
    site = built_under_subpath
    urls: list[str] = []
    for feed in feeds_of(site):
        text = feed.read_text(encoding="utf-8")
        urls += re.findall(r'(?:href="|<link>|<id>|<guid[^>]*>|"(?:url|home_page_url|'
                           r'feed_url|id)": ")(https?://[^"<#]+)', text)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    urls += re.findall(r"<loc>([^<]+)</loc>", sitemap)
    for page in site.rglob("*.html"):
        parser = Urls()
        parser.feed(page.read_text(encoding="utf-8"))
        urls += parser.found
        for block in parser.json_ld:
            data = json.loads(block)
            urls += [data["url"], data["mainEntityOfPage"], *[a["url"] for a in data["about"]]]
    urls = [u for u in urls if not u.startswith(("https://schema.org", "http://www.w3.org"))]
    assert len(urls) > 500
    for url in set(urls):
        assert built_file(site, url).is_file(), url
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots
    assert (site / ".nojekyll").is_file()


def test_json_ld_cannot_be_broken_out_of(digest: RunDigest, tmp_path: Path) -> None:
    article = tmp_path / "content/articles/x.md"
    article.parent.mkdir(parents=True)
    article.write_text('---\ntitle: "Evil </script><script>alert(1)</script>"\n'
                       "date: 2024-01-01\n---\nBody.\n", encoding="utf-8")
    assert digest("build", "-q", "--root", tmp_path).returncode == 0
    page = next((tmp_path / "site/2024/01").rglob("index.html")).read_text(encoding="utf-8")
    assert page.count("<script") == 2  # the JSON-LD block and the search module
    block = page.split('type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(block)["headline"] == "Evil </script><script>alert(1)</script>"


FUTURE = "---\ntitle: Tomorrow's news\ndate: 2030-06-01 09:00\ntags: [cloud]\n---\nSoon.\n"
DRAFT = "---\ntitle: Half written\ndate: 2024-01-01\ndraft: true\ntags: [cloud]\n---\nWIP.\n"


def everything(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in sorted(site.rglob("*")) if p.is_file())


@pytest.mark.parametrize("epoch, visible", [("1893456000", False), ("1906848000", True)])
def test_scheduled_article_waits_for_its_date(digest: RunDigest, example_site: Path,
                                              epoch: str, visible: bool) -> None:
    (example_site / "content/articles/future.md").write_text(FUTURE, encoding="utf-8")
    result = digest("build", cwd=example_site, env={"SOURCE_DATE_EPOCH": epoch})
    assert result.returncode == 0, result.stderr
    text = everything(example_site / "site")
    assert ("Tomorrow" in text) == visible
    assert ("tomorrow-s-news" in text) == visible
    if not visible:
        assert "1 scheduled (next due 2030-06-01 09:00 CST" in result.stdout


def test_draft_appears_only_with_drafts_flag(digest: RunDigest, example_site: Path) -> None:
    (example_site / "content/articles/draft.md").write_text(DRAFT, encoding="utf-8")
    assert digest("build", "-q", cwd=example_site).returncode == 0
    assert "Half written" not in everything(example_site / "site")
    assert digest("build", "-q", "--drafts", cwd=example_site).returncode == 0
    assert "Half written" in everything(example_site / "site")


def test_alias_writes_a_redirect(digest: RunDigest, tmp_path: Path) -> None:
    article = tmp_path / "content/articles/x.md"
    article.parent.mkdir(parents=True)
    article.write_text("---\ntitle: New home\ndate: 2024-01-01\naliases: [/old/place]\n---\n"
                       "Body.\n", encoding="utf-8")
    assert digest("build", "-q", "--root", tmp_path).returncode == 0
    redirect = (tmp_path / "site/old/place/index.html").read_text(encoding="utf-8")
    assert 'http-equiv="refresh" content="0; url=/2024/01/new-home/"' in redirect


def test_cname_is_written_when_set(digest: RunDigest, example_site: Path) -> None:
    pyproject = example_site / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.digest]\n",
                                      '[tool.digest]\ncname = "news.example.com"\n'),
                         encoding="utf-8")
    assert digest("build", "-q", cwd=example_site).returncode == 0
    assert (example_site / "site/CNAME").read_text() == "news.example.com\n"


def test_past_the_url_limit_the_sitemap_is_an_index_of_parts(
        example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 50,000 URLs (here 7) sitemap.xml is a sitemap index over sitemap-N.xml
    files: together they list every URL of the single sitemap, each with the same
    lastmod, and the index gives each part the newest lastmod in it."""
    from datetime import datetime

    from digest import plan
    from digest.build import build
    from digest.config import load_config
    from digest.model import Selection

    config = load_config(example_site, {"base_url": BASE})
    selection = Selection(datetime.fromisoformat("2026-11-30T00:00:00+00:00"))
    build(config, selection=selection)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

    def entries(path: Path, tag: str) -> list[tuple[str, str]]:
        root = ElementTree.parse(path).getroot()
        return [(item.findtext(f"{namespace}loc") or "",
                 item.findtext(f"{namespace}lastmod") or "")
                for item in root.iter(f"{namespace}{tag}")]
    whole = entries(example_site / "site" / "sitemap.xml", "url")
    assert len(whole) > 14
    monkeypatch.setattr(plan, "SITEMAP_LIMIT", 7)
    config = load_config(example_site, {"base_url": BASE, "output_dir": "split"})
    build(config, selection=selection)
    index = entries(example_site / "split" / "sitemap.xml", "sitemap")
    assert [loc for loc, _ in index] == [f"{BASE}sitemap-{n}.xml"
                                         for n in range(1, len(index) + 1)]
    parts = [entries(built_file(example_site / "split", loc), "url") for loc, _ in index]
    assert [entry for part in parts for entry in part] == whole
    assert all(1 <= len(part) <= 7 for part in parts)
    for (_, newest), part in zip(index, parts, strict=True):
        assert newest == max((m for _, m in part if m), key=datetime.fromisoformat)


def test_a_sitemap_part_is_as_new_as_its_newest_instant(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lastmods are ISO 8601 texts in their articles' own offsets: the newest of a
    part is found by instant, not by text."""
    from digest import plan
    from digest.urls import Urls

    monkeypatch.setattr(plan, "SITEMAP_LIMIT", 2)
    # 10:00+02:00 is 08:00 UTC, before 09:00+00:00, though it sorts after it as text
    made = plan.sitemap_outputs([("a/", "2024-05-01T10:00:00+02:00"),
                                 ("b/", "2024-05-01T09:00:00+00:00"),
                                 ("c/", "2024-04-01T00:00:00+00:00")], Urls(BASE))
    index = made[-1].context["entries"]
    assert index == [(f"{BASE}sitemap-1.xml", "2024-05-01T09:00:00+00:00"),
                     (f"{BASE}sitemap-2.xml", "2024-04-01T00:00:00+00:00")]
