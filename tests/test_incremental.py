"""Incremental builds equal clean builds (issue 8): random sequences of edits, and after
each one the site rebuilt in place (with its build state) is compared file by file with
a clean build of the same inputs into another folder, without any cache.

`DIGEST_INCREMENTAL_STEPS` sets the length of each sequence (CI: a short run; `make
bench` runs a long one)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

import digest.express
from digest.build import BuildResult, build, prepare_twin
from digest.config import default_theme_path, load_config
from digest.content import (
    IGNORED,
    KINDS,
    markdown_files,
    scanned_files,
    scanned_markdown,
    shown_prefix,
    walk_files,
)
from digest.model import Selection
from digest.output import read_marker, site_marker
from digest.state import KeptState, load_stamp, scan_build, scan_inputs
from tests.conftest import state_written
from tests.test_safety import snapshot

STEPS = int(os.environ.get("DIGEST_INCREMENTAL_STEPS", "14"))
NOW = datetime(2024, 12, 31, tzinfo=UTC)


class Site:
    """An example site being edited, with its incremental and clean builds."""

    def __init__(self, root: Path, rng: random.Random, kept: KeptState | None = None) -> None:
        self.root = root
        self.rng = rng
        self.now = NOW
        self.kept = kept  # serve's way: the state (and hashes of shown values) in memory

    def articles(self) -> list[Path]:
        return sorted((self.root / "content/articles").rglob("*.md"))

    def pick(self) -> Path:
        return self.rng.choice(self.articles())

    def read(self, path: Path) -> tuple[dict[str, object], str]:
        _, matter, body = path.read_text(encoding="utf-8").split("---\n", 2)
        return yaml.safe_load(matter), body

    def write(self, path: Path, matter: dict[str, object], body: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(matter, allow_unicode=True, sort_keys=False)
        path.write_text(f"---\n{text}---\n{body}", encoding="utf-8")

    def edit(self, change: Callable[[dict[str, object], str], tuple[dict[str, object], str]],
             path: Path | None = None) -> None:
        path = path or self.pick()
        self.write(path, *change(*self.read(path)))

    def build(self, output: Path, **settings: object) -> BuildResult:
        config = load_config(self.root, {"output_dir": str(output), **settings})
        kept = self.kept if output.name == "site" else None
        if kept is not None:
            prepare_twin(config.output_path, kept)  # what serve does while waiting for a save
        return build(config, selection=Selection(self.now), kept=kept)


def edit_body(site: Site) -> str:
    site.edit(lambda m, b: (m, b + f"\nOne more sentence, number {site.rng.random()}.\n"))
    return "body"


def edit_title(site: Site) -> str:
    site.edit(lambda m, b: ({**m, "title": f"{m['title']} (revised)"}, b))
    return "title"


def edit_summary(site: Site) -> str:
    site.edit(lambda m, b: ({**m, "summary": f"Summary {site.rng.randint(1, 999)}."}, b))
    return "summary"


def edit_date(site: Site) -> str:
    day = f"2023-{site.rng.randint(1, 12):02d}-{site.rng.randint(1, 28):02d}"
    site.edit(lambda m, b: ({**m, "date": day}, b))
    return "date"


def edit_tags(site: Site) -> str:
    tag = site.rng.choice(["Cloud", "IPO", "Brand New Topic", "price war", "Tencent"])
    site.edit(lambda m, b: ({**m, "tags": [tag]}, b))
    return "tags"


def edit_companies(site: Site) -> str:
    name = site.rng.choice(["Alibaba", "Baidu", "Unlisted Newco", "腾讯"])
    site.edit(lambda m, b: ({**m, "companies": [name]}, b))
    return "companies"


def edit_events(site: Site) -> str:
    event = {"date": "2023-06-01", "company": "Alibaba", "type": "ipo",
             "title": f"Listing step {site.rng.randint(1, 99)}"}
    site.edit(lambda m, b: ({**m, "events": [event]}, b))
    return "events"


def edit_registry(site: Site) -> str:
    path = site.root / "content/companies/baidu.md"
    site.edit(lambda m, b: ({**m, "sector": f"Search {site.rng.randint(1, 99)}"},
                            b + "\nMore profile.\n"), path)
    return "registry"


def edit_topic(site: Site) -> str:
    path = site.root / "content/topics/cloud.md"
    site.edit(lambda m, b: ({**m, "description": f"Cloud, take {site.rng.randint(1, 99)}"},
                            b), path)
    return "topic"


def toggle_draft(site: Site) -> str:
    site.edit(lambda m, b: ({**m, "draft": not m.get("draft", False)}, b))
    return "draft"


def add_article(site: Site) -> str:
    number = site.rng.randint(1, 10_000)
    site.write(site.root / f"content/articles/2024/added-{number}.md",
               {"title": f"Added report {number}", "date": "2024-06-0" + str(number % 9 + 1),
                "tags": ["Cloud"], "companies": ["Alibaba"]},
               f"A new report links [back](../2023/{site.pick().name}).\n")
    return "add"


def delete_article(site: Site) -> str:
    if len(site.articles()) > 5:
        site.pick().unlink()
    return "delete"


def move_article(site: Site) -> str:
    path = site.pick()
    target = site.root / "content/articles/moved" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        path.rename(target)
    return "move"


def edit_template(site: Site) -> str:
    path = site.root / "templates/_macros.html"
    path.parent.mkdir(exist_ok=True)
    source = (Path(__file__).parent.parent / "templates/_macros.html").read_text()
    path.write_text(source.replace('class="chips"', f'class="chips v{site.rng.randint(1, 9)}"'))
    return "template"


def edit_setting(site: Site) -> str:
    path = site.root / "pyproject.toml"
    text = path.read_text()
    count = site.rng.choice([2, 3, 4])
    text = "\n".join(line for line in text.splitlines() if not line.startswith("per_page"))
    path.write_text(text.replace("[tool.digest]", f"[tool.digest]\nper_page = {count}", 1))
    return "setting"


def edit_static(site: Site) -> str:
    path = site.root / "content/static/notes.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"notes {site.rng.random()}\n")
    return "static"


def schedule_and_come_due(site: Site) -> str:
    """A scheduled article is held back, then published when "now" passes its date."""
    if not any(path.name == "scheduled.md" for path in site.articles()):  # (or moved)
        site.write(site.root / "content/articles/2025/scheduled.md",
                   {"title": "Scheduled report", "date": "2025-01-02 09:00",
                    "companies": ["Baidu"]}, "Published on its day.\n")
    site.now = datetime(2025, 1, 3, tzinfo=UTC) if site.now == NOW else NOW
    return "scheduled"


def edit_edition_note(site: Site) -> str:
    """An editor's note written, rewritten or removed (issue 11)."""
    period = re.search(r'^editions = "(\w*)"', (site.root / "pyproject.toml").read_text(),
                       re.MULTILINE)
    keys = NOTE_KEYS[period[1] if period else "weekly"]
    path = site.root / f"content/editions/{site.rng.choice(keys)}.md"
    if path.exists() and site.rng.random() < 0.3:
        path.unlink()
        return "note"
    number = site.rng.randint(1, 999)
    site.write(path, {"title": f"Week note {number}", "summary": f"In short, {number}."},
               f"Note {number} on [a report](../articles/2023/{site.pick().name}).\n")
    return "note"


