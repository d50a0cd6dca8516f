"""Express builds (express.py): an edit of article bodies alone is built from the last
build's state without the model, and the site is byte for byte what a clean build
makes; any other edit is left to the usual build."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import digest.express
import digest.state
from digest.build import BuildResult
from tests.test_incremental import Site
from tests.test_safety import snapshot

# a site feed of three entries: the older articles' bodies are on their pages alone
FEED = "[tool.digest]\nfeed_entries = 3\n"


@pytest.fixture
def site(example_site: Path) -> Site:
    settings = example_site / "pyproject.toml"
    settings.write_text(settings.read_text().replace("[tool.digest]\n", FEED, 1))
    made = Site(example_site, random.Random(5))
    folder = made.root / "content/articles/2019"
    made.write(folder / "old-news.md", {"title": "Old news about Alibaba", "slug": "old-news",
                                        "date": "2019-03-04 08:00", "companies": ["Alibaba"],
                                        "tags": ["cloud"]},
               "First paragraph.\n\nSecond paragraph.\n")
    made.write(folder / "no-summary.md", {"title": "Baidu without a summary",
                                          "date": "2019-03-05", "companies": ["Baidu"]},
               "The opening paragraph is the summary.\n\nThe rest.\n")
    made.build(made.root / "site")
    # the first build of an empty folder leaves no twin (output.py): the next one does
    made.edit(lambda m, b: (m, b + "\nA first edit.\n"), folder / "old-news.md")
    assert not made.build(made.root / "site").express
    return made


def same_as_clean(site: Site, tmp_path: Path, name: str) -> None:
    site.build(tmp_path / name, cache_dir="")
    assert snapshot(site.root / "site") == snapshot(tmp_path / name), name


def expressed(result: BuildResult) -> bool:
    return result.express and result.site is None


def test_a_body_edit_is_built_without_the_model(site: Site, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.build

    def not_made(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was made")

    old = site.root / "content/articles/2019/old-news.md"
    monkeypatch.setattr(digest.build, "build_site", not_made)
    monkeypatch.setattr(digest.build, "restore", not_made)
    for number in range(3):  # (each one's row is the last one's)
        matter, body = site.read(old)
        site.write(old, matter, body + f"\nA sentence, number {number}.\n")
        result = site.build(site.root / "site")
        assert expressed(result), digest.express.declined
        assert result.rendered == ["2019/03/old-news/index.html"]
        assert f"number {number}." in (site.root / "site" / result.rendered[0]).read_text()
    monkeypatch.undo()
    same_as_clean(site, tmp_path, "clean-bodies")
    # and an edit of another file after it takes up the state it saved
    site.edit(lambda m, b: ({**m, "title": "Old news, revised"}, b), old)
    result = site.build(site.root / "site")
    assert not result.express and "more than the body" in digest.express.declined
    same_as_clean(site, tmp_path, "clean-title")
    site.edit(lambda m, b: (m, b + "\nAnd after the title.\n"), old)
    assert expressed(site.build(site.root / "site"))
    same_as_clean(site, tmp_path, "clean-after")


@pytest.mark.parametrize(("edit", "why"), [
    ("title", "more than the body"), ("tags", "more than the body"),
    ("summary from the body", "its card changed"), ("new link", "more than the body"),
    ("feed", "a feed carries its body"), ("two files, one a topic", "topics/cloud.md")])
def test_anything_more_than_a_body_is_left_to_the_usual_build(
        site: Site, tmp_path: Path, edit: str, why: str) -> None:
    old = site.root / "content/articles/2019/old-news.md"
    if edit == "title":
        site.edit(lambda m, b: ({**m, "title": "Old news, a new headline"}, b), old)
    elif edit == "tags":
        site.edit(lambda m, b: ({**m, "tags": ["IPO"]}, b), old)
    elif edit == "summary from the body":  # its card (lists show it) changes
        site.edit(lambda m, b: (m, "A new opening.\n\n" + b),
                  site.root / "content/articles/2019/no-summary.md")
    elif edit == "new link":  # the page shows where the link goes: not in its row
        site.edit(lambda m, b: (m, b + "\nSee [more](no-summary.md).\n"), old)
    elif edit == "feed":  # the site feed carries the newest articles' bodies
        newest = max(site.articles(), key=lambda path: str(site.read(path)[0]["date"]))
        site.write(newest, *site.read(newest))  # (as edits write it: the same front)
        site.build(site.root / "site")
        site.edit(lambda m, b: (m, b + "\nNewest.\n"), newest)
    else:
        site.edit(lambda m, b: (m, b + "\nMore.\n"), old)
        topic = site.root / "content/topics/cloud.md"
        topic.parent.mkdir(exist_ok=True)
        topic.write_text("---\nname: Cloud\ndescription: Compute for rent.\n---\n")
    result = site.build(site.root / "site")
    assert not result.express, edit
    assert why in digest.express.declined, digest.express.declined
    same_as_clean(site, tmp_path, "clean")


def test_an_express_build_stopped_before_its_state_leaves_the_next_build_right(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = site.root / "content/articles/2019/old-news.md"
    real_write = digest.state._write

    def stopped(path: Path, value: object, *pickled: bytes | None) -> None:
        if path.name == "state":
            raise OSError("stopped")
        real_write(path, value, *pickled)

    site.edit(lambda m, b: (m, b + "\nStopped.\n"), old)
    monkeypatch.setattr(digest.state, "_write", stopped)
    assert expressed(site.build(site.root / "site"))  # the site swapped, no state saved
    monkeypatch.undo()
    site.edit(lambda m, b: (m, b + "\nAfter the stop.\n"), old)
    again = site.build(site.root / "site")
    assert not again.express and len(again.rendered) == sum(again.pages.values())
    same_as_clean(site, tmp_path, "clean")


def test_the_article_templates_are_those_the_theme_renders_an_article_page_from() -> None:
    """A row holds what the theme's article page shows; the express build knows which
    templates those are (ARTICLE_TEMPLATES), so a site that overrides one is left to
    the usual build."""
    import jinja2
    from jinja2 import meta

    from digest.config import default_theme_path

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(default_theme_path()))
    found: set[str] = set()
    waiting = ["article.html"]
    while waiting:
        name = waiting.pop()
        found.add(name)
        source = environment.loader.get_source(environment, name)[0]  # type: ignore[union-attr]
        waiting += [other for other in meta.find_referenced_templates(environment.parse(source))
                    if other is not None and other not in found]
    assert found == set(digest.express.ARTICLE_TEMPLATES)


def test_a_site_with_its_own_article_template_builds_the_usual_way(
        site: Site, tmp_path: Path) -> None:
    """An article page of its own may show more of the related articles (their
    summaries, say) than a row holds."""
    theme = (Path(__file__).parent.parent / "templates/article.html").read_text()
    own = site.root / "templates/article.html"
    own.parent.mkdir()
    own.write_text(theme.replace("{{ other.article.title }}",
                                 "{{ other.article.title }} ({{ other.article.summary }})"))
    site.build(site.root / "site")
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nWith a template of its own.\n"), old)
    result = site.build(site.root / "site")
    assert not result.express and "templates" in digest.express.declined
    same_as_clean(site, tmp_path, "clean")


def test_a_row_follows_what_its_page_shows(site: Site, tmp_path: Path) -> None:
    """A neighbour's new headline re-renders the page the usual way, and with it its
    row: the next body edit shows the new headline."""
    newer = site.root / "content/articles/2019/no-summary.md"
    site.edit(lambda m, b: ({**m, "title": "Baidu, a newer headline"}, b), newer)
    assert "2019/03/old-news/index.html" in site.build(site.root / "site").rendered
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nAfter the neighbour's headline.\n"), old)
    result = site.build(site.root / "site")
    assert expressed(result), digest.express.declined
    assert "Baidu, a newer headline" in (site.root / "site" / result.rendered[0]).read_text()
    same_as_clean(site, tmp_path, "clean")


def test_an_express_build_that_writes_the_records_afresh_keeps_every_record(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It does not read the parsed files; when its journal is due to be written afresh
    (state.JOURNAL_SLACK), it reads them then, and the next build finds them all."""
    monkeypatch.setattr(digest.state, "JOURNAL_SLACK", 0.0)
    journal = next((site.root / ".digest-cache/build").iterdir()) / digest.state.RECORDS
    before = journal.stat().st_size
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nWritten afresh.\n"), old)
    assert expressed(site.build(site.root / "site")), digest.express.declined
    assert journal.stat().st_size < before + 200, "written afresh, not appended to"
    monkeypatch.undo()
    site.edit(lambda m, b: ({**m, "title": "Old news, and a journal written afresh"}, b), old)
    after = site.build(site.root / "site")
    assert not after.express and len(after.rendered) < sum(after.pages.values())
    same_as_clean(site, tmp_path, "clean")


