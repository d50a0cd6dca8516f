"""Topic pages: a topic's page shows its newest articles and its years; a topic with
more articles than that has pages for each year (ten times per_page articles a page),
so a re-tagged or added article changes the pages of its own year only. Built by the
real CLI, read with a real HTML parser, judged by Nu and axe."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from digest.build import build
from digest.config import load_config
from tests.browser import serve
from tests.conftest import run_cli
from tests.test_validators import ROLE_LIST_WARNING
from tests.validators import axe_violations, nu_messages

# Cloud: 12 articles in 2024 (two pages of a year at per_page = 1), 8 in 2023, 5 in
# 2022. Chips: one article, shown whole on its page.
YEARS = {2024: 12, 2023: 8, 2022: 5}


class Links(HTMLParser):
    """The links of a page's <main>, and the teaser headlines among them, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = self.in_teaser_title = False
        self.links: list[str] = []
        self.teasers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag in ("h2", "h3") and values.get("class") == "teaser-title":
            self.in_teaser_title = True
        elif tag == "a" and self.in_main and values.get("href"):
            href = str(values["href"])
            self.links.append(href)
            if self.in_teaser_title:
                self.teasers.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False
        elif tag in ("h2", "h3"):
            self.in_teaser_title = False


def links_of(site: Path, path: str) -> Links:
    parser = Links()
    parser.feed((site / path / "index.html").read_text(encoding="utf-8"))
    return parser


def write_article(root: Path, year: int, number: int, tags: list[str]) -> None:
    (root / f"content/articles/{year}-{number:02}.md").write_text(
        f'---\ntitle: "Cloud news {year} number {number}"\n'
        f"date: {year}-{1 + number % 12:02}-{1 + number:02}\n"
        f"tags: [{', '.join(tags)}]\n---\nA body.\n", encoding="utf-8")


def make_project(root: Path) -> Path:
    (root / "content/articles").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.digest]\ntitle = "Topics"\nper_page = 1\nbase_url = "/repo/"\n',
        encoding="utf-8")
    for year, count in YEARS.items():
        for number in range(count):
            write_article(root, year, number, ["Cloud"])
    write_article(root, 2023, 20, ["Chips"])
    return root


def article_url(year: int, number: int) -> str:
    slug = f"cloud-news-{year}-number-{number}"
    return f"/repo/{year}/{1 + number % 12:02}/{slug}/"


def newest_first(year: int) -> list[str]:
    """A year's Cloud articles, newest first (dates rise with the number)."""
    return [article_url(year, number) for number in reversed(range(YEARS[year]))]


@pytest.fixture(scope="module")
def topic_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("topics"))
    result = run_cli("build", "--quiet", "--root", root)
    assert result.returncode == 0, result.stderr
    return root / "site"


def test_a_topic_page_shows_its_newest_articles_and_links_to_its_years(topic_site: Path
                                                                        ) -> None:
    page = links_of(topic_site, "topics/cloud")
    assert page.teasers == newest_first(2024)[:1]
    years = [link for link in page.links if link.startswith("/repo/topics/cloud/")]
    assert years == ["/repo/topics/cloud/2024/", "/repo/topics/cloud/2023/",
                     "/repo/topics/cloud/2022/"]
    text = (topic_site / "topics/cloud/index.html").read_text(encoding="utf-8")
    assert "All 25 articles by year" in text and "12 articles" in text


def test_a_year_has_pages_of_ten_times_per_page_and_links_to_its_neighbours(
        topic_site: Path) -> None:
    first, second = links_of(topic_site, "topics/cloud/2024"), \
        links_of(topic_site, "topics/cloud/2024/page/2")
    assert first.teasers + second.teasers == newest_first(2024)
    assert len(first.teasers) == 10
    assert "/repo/topics/cloud/2024/page/2/" in first.links
    assert "/repo/topics/cloud/2023/" in first.links  # older
    middle = links_of(topic_site, "topics/cloud/2023")
    assert middle.teasers == newest_first(2023)
    assert {"/repo/topics/cloud/2024/", "/repo/topics/cloud/2022/",
            "/repo/topics/cloud/"} <= set(middle.links)
    assert not (topic_site / "topics/cloud/2023/page").exists()
    sitemap = (topic_site / "sitemap.xml").read_text(encoding="utf-8")
    assert "/repo/topics/cloud/2024/page/2/</loc>" in sitemap


def test_a_topic_its_page_holds_whole_has_no_year_pages(topic_site: Path) -> None:
    assert links_of(topic_site, "topics/chips").teasers == [
        "/repo/2023/09/cloud-news-2023-number-20/"]
    assert sorted(p.name for p in (topic_site / "topics/chips").iterdir()) == [
        "feed.json", "feed.xml", "index.html", "rss.xml"]


def test_a_retagged_article_changes_the_pages_of_its_year_only(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    config = load_config(root)
    build(config)
    write_article(root, 2023, 20, ["Chips", "Cloud"])  # joins Cloud in 2023
    moved = build(config)
    assert {"topics/cloud/index.html", "topics/cloud/2023/index.html",
            "topics/chips/index.html"} <= set(moved.rendered)
    assert not {"topics/cloud/2024/index.html", "topics/cloud/2024/page/2/index.html",
                "topics/cloud/2022/index.html"} & set(moved.rendered)
    assert links_of(root / "site", "topics/cloud/2023").teasers[0] == \
        "/repo/2023/09/cloud-news-2023-number-20/"


def test_nu_and_axe_find_nothing_on_topic_pages(topic_site: Path, browser: Browser,
                                                tmp_path: Path) -> None:
    paths = ["topics/cloud/", "topics/cloud/2024/", "topics/cloud/2024/page/2/",
             "topics/cloud/2023/"]
    found = nu_messages([topic_site / path / "index.html" for path in paths], root=topic_site)
    assert [m for m in found if not ROLE_LIST_WARNING.search(m)] == []
    shutil.copytree(topic_site, tmp_path / "repo")
    with serve(tmp_path) as url:
        page = browser.new_page()
        violations = []
        for path in paths:
            page.goto(f"{url}repo/{path}")
            violations += [f"/{path}: {v}" for v in axe_violations(page)]
        page.close()
    assert violations == []
