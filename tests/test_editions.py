"""Editions (issue 11): periods and their keys, the example's 2023-W20 edition, its
feeds, email and text twins, the in-progress rule, notes' diagnostics, `digest edition`."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import feedparser
import jinja2
import pytest
from playwright.sync_api import Browser, Request

from digest.config import WEEKDAYS, Config
from digest.editions import parse_period, period_dates, period_of
from digest.render import render_within
from tests.conftest import RunDigest
from tests.test_example_site import SEED_PAGE

SEED_TITLE = "Alibaba Announces Exit from Cloud Business to Focus on Core Operations"
EMAIL_LIMIT = 102_400  # Gmail clips a message past this many bytes


def config(editions: str = "weekly", week_start: str = "monday") -> Config:
    return replace(Config(root=Path()), editions=editions, week_start=week_start)


def test_weeks_are_iso_weeks_from_monday() -> None:
    period = period_of(date(2023, 5, 18), config())
    assert (period.key, period.start, period.end) == ("2023-W20", date(2023, 5, 15),
                                                      date(2023, 5, 21))
    assert period_of(date(2021, 1, 3), config()).key == "2020-W53"  # ISO year differs
    assert period_of(date(2024, 12, 30), config()).key == "2025-W01"
    assert period_dates(period_of(date(2023, 5, 31), config())) == "29 May – 4 June 2023"


def test_other_week_starts_days_and_months() -> None:
    sunday = period_of(date(2023, 5, 14), config(week_start="sunday"))
    assert (sunday.key, sunday.start, sunday.end) == ("2023-W20", date(2023, 5, 14),
                                                      date(2023, 5, 20))
    assert period_of(date(2023, 5, 16), config("daily")).key == "2023-05-16"
    month = period_of(date(2024, 2, 10), config("monthly"))
    assert (month.key, month.start, month.end) == ("2024-02", date(2024, 2, 1), date(2024, 2, 29))


@pytest.mark.parametrize("editions", ["weekly", "daily", "monthly"])
def test_every_key_names_its_own_period(editions: str) -> None:
    for week_start in WEEKDAYS if editions == "weekly" else ("monday",):
        settings = config(editions, week_start)
        day = date(2019, 12, 20)
        while day < date(2026, 1, 10):
            period = period_of(day, settings)
            assert period.start <= day <= period.end
            assert parse_period(period.key, settings) == period, (period, week_start)
            day += timedelta(days=1)


@pytest.mark.parametrize("key", ["2023-W99", "2023-W00", "2023-W54", "2021-W53x", "2023-13",
                                 "2023-05-16", "2023-W7", "W20", "", "9999-W52"])
def test_keys_that_name_no_week(key: str) -> None:
    assert parse_period(key, config()) is None
    assert parse_period(key, config(week_start="sunday")) is None
    assert parse_period("2023-02-30", config("daily")) is None
    assert parse_period("2023-W20", config("monthly")) is None
    assert parse_period("9999-12", config("monthly")) is None  # its end is past date.max
    assert parse_period("0001-W01", config(week_start="sunday")) is None  # before date.min
    assert parse_period("0999-05", config("monthly")) == period_of(date(999, 5, 3),
                                                                     config("monthly"))


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.unstyled: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]
        if tag in ("table", "td", "p", "h1", "h2", "a") and not values.get("style"):
            self.unstyled.append(f"<{tag} {values}>")


def test_seed_week_lists_the_seed_under_alibaba_with_the_note(built_example: Path) -> None:
    page = (built_example / "editions/2023-W20/index.html").read_text(encoding="utf-8")
    assert "<h1>Alibaba puts its cloud up for listing</h1>" in page
    assert "15–21 May 2023" in page and "Week 20, 2023" in page
    assert "Seven weeks after splitting itself into six business groups" in page
    # the note's link to the article by its file became the article's URL
    assert f'href="/{SEED_PAGE}">this week' in page
    groups = re.findall(r'<h2 id="group-\d+"><a href="/companies/([a-z-]+)/">', page)
    assert groups[0] == "alibaba"
    alibaba = page.split('id="group-1"')[1].split("</section>")[0]
    assert SEED_TITLE in alibaba and f'href="/{SEED_PAGE}"' in alibaba
    assert page.count(SEED_TITLE) == 1  # each article once, under its lead company
    assert 'href="/editions/2023-W20/email.html"' in page
    # this week's events, linked to where the article reports them
    assert f'href="/{SEED_PAGE}#event-1">Announces plan to fully spin off' in page


def test_home_and_article_link_to_editions(built_example: Path) -> None:
    home = (built_example / "index.html").read_text(encoding="utf-8")
    assert 'class="latest-edition"' in home and 'href="/editions/2024-W35/"' in home
    article = (built_example / SEED_PAGE / "index.html").read_text(encoding="utf-8")
    assert '<p class="in-edition">In <a href="/editions/2023-W20/">the edition of Week 20, ' \
           '2023</a>' in article
    listing = (built_example / "editions/index.html").read_text(encoding="utf-8")
    keys = re.findall(r'<a href="/editions/(\d{4}-W\d\d)/">', listing)
    assert keys == sorted(keys, reverse=True) and "2023-W20" in keys
    assert not (built_example / "editions/2023-W21").exists()  # empty periods: no page
    search = list((built_example / "search").rglob("*.json"))
    assert search and all(b"editions/" not in p.read_bytes() for p in search)  # no results


def test_editions_feeds_parse_strictly_one_entry_per_edition(
        built_under_subpath: Path) -> None:
    folder = built_under_subpath / "editions"
    for name in ("feed.xml", "rss.xml"):
        parsed = feedparser.parse((folder / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        links = [entry.link for entry in parsed.entries]
        assert "https://example.github.io/repo/editions/2023-W20/" in links
        seed = parsed.entries[links.index("https://example.github.io/repo/editions/2023-W20/")]
        assert seed.title == "Week 20, 2023: Alibaba puts its cloud up for listing"
        content = seed.content[0].value
        assert SEED_TITLE in content and "Seven weeks after splitting" in content
        assert f'href="https://example.github.io/repo/{SEED_PAGE}"' in content
    feed = json.loads((folder / "feed.json").read_bytes())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://example.github.io/repo/editions/feed.json"
    assert feed["home_page_url"] == "https://example.github.io/repo/editions/"
    for item in feed["items"]:
        assert {"id", "url", "title", "content_html", "summary", "date_published",
                "date_modified"} <= item.keys()
        assert item["content_html"].count("<h2>") >= 1
    assert len(feed["items"]) == len({item["id"] for item in feed["items"]}) >= 15


def test_every_email_edition_is_self_contained_and_small(built_under_subpath: Path) -> None:
    emails = sorted(built_under_subpath.glob("editions/*/email.html"))
    assert len(emails) >= 15
    for path in emails:
        data = path.read_bytes()
        assert len(data) <= EMAIL_LIMIT, path
        links = Links()
        links.feed(data.decode())
        assert "script" not in links.tags and "link" not in links.tags, path
        assert links.urls and all(url.startswith("https://") for url in links.urls), \
            [url for url in links.urls if not url.startswith("https://")]
        assert links.unstyled == [], (path, links.unstyled[:3])
        text = path.with_name("email.txt").read_text(encoding="utf-8")
        assert "<" not in text.replace("<https://", "") and "https://example.github.io" in text


def test_the_email_renders_at_600px_without_sideways_scroll(
        browser: Browser, site_url: str) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 600, "height": 900},
                                      color_scheme=scheme)
        page = context.new_page()
        requests: list[str] = []

        def note(request: Request, seen: list[str] = requests) -> None:
            seen.append(request.url)
        page.on("request", note)
        page.goto(site_url + "editions/2023-W20/email.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= 600
        assert page.get_by_text(SEED_TITLE).count() == 1
        background = page.evaluate("getComputedStyle(document.querySelector('.mail-card'))"
                                   ".backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
        assert requests == [site_url + "editions/2023-W20/email.html"]
        context.close()


def test_the_running_period_is_in_progress_and_out_of_the_feeds(
        example_site: Path, digest: RunDigest) -> None:
    # 2024-08-28 12:00 UTC: the last article (2024-08-26) is in the running week
    now = {"SOURCE_DATE_EPOCH": "1724846400"}
    assert digest("build", "-q", cwd=example_site, env=now).returncode == 0
    site = example_site / "site"
    running = (site / "editions/2024-W35/index.html").read_text(encoding="utf-8")
    assert "In progress" in running and "This edition is in progress" in running
    feed = feedparser.parse((site / "editions/feed.xml").read_bytes())
    assert "/editions/2024-W35/" not in " ".join(e.link for e in feed.entries)
    assert "/editions/2024-W21/" in " ".join(e.link for e in feed.entries)
    article = site / "2024/08/pdd-shares-plunge-after-revenue-miss-and-profit-warning/index.html"
    assert "this week&#39;s edition" in article.read_text("utf-8")
    # a week later it has ended: the no-op check notices, and it joins the feed
    later = {"SOURCE_DATE_EPOCH": str(1724846400 + 7 * 86400)}
    rebuilt = digest("build", cwd=example_site, env=later)
    assert rebuilt.returncode == 0 and "nothing changed" not in rebuilt.stdout
    assert "In progress" not in (site / "editions/2024-W35/index.html").read_text("utf-8")
    assert "the edition of Week 35, 2024" in article.read_text("utf-8")
    feed = feedparser.parse((site / "editions/feed.xml").read_bytes())
    assert feed.entries[0].link.endswith("/editions/2024-W35/")
    # --future lets the running one in at once
    assert digest("build", "-q", "--future", cwd=example_site, env=now).returncode == 0
    feed = feedparser.parse((site / "editions/feed.xml").read_bytes())
    assert feed.entries[0].link.endswith("/editions/2024-W35/")


def test_a_long_edition_is_cut_to_fit_an_email(example_site: Path, digest: RunDigest) -> None:
    folder = example_site / "content/articles/busy"
    folder.mkdir()
    summary = "A long summary sentence about a busy week of listings and results. " * 6
    for number in range(300):
        (folder / f"story-{number}.md").write_text(
            f"---\ntitle: Story number {number} of a busy week\ndate: 2023-05-{number % 7 + 15}"
            f"\ncompanies: [Alibaba]\nsummary: \"{summary}\"\n---\nBody {number}.\n",
            encoding="utf-8")
    assert digest("build", "-q", cwd=example_site).returncode == 0
    email = (example_site / "site/editions/2023-W20/email.html").read_text(encoding="utf-8")
    assert len(email.encode()) <= 80_000
    shown = len(re.findall(r">Story number \d+ of a busy week</a>", email))
    more = re.search(r"(\d+) more articles in this edition on the web", email)
    assert more and shown + int(more[1]) == 301 and shown > 50, shown
    page = (example_site / "site/editions/2023-W20/index.html").read_text(encoding="utf-8")
    assert page.count("Story number") == 300  # the page itself lists them all


def test_notes_problems_are_diagnostics(example_site: Path, digest: RunDigest) -> None:
    notes = example_site / "content/editions"
    (notes / "2023-W20.md").write_text("---\ntitel: Typo\n---\nText.\n", encoding="utf-8")
    (notes / "2023-W99.md").write_text("---\ntitle: No such week\n---\n", encoding="utf-8")
    result = digest("build", cwd=example_site)
    assert result.returncode == 1, result.stderr
    assert "content/editions/2023-W20.md:2:1: error: unknown key 'titel'" in result.stderr
    assert "did you mean 'title'?" in result.stderr
    assert "content/editions/2023-W99.md:1:1: error: '2023-W99' names no weekly edition" \
        in result.stderr
    assert not (example_site / "site").exists()
    (notes / "2023-W20.md").unlink()
    (notes / "2023-W99.md").unlink()
    (notes / "2023-W21.md").write_text("---\ntitle: Quiet week\n---\n", encoding="utf-8")
    result = digest("build", cwd=example_site)
    assert result.returncode == 0, result.stderr
    assert "content/editions/2023-W21.md:1:1: warning: no published article is dated in " \
           "2023-W21 (22–28 May 2023): the note is not published" in result.stderr


def test_edition_command(digest: RunDigest, tmp_path: Path) -> None:
    text = digest("edition", "2023-W20", "--format", "text")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Business Digest: Alibaba puts its cloud up for listing\n")
    assert f"* {SEED_TITLE}" in text.stdout and "THIS WEEK" in text.stdout
    latest = digest("edition")  # the latest finished edition, as email HTML
    assert latest.returncode == 0 and latest.stdout.startswith("<!DOCTYPE html>")
    assert "Week 35, 2024" in latest.stdout
    linked = digest("edition", "2023-W20", "--format", "text", "--base-url",
                    "https://example.org/d/", "-q")
    assert linked.returncode == 0 and linked.stderr == ""
    assert "Read this edition on the web: https://example.org/d/editions/2023-W20/" \
        in linked.stdout
    folder = digest("edition", "--output", tmp_path)
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    bad = digest("edition", "2023-W99")
    assert bad.returncode == 2
    assert "2023-W99: error: '2023-W99' names no weekly edition" in bad.stderr
    assert "hint: write a period such as 2024-W35" in bad.stderr
    empty = digest("edition", "2023-W21")
    assert empty.returncode == 2 and "no published article is dated in 2023-W21" in empty.stderr
    target = tmp_path / "edition.txt"
    target.write_text("an editor's file", encoding="utf-8")
    refused = digest("edition", "--format", "text", "--output", target)
    assert refused.returncode == 2 and target.read_text(encoding="utf-8") == "an editor's file"
    fresh = tmp_path / "new.txt"
    assert digest("edition", "2023-W20", "--format", "text", "--output", fresh).returncode == 0
    assert fresh.read_text(encoding="utf-8") == text.stdout


def test_check_reports_a_notes_broken_links(example_site: Path, digest: RunDigest) -> None:
    note = example_site / "content/editions/2023-W20.md"
    note.write_text("---\ntitle: Links\n---\nSee [the plan](../articles/2023/no-such.md)\n"
                    "and [the topic](/topics/no-such/).\n", encoding="utf-8")
    result = digest("check", cwd=example_site)
    assert result.returncode == 0, result.stderr
    assert "content/editions/2023-W20.md:4:16: warning: broken link: " \
           "'../articles/2023/no-such.md' is not an article" in result.stderr
    assert "content/editions/2023-W20.md:5:17: warning: link to '/topics/no-such/' matches " \
           "no page of the site" in result.stderr
    assert digest("check", "--strict", cwd=example_site).returncode == 1


def test_the_email_budget_keeps_the_most_articles_that_fit() -> None:
    """render_within finds, for any budget, the longest list that fits, however uneven
    the articles' sizes (interpolating, then bisecting)."""
    rng = random.Random(11)
    template = jinja2.Environment().from_string(
        "<frame>{% for a in groups[0].articles %}{% if limit is none or loop.index0 < limit %}"
        "{{ a }}{% endif %}{% endfor %}</frame>")
    for _ in range(200):
        articles = ["x" * rng.choice([1, 5, 40, 400, 3000]) for _ in range(rng.randint(1, 60))]
        context = {"groups": [SimpleNamespace(articles=articles)]}
        sizes = [len("<frame></frame>") + sum(map(len, articles[:n]))
                 for n in range(len(articles) + 1)]
        budget = rng.randint(10, sizes[-1] + 100)
        made = render_within(template, context, "x", budget)
        best = max([n for n, size in enumerate(sizes) if size <= budget], default=0)
        assert made == template.render(context, limit=None if best == len(articles) else best)


