"""The example site in content/: the founding article, topics and the Alibaba timeline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import REPO

SEED = REPO / "tests" / "fixtures" / "seed_000_3619a924b1370d17.txt"
SEED_PAGE = "2023/05/alibaba-announces-exit-from-cloud-business-to-focus-on-core-operations/"


class TextOf(HTMLParser):
    """Visible text of <main>, and the hrefs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.depth += 1
        if self.depth and tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def main_of(path: Path) -> TextOf:
    parser = TextOf()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_seed_article_page_has_its_text_and_no_scrape_junk(built_example: Path) -> None:
    page = main_of(built_example / SEED_PAGE / "index.html")
    text = " ".join(" ".join(page.text).split())
    headline = "Alibaba Announces Exit from Cloud Business to Focus on Core Operations"
    assert text.count(headline) == 1, "the duplicated headline must be gone"
    assert "No votes yet" not in text and "Please wait" not in text
    seed_lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    paragraphs = [line for line in seed_lines if len(line) > 100]
    assert len(paragraphs) == 7
    for paragraph in paragraphs:
        assert " ".join(paragraph.split()) in text, paragraph[:60]


def test_cloud_and_ipo_topics_list_the_seed(built_example: Path) -> None:
    for topic in ("cloud", "ipo"):
        links = main_of(built_example / "topics" / topic / "index.html").links
        assert f"/{SEED_PAGE}" in links, topic


def test_alibaba_page_has_profile_and_six_dated_timeline_entries(built_example: Path) -> None:
    html = (built_example / "companies/alibaba/index.html").read_text(encoding="utf-8")
    assert "Hangzhou" in html and 'class="profile"' in html
    timeline = html[html.index('id="timeline-heading"'):]
    dated = re.findall(r'<li class="timeline-entry[^"]*">\s*<time datetime="(\d{4}-\d{2}-\d{2})"',
                       timeline)
    assert len(dated) >= 6
    assert dated == sorted(dated, reverse=True), "newest first"
    assert "<svg" in html and "<rect" in html, "coverage chart"


def test_every_tagged_company_has_a_registry_page() -> None:
    registry = {p.stem for p in (REPO / "content/companies").glob("*.md")}
    for name in ("alibaba", "cainiao", "freshippo", "tencent", "baidu", "pinduoduo",
                 "bytedance"):
        assert name in registry


def test_example_has_thirteen_sourced_articles_with_events() -> None:
    import yaml

    articles = sorted((REPO / "content/articles").rglob("*.md"))
    assert len(articles) >= 13
    for path in articles:
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        assert front.get("source"), path
        assert front.get("events"), path


def test_pages_of_every_kind_exist(built_example: Path) -> None:
    for page in ("index.html", "page/2/index.html", "topics/index.html",
                 "companies/index.html", "archive/index.html", "archive/2023/index.html",
                 "archive/2023/05/index.html", "404.html", "static/style.css"):
        assert (built_example / page).is_file(), page