NOTE_KEYS = {"weekly": ["2023-W20", "2024-W35", "2023-W11", "2023-W21"], "": ["2023-W20"],
             "daily": ["2023-05-18", "2024-08-26"], "monthly": ["2023-05", "2024-08", "2023-12"]}


def edit_edition_setting(site: Site) -> str:
    """Another period, grouping or first day of the week; the editor renames the notes
    (a note named after a week is an error once editions are monthly)."""
    path = site.root / "pyproject.toml"
    keys = ("editions =", "edition_group =", "week_start =")
    text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith(keys))
    line = site.rng.choice(['edition_group = "topic"', 'editions = "monthly"', 'editions = ""',
                            'editions = "daily"', 'week_start = "sunday"'])
    path.write_text(text.replace("[tool.digest]", f"[tool.digest]\n{line}", 1))
    for note in (site.root / "content/editions").glob("*.md"):
        note.unlink()
    return "edition setting"


def running_period_ends(site: Site) -> str:
    """An article in the running week; "now" then moves past the week's end (its edition
    stops being "in progress" and joins the feeds), or back."""
    if not any(path.name == "year-end.md" for path in site.articles()):  # (or moved)
        site.write(site.root / "content/articles/2024/year-end.md",
                   {"title": "Year-end report", "date": "2024-12-30 10:00",
                    "companies": ["Alibaba"]}, "The year closes.\n")
    site.now = NOW + timedelta(days=7) if site.now == NOW else NOW
    return "period ends"


EDITS = [edit_body, edit_title, edit_summary, edit_date, edit_tags, edit_companies, edit_events,
         edit_registry, edit_topic, toggle_draft, add_article, delete_article, move_article,
         edit_template, edit_setting, edit_static, schedule_and_come_due, edit_edition_note,
         edit_edition_setting, running_period_ends]


