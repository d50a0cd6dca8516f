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