def test_a_long_note_and_many_events_still_fit_an_email(example_site: Path,
                                                        digest: RunDigest) -> None:
    note = example_site / "content/editions/2023-W20.md"
    note.write_text("---\ntitle: Long\nsummary: A long week.\n---\n" + "A long paragraph of "
                    "the editor's thoughts on the week's listings. " * 40 + "\n\n" * 1
                    + ("More thoughts, at length. " * 30 + "\n\n") * 150, encoding="utf-8")
    folder = example_site / "content/articles/busy"
    folder.mkdir()
    for number in range(120):
        event = (f"  - {{date: 2023-05-{number % 7 + 15}, company: Alibaba, type: other, "
                 f"title: Event number {number}}}\n")
        (folder / f"story-{number}.md").write_text(
            f"---\ntitle: Story {number}\ndate: 2023-05-{number % 7 + 15}\n"
            f"companies: [Alibaba]\nevents:\n{event}{event.replace('Event', 'Second')}---\n"
            f"Body.\n", encoding="utf-8")
    assert digest("build", "-q", "--base-url", "https://example.org/d/",
                  cwd=example_site).returncode == 0
    email = (example_site / "site/editions/2023-W20/email.html").read_text(encoding="utf-8")
    assert len(email.encode()) <= 80_000
    assert "Read the editor's note on the web" in email
    assert re.search(r"\d+ more events on the web", email)
    assert len(re.findall(r">Story \d+</a>", email)) > 20  # articles still lead the mail