@pytest.mark.parametrize(("seed", "in_memory"), [(1, False), (2, False), (3, True)])
def test_incremental_build_equals_clean_build(example_site: Path, tmp_path: Path,
                                              seed: int, in_memory: bool) -> None:
    site = Site(example_site, random.Random(seed), KeptState() if in_memory else None)
    if in_memory:  # as serve starts: an empty folder, so the twin is made while idle
        shutil.rmtree(example_site / "site", ignore_errors=True)
    # Files written as edits write them, and a site feed of the five newest: a body
    # edit of another article is built without the model (express.py), when not in
    # memory (serve keeps its model instead).
    for path in site.articles():
        site.write(path, *site.read(path))
    settings = example_site / "pyproject.toml"
    settings.write_text(settings.read_text().replace("[tool.digest]",
                                                     "[tool.digest]\nfeed_entries = 5", 1))
    first = site.build(example_site / "site")
    assert len(first.rendered) == sum(first.pages.values())
    # every kind of edit at least once, then random ones
    sequence = [*EDITS, *(site.rng.choice(EDITS) for _ in range(max(0, STEPS - len(EDITS))))]
    if len(EDITS) > STEPS:
        sequence = site.rng.sample(EDITS, STEPS)
    rendered = []
    for number, edit in enumerate(sequence):
        what = edit(site)
        incremental = site.build(example_site / "site")
        clean_output = tmp_path / f"clean-{number}"
        site.build(clean_output, cache_dir="")
        built, expected = snapshot(example_site / "site"), snapshot(clean_output)
        assert sorted(built) == sorted(expected), f"step {number} ({what}): file sets differ"
        different = [name for name in expected if built[name] != expected[name]]
        assert not different, f"step {number} ({what}): stale files {different[:5]}"
        rendered.append((what, len(incremental.rendered), incremental.express))
        shutil.rmtree(clean_output)
    # and the point of it all: a sentence added to one body re-renders its page and the
    # feeds that carry it, nothing else (with the theme's own templates again: a site
    # with article templates of its own does not build body edits without the model)
    shutil.rmtree(example_site / "templates", ignore_errors=True)
    site.build(example_site / "site")
    edit_body_of = site.build(example_site / "site")
    published = site.build(tmp_path / "published", cache_dir="").site  # (the last edit
    assert published is not None  # may have changed nothing: a no-op has no model)
    path = example_site / published.articles[-1].article.path
    site.edit(lambda m, b: (m, b + "\nA closing sentence.\n"), path)
    closing = site.build(example_site / "site")
    after = closing.rendered
    pages = [name for name in after if not name.endswith(("feed.xml", "rss.xml", "feed.json"))]
    assert len(pages) == 1 and pages[0].endswith("/index.html"), (pages, rendered)
    assert edit_body_of.rendered == [], "nothing changed in between"
    assert closing.express != in_memory, ("the oldest article's body: an express build",
                                          digest.express.declined)
    site.build(tmp_path / "clean-closing", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean-closing")


def test_nothing_changed_is_a_no_op(example_site: Path) -> None:
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    again = site.build(example_site / "site")
    assert again.unchanged and again.site is None
    site.now = datetime(2030, 1, 1, tzinfo=UTC)  # same published set: still nothing to do
    assert site.build(example_site / "site").unchanged
    edit_body(site)
    changed = site.build(example_site / "site")
    assert not changed.unchanged and changed.rendered


def test_pages_deleted_from_the_site_by_hand_are_made_again_by_the_next_build(
        example_site: Path, tmp_path: Path) -> None:
    """The next build that has anything to do puts back every page it made last time
    that is gone: from the twin, which holds the pages as they were, or, without a twin
    (or for a page the twin differs in), made again (build.existing_outputs); a link
    left in a page's place goes with the old site."""
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    edit_body(site)
    site.build(example_site / "site")  # (from here on, the twin is updated in place)
    output = example_site / "site"
    state = next((example_site / ".digest-cache/build").iterdir())
    for twin in (True, False):
        if not twin:  # (the build then stages a whole site, linking what it keeps)
            shutil.rmtree(state / "twin")
        gone = ["topics/cloud/index.html", "archive/index.html", "404.html"]
        for relative in gone:
            (output / relative).unlink()
        (output / "topics/index.html").unlink()
        (output / "topics/index.html").symlink_to(tmp_path / "nowhere.html")
        edit_body(site)
        result = site.build(output)
        assert twin or set(gone) <= set(result.rendered)
        assert all((output / relative).is_file() for relative in gone)
        site.build(tmp_path / f"clean-{twin}", cache_dir="")
        assert snapshot(output) == snapshot(tmp_path / f"clean-{twin}")


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(example_site: Path) -> None:
    """A save within one timestamp tick of the last build, same size ("racy git")."""
    site = Site(example_site, random.Random(0))
    path = site.articles()[0]
    os.utime(path)  # saved just now, then built, then saved again within the same tick:
    site.build(example_site / "site")
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("a", "b", 1) if "a" in text else text.upper(),
                    encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    result = site.build(example_site / "site")
    assert not result.unchanged and result.rendered


def test_new_mtimes_on_the_same_bytes_are_settled_by_content(example_site: Path) -> None:
    """Stat first, read only what stat cannot settle: a fresh checkout (every file a new
    mtime, the same bytes) is no change; its stamp then takes the new stats, so the next
    check is stat alone. Changed bytes of the same size are seen, and a file the build
    keeps no hash of (an image beside an article) goes by its stat."""
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    config = load_config(example_site, {"output_dir": str(example_site / "site")})
    earlier = time.time_ns() - 60 * 10**9  # older than any scan by far: not "racy"
    inputs = [example_site / "pyproject.toml", *(example_site / "content").rglob("*.md")]
    for path in inputs:
        os.utime(path, ns=(earlier, earlier))
    assert site.build(example_site / "site").unchanged
    stamp = load_stamp(config)
    assert stamp is not None and stamp.inputs == scan_inputs(config, default_theme_path())
    # the same size, other bytes, an old mtime
    path = site.articles()[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("a", "b", 1), encoding="utf-8")
    os.utime(path, ns=(earlier, earlier + 1))
    changed = site.build(example_site / "site")
    assert not changed.unchanged and changed.rendered
    image = path.parent / "chart.png"
    image.write_bytes(b"\x89PNG not really")
    os.utime(image, ns=(earlier, earlier))  # (not "racy" either: no hash of it is kept)
    site.build(example_site / "site")
    os.utime(image, ns=(earlier, earlier + 1))
    assert not site.build(example_site / "site").unchanged


def test_a_site_restored_with_its_cache_is_built_incrementally(example_site: Path) -> None:
    """What the Pages workflow does: a fresh checkout (new mtimes everywhere), and the
    site and cache folder restored from the last run (new inodes)."""
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    edit_body(site)
    site.build(example_site / "site")  # now there is a twin, which the cache leaves out
    restored = example_site / "restored"
    shutil.copytree(example_site / "site", restored)
    shutil.rmtree(example_site / "site")
    restored.rename(example_site / "site")
    shutil.rmtree(example_site / ".digest-cache/build" / next(
        p.name for p in (example_site / ".digest-cache/build").iterdir()) / "twin")
    for path in (example_site / "content").rglob("*"):
        os.utime(path)
    edit_body(site)
    result = site.build(example_site / "site")
    pages = [p for p in result.rendered if not p.endswith(("feed.xml", "rss.xml", "feed.json"))]
    assert len(pages) == 1, pages


def test_serve_state_lives_in_memory_and_borrows_the_parsed_files(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.content
    from digest.frontmatter import parse_front_matter as real
    from digest.state import KeptState

    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")  # the project's own build: its state is on disk
    parsed: list[str] = []

    def counting(text: str, path: str, *args: object, **kwargs: object) -> object:
        parsed.append(path)
        return real(text, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest.content, "parse_front_matter", counting)
    kept = KeptState(seed=load_config(example_site))
    scratch = load_config(example_site, {"output_dir": str(tmp_path / "served"),
                                         "base_url": "http://127.0.0.1:8000/"})
    first = build(scratch, selection=Selection(NOW), kept=kept)
    assert parsed == [] and len(first.rendered) == sum(first.pages.values())
    edit_body(site)
    second = build(scratch, selection=Selection(NOW), kept=kept)
    assert len(parsed) == 1 and 0 < len(second.rendered) < len(first.rendered) / 2
    state_files = list((example_site / ".digest-cache/build").glob("*"))
    assert len(state_files) == 1, "nothing of the served builds is written to the cache"


def two_of_a_day(site: Site) -> Path:
    """Two Alibaba articles of one day, ordered by headline in its timeline; their
    folder. With a slug of their own, a new headline keeps their URLs."""
    folder = site.root / "content/articles/2023"
    for name, title in (("first-of-the-day.md", "Alibaba news M"),
                        ("second-of-the-day.md", "Alibaba news N")):
        site.write(folder / name, {"title": title, "slug": name[:-3], "date": "2023-06-02",
                                   "companies": ["Alibaba"], "tags": ["cloud"]},
                   "A sentence.\n")
    return folder


def test_serve_patches_its_model_for_edits_that_keep_its_shape(example_site: Path,
                                                              tmp_path: Path) -> None:
    """An edited headline, summary or sentence goes into serve's kept model in place,
    and so does a move to another topic, existing or new (refile.py); a tag naming a
    company makes a new model. Either way the site equals a clean build, down to a
    company timeline that orders two articles of one day by headline."""
    site = Site(example_site, random.Random(0), KeptState())
    folder = two_of_a_day(site)
    first = site.build(example_site / "site")

    def same_as_clean(name: str) -> None:
        clean = site.build(tmp_path / name, cache_dir="")
        built, expected = snapshot(example_site / "site"), snapshot(tmp_path / name)
        assert clean.site is not None and built == expected

    site.edit(lambda m, b: ({**m, "title": "Alibaba news Z"}, b), folder / "first-of-the-day.md")
    retitled = site.build(example_site / "site")
    assert retitled.site is first.site, "the kept model was patched"
    assert "companies/alibaba/index.html" in retitled.rendered
    same_as_clean("clean-title")
    site.edit(lambda m, b: (m, b + "Two more sentences. And a third.\n"),
              folder / "second-of-the-day.md")
    assert site.build(example_site / "site").site is first.site
    same_as_clean("clean-body")
    site.edit(lambda m, b: ({**m, "tags": ["IPO"]}, b), folder / "second-of-the-day.md")
    retagged = site.build(example_site / "site")
    assert retagged.site is first.site, "moved from cloud to IPO in the kept model"
    assert {"topics/ipo/index.html", "topics/cloud/index.html",
            "topics/index.html"} <= set(retagged.rendered)
    same_as_clean("clean-tags")
    site.edit(lambda m, b: ({**m, "tags": ["IPO", "Quantum"]}, b),
              folder / "second-of-the-day.md")
    new_topic = site.build(example_site / "site")
    assert new_topic.site is first.site, "a topic made in the kept model"
    assert "topics/quantum/index.html" in new_topic.rendered
    same_as_clean("clean-new-topic")
    site.edit(lambda m, b: ({**m, "tags": ["IPO", "Tencent"]}, b),
              folder / "second-of-the-day.md")
    company_tag = site.build(example_site / "site")
    assert company_tag.site is not first.site, "a tag naming a company: a new model"
    assert not (example_site / "site/topics/quantum").exists()
    same_as_clean("clean-company-tag")


def test_a_corrupt_or_foreign_state_is_ignored_with_a_note(example_site: Path,
                                                            tmp_path: Path) -> None:
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    folder = next((example_site / ".digest-cache/build").iterdir())
    (folder / "state").write_bytes(b"not a pickle at all")
    (folder / "stamp").write_bytes(b"\x80\x05garbage")
    edit_body(site)
    result = site.build(example_site / "site")
    assert any("ignored the build state" in note for note in result.notes), result.notes
    assert len(result.rendered) == sum(result.pages.values()), "a clean build"
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_a_cli_edit_that_keeps_the_shape_restores_the_saved_model(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI build saves its model (snapshot.py); the next one, for edits that keep
    every article's shape, restores and patches it instead of making the model again,
    and after a headline that reorders a timeline saves it anew. A lost or damaged
    snapshot only means making the model afresh."""
    import digest.build
    from digest.model import build_site as real

    made: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        made.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest.build, "build_site", counting)
    site = Site(example_site, random.Random(0))
    folder = two_of_a_day(site)
    site.build(example_site / "site")
    assert made == [1]
    snapshot_file = next((example_site / ".digest-cache/build").iterdir()) / "snapshot"

    def same_as_clean(name: str) -> None:
        site.build(tmp_path / name, cache_dir="")
        made.pop()  # the clean build's model
        assert snapshot(example_site / "site") == snapshot(tmp_path / name)

    # (files the helper wrote: editing them keeps every key where it was)
    site.edit(lambda m, b: (m, b + "\nAnother paragraph.\n"), folder / "first-of-the-day.md")
    body = site.build(example_site / "site")
    assert made == [1] and 0 < len(body.rendered) < 12, body.rendered
    same_as_clean("clean-body")
    saved = snapshot_file.stat().st_mtime_ns
    site.edit(lambda m, b: ({**m, "title": "Alibaba news Z"}, b), folder / "first-of-the-day.md")
    site.build(example_site / "site")
    state_written(example_site)  # (the snapshot child: the build does not wait for it)
    assert made == [1] and snapshot_file.stat().st_mtime_ns != saved, "saved anew"
    same_as_clean("clean-title")
    site.edit(lambda m, b: (m, b + "More.\n"), folder / "second-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1]
    same_as_clean("clean-after-title")
    snapshot_file.write_bytes(b"damaged")
    site.edit(lambda m, b: (m, b + "Again.\n"), folder / "first-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1, 1], "made afresh"
    same_as_clean("clean-damaged")
    saved = snapshot_file.stat().st_mtime_ns
    site.edit(lambda m, b: ({**m, "tags": ["IPO"]}, b), folder / "second-of-the-day.md")
    moved = site.build(example_site / "site")
    assert made == [1, 1], "moved to another topic in the restored model"
    assert "topics/ipo/index.html" in moved.rendered
    state_written(example_site)  # (the snapshot child: the build does not wait for it)
    assert snapshot_file.stat().st_mtime_ns != saved, "saved anew"
    same_as_clean("clean-tags")
    site.edit(lambda m, b: (m, b + "Once more.\n"), folder / "second-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1, 1], "the model saved after the move is taken up"
    same_as_clean("clean-after-move")
    site.edit(lambda m, b: ({**m, "tags": ["IPO", "Quantum"]}, b),
              folder / "second-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1, 1], "a topic made in the restored model"
    same_as_clean("clean-new-topic")
    site.edit(lambda m, b: ({**m, "tags": ["IPO", "Tencent"]}, b),
              folder / "second-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1, 1, 1], "a tag naming a company: made afresh"
    same_as_clean("clean-company-tag")


def test_the_snapshot_of_a_moved_article_is_published_only_by_a_build_that_succeeds(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model changed in shape by an edit (an article moved to another topic) is
    snapshotted by a child forked once the build has saved its state
    (resume.SnapshotWriter). A build that fails forks none and leaves the saved
    snapshot as it was, with nothing half-written beside it; the next build publishes
    its own, which the build after it takes up."""
    import digest.build
    import digest.resume
    from digest.model import build_site as real_build_site
    from digest.resume import SnapshotWriter, fork_snapshot

    site = Site(example_site, random.Random(0))
    folder = two_of_a_day(site)
    site.build(example_site / "site")
    state = next((example_site / ".digest-cache/build").iterdir())
    saved = (state / "snapshot").read_bytes()
    writers: list[SnapshotWriter] = []

    def tracked(*args: Any, **kwargs: Any) -> SnapshotWriter | None:
        writer = fork_snapshot(*args, **kwargs)
        if writer is not None:
            writers.append(writer)
        return writer

    def failing(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    def not_made(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was made afresh")

    monkeypatch.setattr(digest.resume, "fork_snapshot", tracked)
    monkeypatch.setattr(digest.build, "site_marker", failing)  # (after the pages are made)
    site.edit(lambda m, b: ({**m, "tags": ["IPO"]}, b), folder / "second-of-the-day.md")
    with pytest.raises(OSError, match="No space"):
        site.build(example_site / "site")
    assert writers == [], "no child for a build that failed"
    assert (state / "snapshot").read_bytes() == saved
    assert not [p.name for p in state.iterdir() if p.name.startswith(".snapshot")]
    monkeypatch.setattr(digest.build, "site_marker", site_marker)
    moved = site.build(example_site / "site")
    assert len(writers) == 1 and "topics/ipo/index.html" in moved.rendered
    writers[-1].wait()  # (the build does not wait for it: the next build would)
    assert (state / "snapshot").read_bytes() != saved
    assert not [p.name for p in state.iterdir() if p.name.startswith(".snapshot")]
    monkeypatch.setattr(digest.build, "build_site", not_made)
    site.edit(lambda m, b: (m, b + "More.\n"), folder / "second-of-the-day.md")
    site.build(example_site / "site")
    # where no child can be forked, the build saves the snapshot itself
    saved = (state / "snapshot").read_bytes()

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fork", no_fork)
        site.edit(lambda m, b: ({**m, "tags": ["Cloud"]}, b), folder / "second-of-the-day.md")
        site.build(example_site / "site")
    assert len(writers) == 1 and (state / "snapshot").read_bytes() != saved
    site.edit(lambda m, b: (m, b + "Again.\n"), folder / "second-of-the-day.md")
    site.build(example_site / "site")
    monkeypatch.setattr(digest.build, "build_site", real_build_site)
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_a_cli_build_leaves_its_state_to_a_child_the_next_build_waits_for(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI build returns once its site is swapped in; a forked child writes the state
    (resume.start_state_writer): all of it after a build made from nothing, the state
    file and stamp after others (the express build of a body edit, a tag edit).
    Whatever reads or replaces the state waits for the child first, and a child that
    died (a pending file left untouched) is not waited for."""
    import digest.build
    import digest.express
    import digest.state

    real_save, real_write = digest.state.save_state, digest.state._write

    def slow_save(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.5)  # (in the child: the build has returned by then)
        real_save(*args, **kwargs)

    def slow_write(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.25)  # (the same)
        real_write(*args, **kwargs)

    for module in (digest.build, digest.express):
        monkeypatch.setattr(module, "exits_after_build", lambda: True)
    monkeypatch.setattr(digest.build, "save_state", slow_save)
    settings = example_site / "pyproject.toml"  # (feeds that carry the newest bodies only:
    settings.write_text(settings.read_text().replace(  # an old one's edit is express)
        "[tool.digest]\n", "[tool.digest]\nfeed_entries = 3\n", 1))
    config = load_config(example_site)
    build(config)
    folder = next((example_site / ".digest-cache/build").iterdir())
    pending = folder / digest.state.PENDING_STATE
    assert pending.exists() and not (folder / "stamp").exists(), "saved by the child"
    stamp = load_stamp(config)  # waits for the child
    assert stamp is not None and not pending.exists()
    again = build(config)
    assert again.rendered == [], "the next build found the state and had nothing to do"
    monkeypatch.setattr(digest.build, "save_state", real_save)
    monkeypatch.setattr(digest.state, "_write", slow_write)
    site = Site(example_site, random.Random(3))
    for path in site.articles():  # written as edits write them: body edits keep the rest
        site.write(path, *site.read(path))
    old = example_site / "content/articles/2022/tencent-first-quarterly-revenue-decline.md"
    kinds = []
    for number in range(4):  # a tag edit, a body edit (express), and again
        matter, body = site.read(old)
        site.write(old, {**matter, "tags": [f"Tag {number}"]} if number % 2 == 0 else matter,
                   body if number % 2 == 0 else body + f"\nSentence {number}.\n")
        made = build(config)
        assert made.rendered and pending.exists(), number
        kinds.append(made.express)
        stamp = load_stamp(config)
        assert stamp is not None and stamp.output == read_marker(example_site / "site")
        assert not pending.exists()
    assert any(kinds) and not all(kinds), (kinds, digest.express.declined)
    for module in (digest.build, digest.express):
        monkeypatch.setattr(module, "exits_after_build", lambda: False)
    monkeypatch.setattr(digest.state, "_write", real_write)
    (folder / "stamp").unlink()
    pending.touch()
    long_ago = time.time() - 2 * digest.state.STALLED
    os.utime(pending, (long_ago, long_ago))
    started = time.perf_counter()
    assert load_stamp(config) is None and not pending.exists()
    assert time.perf_counter() - started < digest.state.STALLED / 2, "a dead writer"
    # a writer alive but stuck (touching its pending file, never done) is waited for
    # WAIT_LIMIT seconds at most
    monkeypatch.setattr(digest.state, "WAIT_LIMIT", 0.3)
    pending.touch()
    stuck = threading.Event()

    def keep_touching() -> None:
        while not stuck.wait(0.05):
            with contextlib.suppress(OSError):
                os.utime(pending)
    toucher = threading.Thread(target=keep_touching)
    toucher.start()
    started = time.perf_counter()
    try:
        assert load_stamp(config) is None
    finally:
        stuck.set()
        toucher.join()
    assert 0.3 <= time.perf_counter() - started < digest.state.STALLED / 2
    build(config)
    build(load_config(example_site, {"output_dir": str(tmp_path / "clean")}))
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_a_scan_made_by_a_forked_child_is_the_scan_made_here(
        example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI has a child scan the inputs while it imports (prescan.ScanChild): its
    scan is the one this process makes, and a child that fails leaves the scan to it."""
    from dataclasses import replace

    import digest.state
    from digest.prescan import ScanChild
    from digest.state import scan_build

    config = load_config(example_site)
    theme = default_theme_path()
    (example_site / "content/articles/new-today.md").write_text(
        "---\ntitle: New today\ndate: 2026-11-30\n---\nJust saved.\n")  # (racy: hashed)
    here = scan_build(config, theme, True, False)
    child = ScanChild.start(config, theme, True, False)
    assert child is not None
    scanned = child.scan()
    assert scanned.racy and scanned.inputs and scanned.lists_content
    assert scanned == replace(here, scanned_ns=scanned.scanned_ns)
    assert scanned.scanned_ns >= here.scanned_ns

    parent = os.getpid()
    made_here: list[int] = []

    def only_here(*args: Any) -> Any:
        if os.getpid() != parent:
            raise OSError("the child fails")
        made_here.append(1)
        return scan_build(*args)

    monkeypatch.setattr(digest.state, "scan_build", only_here)
    child = ScanChild.start(config, theme, True, False)
    assert child is not None
    again = child.scan()
    assert made_here == [1], "scanned here when the child failed"
    assert again == replace(here, scanned_ns=again.scanned_ns)


def test_an_edits_pages_are_rendered_beside_the_rest_of_the_build(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit's few pages are rendered by a forked child while the build keeps the
    other files and updates the search index (render.RenderingBeside); a child that
    fails leaves them to the build. Either way the site is a clean build's."""
    import digest.render
    from digest.render import RenderingBeside

    started: list[RenderingBeside] = []
    real_start = RenderingBeside.start.__func__  # type: ignore[attr-defined]

    def tracked(cls: type[RenderingBeside], *args: Any) -> RenderingBeside | None:
        beside: RenderingBeside | None = real_start(cls, *args)
        if beside is not None:
            started.append(beside)
        return beside

    monkeypatch.setattr(RenderingBeside, "start", classmethod(tracked))
    site = Site(example_site, random.Random(3))
    site.build(example_site / "site")
    assert started == [], "a first build renders every page with workers or here"
    edit_title(site)
    site.build(example_site / "site")
    assert len(started) == 1
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")

    parent = os.getpid()
    real_render_one = digest.render._render_one
    here: list[int] = []

    def failing_in_the_child(index: int) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        here.append(index)
        return real_render_one(index)

    monkeypatch.setattr(digest.render, "_render_one", failing_in_the_child)
    edit_title(site)
    result = site.build(example_site / "site")
    assert len(started) == 2 and sorted(here) == list(range(len(result.rendered)))
    shutil.rmtree(tmp_path / "clean")
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_a_build_leaves_its_model_to_an_exit_that_does_not_free_it(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`digest build` ends with os._exit (cli.run): its build leaves the state, model
    and plan to it (collector.spare) instead of freeing them object by object. Any
    other caller's build frees them, and so does serve's (a state kept in memory)
    even in such a process: it builds again and again."""
    import gc
    import weakref

    import digest.collector
    from digest.state import KeptState

    def model_left(kept: KeptState | None = None) -> bool:
        output = tmp_path / f"site-{len(list(tmp_path.iterdir()))}"  # (each a whole build)
        config = load_config(example_site, {"output_dir": str(output), "cache_dir": ""})
        result = build(config, selection=Selection(datetime(2026, 11, 30, tzinfo=UTC)),
                       kept=kept)
        assert result.site is not None
        model = weakref.ref(result.site)
        del result
        gc.collect()
        return model() is not None

    assert not model_left(), "a build in a process that goes on frees its model"
    monkeypatch.setattr(digest.collector, "_SPARED", [])
    assert model_left(), "left to the exit"
    assert digest.collector._SPARED
    monkeypatch.setattr(digest.collector, "_SPARED", [])
    model_left(KeptState())  # (it keeps its model: what it does not keep is freed)
    assert digest.collector._SPARED == [], "serve's build leaves nothing to the exit"


def test_the_next_build_waits_for_a_snapshot_still_being_written(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build whose forked child is still writing the snapshot does not wait for it
    (resume.SnapshotWriter); the next build does, and restores it."""
    import digest.build
    import digest.resume
    import digest.snapshot
    from digest.model import build_site as real_build_site

    made: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real_build_site(*args, **kwargs)

    real_write = digest.snapshot.write

    def slow(*args: Any, **kwargs: Any) -> None:  # (in the child)
        time.sleep(1.5)
        real_write(*args, **kwargs)

    monkeypatch.setattr(digest.build, "build_site", counting)
    monkeypatch.setattr(digest.resume, "write_snapshot", slow)
    site = Site(example_site, random.Random(0))
    folder = two_of_a_day(site)
    site.build(example_site / "site")
    state = next((example_site / ".digest-cache/build").iterdir())
    site.edit(lambda m, b: ({**m, "tags": ["IPO"]}, b), folder / "second-of-the-day.md")
    site.build(example_site / "site")
    assert list(state.glob(".snapshot.*")), "the build ended before its child"
    site.edit(lambda m, b: (m, b + "More.\n"), folder / "first-of-the-day.md")
    site.build(example_site / "site")
    assert made == [1], "the snapshot was waited for and restored"
    assert not list(state.glob(".snapshot.*"))
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_an_edit_appends_to_the_records_journal_instead_of_writing_it_whole(
        example_site: Path, tmp_path: Path) -> None:
    """The parsed files are kept in a journal that an edit appends to; a tail left by a
    build stopped before saving its state is not read; past a quarter of growth the
    journal is written afresh. Every build still equals a clean one."""
    site = Site(example_site, random.Random(0))
    site.build(example_site / "site")
    path = next((example_site / ".digest-cache/build").iterdir()) / "records"
    base = path.stat()
    sizes = [base.st_size]
    for number in range(12):
        edit_body(site)
        if number == 3:  # as if a build had appended and then been stopped
            with path.open("ab") as file:
                file.write(b"\x80\x05 a tail no state refers to")
        result = site.build(example_site / "site")
        assert not result.notes, result.notes
        assert len(result.rendered) < sum(result.pages.values()) / 2, "incremental"
        sizes.append(path.stat().st_size)
    appended = sorted(after - before for before, after in pairwise(sizes) if after > before)
    assert appended and appended[len(appended) // 2] < base.st_size / 8, (base.st_size, sizes)
    assert max(appended) < base.st_size / 4, (base.st_size, sizes)
    assert min(sizes) < max(sizes) <= base.st_size * 1.25 + max(appended), sizes
    assert any(after < before for before, after in pairwise(sizes)), \
        "written afresh once it grew by a quarter"
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_an_edit_reads_and_writes_only_the_search_rows_it_changes(
        example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search index's working data lives in a database beside the state
    (search/store.py): a body edit reads the rows of the edited document, of its terms
    and of its chunk, never a whole table, and writes them back in one transaction. A
    build stopped between writing the database and its state leaves a database the
    state does not name: the next build makes the index afresh, and is right."""
    import digest.search.store as store
    import digest.state

    opened: list[tuple[str, store.Rows[Any, Any]]] = []
    real_rows = store.SearchStore.rows

    def rows(self: store.SearchStore, table: str, key_type: type) -> store.Rows[Any, Any]:
        opened.append((table, real_rows(self, table, key_type)))
        return opened[-1][1]

    monkeypatch.setattr(store.SearchStore, "rows", rows)
    site = Site(example_site, random.Random(3))
    for path in site.articles():  # written as edits write them: edits keep their shape
        site.write(path, *site.read(path))
    site.build(example_site / "site")
    database = next((example_site / ".digest-cache/build").iterdir()) / store.FILE
    with sqlite3.connect(database) as db:
        totals = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in store.TABLES}
    for _ in range(3):
        edit_body(site)
        opened.clear()
        result = site.build(example_site / "site")
        assert result.rendered
        # (an express build, express.py, may look at the rows first and decline)
        assert {table for table, _ in opened} == {"sources", "postings", "chunks"}
        for table, rows_read in opened:
            assert not rows_read._whole, f"all of {table} read"
            assert rows_read.read <= max(1, totals[table] // 3), \
                (table, rows_read.read, totals)
        assert all(rows_read.read for _, rows_read in opened[-3:])
    real_write = digest.state._write

    def stopped(path: Path, value: object, *pickled: bytes | None) -> None:
        if path.name == "state":
            raise OSError("stopped")
        real_write(path, value, *pickled)

    edit_body(site)
    monkeypatch.setattr(digest.state, "_write", stopped)
    site.build(example_site / "site")  # the database written, the state not
    monkeypatch.setattr(digest.state, "_write", real_write)
    edit_body(site)
    opened.clear()
    assert site.build(example_site / "site").rendered
    assert opened == [], "the database the state does not name was not read"
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_damaged_search_data_is_never_trusted(example_site: Path, tmp_path: Path) -> None:
    """A search database damaged between builds, or unreadable half-way through one,
    costs the build its head start, not a traceback or a wrong index."""
    import digest.search.store as store

    site = Site(example_site, random.Random(5))
    for path in site.articles():  # written as edits write them: edits keep their shape
        site.write(path, *site.read(path))
    site.build(example_site / "site")
    database = next((example_site / ".digest-cache/build").iterdir()) / store.FILE
    with sqlite3.connect(database) as db:  # rows that no longer decode
        db.execute("UPDATE sources SET value = x'00ff'")
        db.execute("UPDATE postings SET value = x'00'")
    edit_body(site)
    assert site.build(example_site / "site").rendered
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")
    data = database.read_bytes()  # a file that is no database at all
    database.write_bytes(data[:100] + bytes(len(data) - 100))
    edit_body(site)
    assert site.build(example_site / "site").rendered
    site.build(tmp_path / "clean-again", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean-again")


def test_bodies_dropped_by_another_process_start_the_build_over(example_site: Path,
                                                                 tmp_path: Path) -> None:
    """`digest serve` and `digest build` share the Markdown store: one may drop bodies
    the other's state refers to. The build then parses everything again, and is right."""
    import sqlite3
    import subprocess
    import sys

    site = Site(example_site, random.Random(7))
    site.build(example_site / "site")
    with sqlite3.connect(example_site / ".digest-cache/markdown.sqlite3") as db:
        db.execute("DELETE FROM markdown")  # what a prune by another process can leave
    db.close()
    edit_template(site)  # every page again: every body is needed
    run = subprocess.run([sys.executable, "-m", "digest", "build", "--root", example_site],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    site.build(tmp_path / "clean", cache_dir="")
    assert snapshot(example_site / "site") == snapshot(tmp_path / "clean")


def test_the_scan_lists_content_as_the_walk_does(example_site: Path) -> None:
    """The build takes content/'s files from the scan that decided a build was needed
    (no second walk), but only where nothing in content/ is a link or other than a
    file or folder: those the walk decides about (it refuses links out of the project,
    FIFOs and devices). Both ways list the same files in the same order."""
    content = example_site / "content"
    for name in ("articles/2020/b.md", "articles/2020/a b.md", "articles/2020-x.md",
                 "articles/_drafts/skip.md", "articles/.hidden/skip.md", "articles/_skip.md",
                 "articles/z/.skip.md", "articles/notes.txt", "topics/deep/er/t.md",
                 "editions/2023-W20.md.bak", "unknown/kind.md", "articles/a/b/c/d.md"):
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_text("---\ntitle: x\n---\n")
    config = load_config(example_site)
    prefix = shown_prefix(config)

    def walked() -> list[tuple[str, str]]:
        return [(kind, shown[len(prefix):]) for kind in KINDS for _, shown in
                markdown_files(content / kind, f"{prefix}{kind}/", example_site, [])]

    for name in ("articles/2020/chart.png", "articles/.git/objects/x", "articles/_raw/y.csv",
                 "static/robots-extra.txt", "static/img/logo.svg", "static/.DS_Store"):
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_bytes(b"x")
    scan = scan_build(config, default_theme_path(), False, False)
    assert scan.lists_content
    listed = scanned_markdown(scan.inputs)
    assert listed == walked() and ("articles", "articles/2020/a b.md") in listed
    assert not any("skip" in inside or "kind.md" in inside for _, inside in listed)
    for folder in ("articles/", "static/"):  # the files published as they are, likewise
        files = scanned_files(scan.inputs, folder)
        assert files == walk_files(content / folder, example_site, IGNORED)
        assert files and not any(name.startswith((".", "_")) for name in files)
        assert scanned_files(scan.inputs, folder, markdown=False) == \
            [name for name in files if not name.endswith(".md")]
    assert "2020/chart.png" in scanned_files(scan.inputs, "articles/")
    (content / "articles/linked.md").symlink_to(content / "articles/2020/b.md")
    assert not scan_build(config, default_theme_path(), False, False).lists_content
    (content / "articles/linked.md").unlink()
    os.mkfifo(content / "topics/pipe.md")
    assert not scan_build(config, default_theme_path(), False, False).lists_content