def test_the_body_an_express_build_replaced_leaves_the_store_with_the_next_build(
        site: Site) -> None:
    """An express build does not know which other articles share a body, so it drops
    none; the next usual build drops the replaced one (state.State.unused)."""
    import sqlite3

    from digest.cache import FILE_NAME, cache_key

    def stored(body: str) -> bool:
        with sqlite3.connect(site.root / ".digest-cache" / FILE_NAME) as db:
            return db.execute("SELECT 1 FROM markdown WHERE key = ?",
                              (cache_key(body),)).fetchone() is not None

    old = site.root / "content/articles/2019/old-news.md"
    before = site.read(old)[1]
    site.edit(lambda m, b: (m, b + "\nReplacing the body.\n"), old)
    assert expressed(site.build(site.root / "site")), digest.express.declined
    assert stored(before) and stored(site.read(old)[1])
    site.edit(lambda m, b: ({**m, "title": "Old news, retitled"}, b), old)
    assert not site.build(site.root / "site").express
    assert not stored(before) and stored(site.read(old)[1])


def test_a_damaged_row_is_left_to_the_usual_build(site: Site, tmp_path: Path) -> None:
    import sqlite3

    from digest.search.store import FILE

    database = next((site.root / ".digest-cache/build").iterdir()) / FILE
    with sqlite3.connect(database) as db:
        db.execute("UPDATE pages SET value = ? WHERE key = ?",
                   (b"\xffnot a row", "content/articles/2019/old-news.md"))
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nAfter the damage.\n"), old)
    result = site.build(site.root / "site")
    assert not result.express and "no row" in digest.express.declined
    same_as_clean(site, tmp_path, "clean")