def test_a_notes_relative_links_are_absolute_in_mail_and_checked(
        example_site: Path, digest: RunDigest) -> None:
    note = example_site / "content/editions/2023-W20.md"
    note.write_text("---\ntitle: Links\n---\nSee [chart](chart.png), [a page](other/page/), "
                    "[anchor](#x) and <a href=\"https://x.org/\" onclick=\"go()\">x</a>"
                    "<script>alert(1)</script>.\n", encoding="utf-8")
    assert digest("build", "-q", "--base-url", "https://example.org/d/",
                  cwd=example_site).returncode == 0
    email = (example_site / "site/editions/2023-W20/email.html").read_text(encoding="utf-8")
    links = Links()
    links.feed(email)
    assert all(url.startswith("https://") for url in links.urls), links.urls
    assert 'href="https://example.org/d/editions/2023-W20/chart.png"' in email
    assert "<script" not in email and "onclick" not in email
    checked = digest("check", cwd=example_site)
    assert "content/editions/2023-W20.md:4:13: warning: 'chart.png' is beside an editor's " \
           "note, where files are not published" in checked.stderr


def test_a_note_named_for_another_period_is_a_warning(example_site: Path,
                                                      digest: RunDigest) -> None:
    pyproject = example_site / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.digest]",
                                                       '[tool.digest]\neditions = "monthly"'))
    result = digest("build", cwd=example_site)
    assert result.returncode == 0, result.stderr
    assert "content/editions/2023-W20.md:1:1: warning: '2023-W20' names a weekly edition, " \
           "and editions are monthly: this note is not published" in result.stderr
    assert (example_site / "site/editions/2023-05/index.html").is_file()


def test_an_article_cannot_take_the_editions_address(example_site: Path,
                                                     digest: RunDigest) -> None:
    pyproject = example_site / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.digest]", '[tool.digest]\npermalink = "/{slug}/"'))
    (example_site / "content/articles/2023/editions.md").write_text(
        "---\ntitle: Editions\ndate: 2023-01-02\n---\nBody.\n", encoding="utf-8")
    result = digest("build", cwd=example_site)
    assert result.returncode == 1
    assert "content/articles/2023/editions.md:2:8: error: the article's URL '/editions/' " \
           "would replace the page digest makes there (editions.html)" in result.stderr


def test_plain_text_of_a_note_keeps_lists_and_links() -> None:
    from digest.markup import html_blocks, render_markdown
    html = render_markdown("Intro [site](https://x.org) and <https://x.org>.\n\n- first\n\n"
                           "- second\n\n1. one\n2. two\n\n![chart](https://x.org/c.png)\n").html
    assert html_blocks(html) == ["Intro site <https://x.org> and https://x.org.", "- first",
                                 "- second", "1. one", "2. two", "[chart]"]
