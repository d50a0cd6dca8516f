"""The site model and its output plan, saved between CLI builds (issue 8).

What `digest serve` keeps in memory, a CLI build keeps here: when an edit leaves every
article's shape as it was (model.shape), the model is restored from the snapshot and
patched (model.patch_site) instead of made again, and only the output units that show an
edited article are made (plan.OutputPlan) — the model and the listing of outputs were
two fifths of a body edit at 10,000 articles.

The snapshot holds plain values: pages by position, articles by the file they come from
(taken from the build state's records when restored), so it stays true for as long as
the model's shape does, and is written only when the model is made afresh or a headline
a timeline holds changed.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from digest.collector import no_gc_pauses
from digest.config import Config
from digest.editions import build_editions
from digest.entries import Article, EditionNote
from digest.errors import Diagnostic, Diagnostics
from digest.model import (
    ArchiveMonth,
    ArchiveYear,
    ArticlePage,
    CompanyPage,
    HeldBack,
    MonthCount,
    Selection,
    Site,
    TimelineEntry,
    TimelineMonth,
    TopicPage,
    reading_minutes,
)
from digest.plan import OutputPlan, SavedPlan
from digest.state import VERSION, code_fingerprint, wait_while_pending

FILE = "snapshot"


@dataclass(frozen=True)
class Snapshot:
    settings: str  # state.settings_key of the build that made it
    salt: bytes  # state.output_salt: templates and code the plan's fingerprints were made with
    pages: list[tuple[Any, ...]]
    companies: list[tuple[Any, ...]]
    topics: list[tuple[Any, ...]]
    years: list[tuple[Any, ...]]
    held_back: list[tuple[str, str]]
    by_source: dict[str, str]
    notes: list[Diagnostic]  # what making the model reported (warnings)
    plan: SavedPlan
    ids: list[int]  # each page's search document id ([] without search)


def freeze(site: Site, plan: OutputPlan, notes: list[Diagnostic], ids: Mapping[int, int],
           settings: str, salt: bytes) -> Snapshot:
    """`ids`: search document id by page id."""
    at = {id(page): number for number, page in enumerate(site.articles)}
    company_at = {id(company): number for number, company in enumerate(site.companies)}
    topic_at = {id(topic): number for number, topic in enumerate(site.topics)}

    def position(page: ArticlePage | None) -> int:
        return -1 if page is None else at[id(page)]

    pages = [(page.article.path, page.url, page.local_date, page.local_updated,
              page.modified, page.modified_at,
              tuple(company_at[id(c)] for c in page.companies),
              tuple(topic_at[id(t)] for t in page.topics),
              tuple(at[id(p)] for p in page.related),
              position(page.previous), position(page.next))
             for page in site.articles]
    companies = [(c.slug, c.name, c.entry, c.url, tuple(at[id(p)] for p in c.articles),
                  tuple((event, at[id(p)]) for event, p in c.events),
                  tuple((year, tuple((m.month, m.name, tuple(
                      (e.date, e.kind, e.title, at[id(e.article)], e.anchor)
                      for e in m.entries)) for m in months)) for year, months in c.timeline),
                  tuple((m.year, m.month, m.count) for m in c.coverage),
                  tuple(company_at[id(u)] for u in c.subsidiaries),
                  -1 if c.parent is None else company_at[id(c.parent)])
                 for c in site.companies]
    topics = [(t.slug, t.name, t.entry, t.url, tuple(at[id(p)] for p in t.articles))
              for t in site.topics]
    years = [(y.year, y.url, y.count, tuple((m.month, m.name, m.url,
                                             tuple(at[id(p)] for p in m.articles))
                                            for m in y.months))
             for y in site.years]
    return Snapshot(settings, salt, pages, companies, topics, years,
                    [(h.article.path, h.reason) for h in site.held_back], dict(site.by_source),
                    list(notes), plan.save(),
                    [ids[id(page)] for page in site.articles] if ids else [])


def thaw(snapshot: Snapshot, config: Config, articles: Mapping[str, Article],
         notes: list[EditionNote], selection: Selection) -> Site:
    """The model the snapshot was frozen from, with each page's article from `articles`
    (same shape: the files' records as the last build left them). KeyError when an
    article is missing. The editions are made again from the pages (a few milliseconds;
    the snapshot's notes already hold what making them reported)."""
    pages = [ArticlePage(articles[path], url, local, updated, 0, modified, modified_at)
             for path, url, local, updated, modified, modified_at, *_ in snapshot.pages]
    for page in pages:
        page.reading_minutes = reading_minutes(page.article, config)
    companies = [CompanyPage(slug, name, entry, url, [pages[p] for p in members],
                             [(event, pages[p]) for event, p in events],
                             [(year, [TimelineMonth(year, month, name, [
                                 TimelineEntry(day, kind, title, pages[p], anchor)
                                 for day, kind, title, p, anchor in entries])
                                 for month, name, entries in months])
                              for year, months in timeline],
                             [MonthCount(*count) for count in coverage])
                 for slug, name, entry, url, members, events, timeline, coverage, _, _
                 in snapshot.companies]
    for company, (*_, subsidiaries, parent) in zip(companies, snapshot.companies, strict=True):
        company.subsidiaries = [companies[number] for number in subsidiaries]
        company.parent = companies[parent] if parent >= 0 else None
    topics = [TopicPage(slug, name, entry, url, [pages[p] for p in members])
              for slug, name, entry, url, members in snapshot.topics]
    for page, (*_, on, about, related, previous, after) in zip(pages, snapshot.pages,
                                                               strict=True):
        page.companies = [companies[number] for number in on]
        page.topics = [topics[number] for number in about]
        page.related = [pages[number] for number in related]
        page.previous = pages[previous] if previous >= 0 else None
        page.next = pages[after] if after >= 0 else None
    years = [ArchiveYear(year, url, [ArchiveMonth(year, month, name, month_url,
                                                  [pages[p] for p in members])
                                     for month, name, month_url, members in months], count)
             for year, url, count, months in snapshot.years]
    held = [HeldBack(articles[path], reason) for path, reason in snapshot.held_back]
    editions = build_editions(pages, companies, notes, config, selection.now,
                              selection.include_future, Diagnostics())
    return Site(config, pages, companies, topics, years, held, None, dict(snapshot.by_source),
                editions)


# Items per pickle of the snapshot's long lists: a pickler remembers every object it
# wrote until its dump ends, which for one dump of a 100,000-article snapshot was the
# memory peak of the whole build (+280 MiB). A company holds its whole timeline.
CHUNKS = {"pages": 5_000, "companies": 10, "topics": 20, "years": 5, "held_back": 5_000,
          "notes": 5_000}
PLAN_LISTS = ("paths", "kinds", "templates", "moments")  # in chunks of 5,000


def save(folder: Path, snapshot: Snapshot, token: str | None = None) -> str:
    """Write it atomically under `token`, or a new one (the state names the token it
    goes with); the token."""
    token = token or os.urandom(8).hex()
    pending = pending_path(folder, token)
    write(pending, snapshot, token)
    publish(folder, pending)
    return token


def pending_path(folder: Path, token: str) -> Path:
    """Where a snapshot is written before it is published under its token."""
    return folder / f".{FILE}.{token}"


def publish(folder: Path, pending: Path) -> None:
    os.replace(pending, folder / FILE)


def write(temporary: Path, snapshot: Snapshot, token: str) -> None:
    """A skeleton, then each long list (by_source as its items) in chunks."""
    plan = snapshot.plan
    skeleton = replace(snapshot, pages=[], companies=[], topics=[], years=[], held_back=[],
                       notes=[], by_source={},
                       plan=replace(plan, paths=[], kinds=[], templates=[], moments=[]))
    lists: list[tuple[list[Any], int]] = [(getattr(snapshot, name), size)
                                          for name, size in CHUNKS.items()]
    lists += [(getattr(plan, name), 5_000) for name in PLAN_LISTS]
    lists.append((list(snapshot.by_source.items()), 5_000))
    with temporary.open("wb") as file:
        for value in ((VERSION, code_fingerprint(), token), skeleton):
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        for items, size in lists:
            for start in range(0, len(items), size):
                pickle.dump(items[start:start + size], file, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, file, protocol=pickle.HIGHEST_PROTOCOL)


def wait_for_writer(folder: Path, token: str) -> None:
    """Wait while the snapshot of `token` is still being written: the build that made
    it ended before its child had written it, and the child publishes it when done."""
    wait_while_pending(pending_path(folder, token))


def load(folder: Path, token: str) -> Snapshot | None:
    """The snapshot saved under `token`; None when there is none or another."""
    wait_for_writer(folder, token)
    try:
        with (folder / FILE).open("rb") as file, no_gc_pauses(freeze=True):
            if pickle.load(file) != (VERSION, code_fingerprint(), token):
                return None
            snapshot = pickle.load(file)
            if not isinstance(snapshot, Snapshot):
                return None
            plan = snapshot.plan
            lists = [getattr(snapshot, name) for name in CHUNKS]
            lists += [getattr(plan, name) for name in PLAN_LISTS]
            sources: list[tuple[str, str]] = []
            for items in [*lists, sources]:
                while (chunk := pickle.load(file)) is not None:
                    items.extend(chunk)
            snapshot.by_source.update(sources)
    except Exception:  # missing, unreadable: the build makes the model afresh
        return None
    return snapshot