def test_a_link_among_the_articles_is_left_to_the_usual_build(
        site: Site, tmp_path: Path) -> None:
    """A link to a file outside the project is never read (issue 7): the usual build
    refuses it, and an express build does not look at content/ with a link in it."""
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: Outside\ndate: 2019-03-06\n---\nSecret.\n")
    (site.root / "content/articles/2019/linked.md").symlink_to(outside)
    site.build(site.root / "site")
    outside.write_text("---\ntitle: Outside\ndate: 2019-03-06\n---\nMore secret.\n")
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nBeside a link.\n"), old)
    result = site.build(site.root / "site")
    assert not result.express and "more than files" in digest.express.declined
    assert not any("secret" in path.read_text(errors="ignore").lower()
                   for path in (site.root / "site").rglob("*.html"))
    same_as_clean(site, tmp_path, "clean")


def test_a_link_left_in_a_page_s_place_is_left_to_the_usual_build(
        site: Site, tmp_path: Path) -> None:
    """The twin takes the pages it differs in from the site (output.TwinUpdate): a link
    left in such a page's place is not one, and the usual build makes the page again."""
    other = site.root / "content/articles/2019/other-news.md"
    site.write(other, {"title": "Other old news", "slug": "other-news",
                       "date": "2019-03-04 09:00", "companies": ["Baidu"]}, "Other.\n")
    site.build(site.root / "site")
    old = site.root / "content/articles/2019/old-news.md"
    site.edit(lambda m, b: (m, b + "\nFirst.\n"), old)
    first = site.build(site.root / "site")
    assert expressed(first), digest.express.declined
    page = site.root / "site" / first.rendered[0]  # (the twin differs in it now)
    page.unlink()
    page.symlink_to(tmp_path / "nowhere.html")
    site.edit(lambda m, b: (m, b + "\nSecond.\n"), other)
    again = site.build(site.root / "site")
    assert not again.express and "twin" in digest.express.declined
    assert page.is_file() and not page.is_symlink()
    same_as_clean(site, tmp_path, "clean")
