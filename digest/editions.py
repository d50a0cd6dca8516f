"""Editions, the digest itself (issue 11): a site's articles cut into periods — ISO
weeks in the site timezone by default, or days, or months — each with an optional
editor's note (content/editions/<key>.md). Pure: data in, data out; model.build_site
and snapshot.thaw call `build_editions`, templates group an edition's articles with
`edition_groups`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

from digest.config import WEEKDAYS, Config
from digest.entries import EditionNote, Event
from digest.errors import Diagnostics
from digest.urls import edition_path

if TYPE_CHECKING:  # (model.py imports this module: the model's types for type checks only)
    from digest.model import ArticlePage, CompanyPage, TopicPage

WEEK_KEY = re.compile(r"(\d{4})-W(\d{2})")
DAY_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
MONTH_KEY = re.compile(r"(\d{4})-(\d{2})")
KEY_EXAMPLES = {"weekly": "2023-W20", "daily": "2023-05-16", "monthly": "2023-05"}
NOUNS = {"weekly": "week", "daily": "day", "monthly": "month"}
# what an edition calls its own period: "This week" over its events, "this week's
# edition" (while it is the running one)
THIS_PERIOD = {"weekly": "this week", "daily": "today", "monthly": "this month"}


class Period(NamedTuple):  # (a named tuple: hashed in C, 10,000 times a model)
    key: str  # "2023-W20", "2023-05-16", "2023-05"
    start: date  # first day
    end: date  # last day, inclusive


def period_of(day: date, config: Config) -> Period:
    """The period (of the `editions` setting) a local date falls in."""
    return _period_of(day, config.editions, config.week_start)


@lru_cache(maxsize=1 << 16)
def _period_of(day: date, mode: str, week_start: str) -> Period:
    # (once a day a process: every article's page asks for its edition)
    if mode == "daily":
        return Period(day.isoformat(), day, day)
    if mode == "monthly":
        last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return Period(f"{day.year:04d}-{day.month:02d}", day.replace(day=1), last)
    start = day - timedelta(days=(day.weekday() - WEEKDAYS.index(week_start)) % 7)
    # A week is named by the ISO week of its middle day: for weeks from Monday, exactly
    # the ISO week; for weeks from another day, the ISO week most of its days are in.
    year, week, _ = (start + timedelta(days=3)).isocalendar()
    return Period(f"{year:04d}-W{week:02d}", start, start + timedelta(days=6))


def parse_period(key: str, config: Config) -> Period | None:
    """The period a key names under the `editions` setting; None if it names none."""
    try:
        if config.editions == "weekly" and (match := WEEK_KEY.fullmatch(key)):
            middle_weekday = (WEEKDAYS.index(config.week_start) + 3) % 7 + 1
            middle = date.fromisocalendar(int(match[1]), int(match[2]), middle_weekday)
            found = period_of(middle, config)
        elif config.editions == "daily" and DAY_KEY.fullmatch(key):
            found = period_of(date.fromisoformat(key), config)
        elif config.editions == "monthly" and (match := MONTH_KEY.fullmatch(key)):
            found = period_of(date(int(match[1]), int(match[2]), 1), config)
        else:
            return None
    except (ValueError, OverflowError):  # week 54, month 13, 31 February, year 9999's end
        return None
    return found if found.key == key else None


def period_label(period: Period, mode: str) -> str:
    """"Week 20, 2023", "16 May 2023", "May 2023"."""
    if mode == "weekly":
        return f"Week {int(period.key[-2:])}, {period.key[:4]}"
    if mode == "daily":
        return f"{period.start.day} {period.start:%B %Y}"
    return f"{period.start:%B %Y}"


def period_dates(period: Period) -> str:
    """The days a period covers: "15–21 May 2023", "29 May – 4 June 2023"."""
    start, end = period.start, period.end
    if start == end:
        return f"{start:%A} {start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


@dataclass(frozen=True)
class EditionEvent:
    """A company event dated in an edition's period, with the article reporting it."""

    event: Event
    company: CompanyPage
    page: ArticlePage
    anchor: str  # "event-N" on the article's page

    @property
    def date(self) -> date:
        return self.event.date


class EditionLink(NamedTuple):
    """What an article's page shows of its edition, taken out of the model (express.py):
    the fields `depends.edition_link` reads."""

    key: str
    url: str
    label: str
    dates: str
    in_progress: bool


@dataclass(eq=False)
class Edition:
    key: str
    url: str  # site path
    period: Period
    label: str  # "Week 20, 2023"
    dates: str  # "15–21 May 2023"
    articles: list[ArticlePage]  # newest first
    events: list[EditionEvent]  # dated in the period, newest first
    note: EditionNote | None
    ends_at: datetime  # when the period ends, in the site timezone
    in_progress: bool  # the running period: shown as such, kept out of the feeds
    previous: Edition | None = field(default=None, repr=False)  # older
    next: Edition | None = field(default=None, repr=False)  # newer

    @property
    def title(self) -> str:
        return self.note.title if self.note and self.note.title else self.label

    @property
    def companies(self) -> int:
        return len({id(c) for page in self.articles for c in page.companies})


def build_editions(pages: list[ArticlePage], companies: list[CompanyPage],
                   notes: list[EditionNote], config: Config, now: datetime,
                   include_future: bool, diagnostics: Diagnostics) -> list[Edition]:
    """The editions of the published `pages` (newest first), newest first. Empty
    periods get none; a note for one is a warning, a note named after no period an
    error."""
    if not config.editions:
        for note in notes:
            diagnostics.warning(note.path, 1, 1, "editions are off: this note is not "
                                "published", "set editions = \"weekly\" (or \"daily\", "
                                "\"monthly\") in [tool.digest] of pyproject.toml")
        return []
    members: dict[Period, list[ArticlePage]] = {}
    for page in pages:  # newest first, so each period's list is too
        members.setdefault(period_of(page.local_date.date(), config), []).append(page)
    by_key = {period.key: period for period in members}
    notes_by_key: dict[str, EditionNote] = {}
    for note in notes:
        period = parse_period(note.key, config)
        other = None if period else next(
            (mode for mode in KEY_EXAMPLES
             if mode != config.editions and parse_period(note.key, replace(config, editions=mode))),
            None)
        if period is None and other is not None:  # left from another `editions` setting
            diagnostics.warning(note.path, 1, 1, f"'{note.key}' names a {other} edition, and "
                                f"editions are {config.editions}: this note is not published",
                                f"rename it after its period, e.g. content/editions/"
                                f"{KEY_EXAMPLES[config.editions]}.md, or remove it")
        elif period is None:
            example = KEY_EXAMPLES[config.editions]
            diagnostics.error(note.path, 1, 1, f"'{note.key}' names no {config.editions} "
                              f"edition", f"name the note after its period, e.g. "
                              f"content/editions/{example}.md")
        elif period.key in notes_by_key:
            diagnostics.error(note.path, 1, 1, f"a second note for {period.key}: "
                              f"{notes_by_key[period.key].path} is the first",
                              "keep one note per edition")
        elif period.key not in by_key:
            diagnostics.warning(note.path, 1, 1, f"no published article is dated in "
                                f"{period.key} ({period_dates(period)}): the note is not "
                                "published", "check the file name, or add the period's "
                                "articles")
        else:
            notes_by_key[period.key] = note
    zone = config.tz
    editions = []
    for period, articles in sorted(members.items(), key=lambda item: item[0].start,
                                   reverse=True):
        ends_at = datetime.combine(period.end + timedelta(days=1), time(), zone)
        editions.append(Edition(period.key, edition_path(period.key), period,
                                period_label(period, config.editions), period_dates(period),
                                articles, [], notes_by_key.get(period.key), ends_at,
                                not include_future and ends_at > now))
    for newer, older in pairwise(editions):
        newer.previous, older.next = older, newer
    place_events(editions, companies, config)
    return editions


def place_events(editions: list[Edition], companies: list[CompanyPage],
                 config: Config) -> None:
    """Each edition's "this week" list: the company events dated in its period,
    whichever article reported them."""
    by_key = {edition.key: edition for edition in editions}
    for company in companies:
        for event, page in company.events:
            edition = by_key.get(period_of(event.date, config).key)
            if edition is not None:
                anchor = f"event-{page.article.events.index(event) + 1}"
                edition.events.append(EditionEvent(event, company, page, anchor))
    for edition in editions:
        # newest day first; a day's events in the order their articles list them
        edition.events.sort(key=lambda item: (-item.date.toordinal(), item.page.url,
                                              int(item.anchor.removeprefix("event-"))))


@dataclass(frozen=True)
class Group:
    name: str
    url: str | None  # site path of the company or topic; None for "Other news"
    articles: list[ArticlePage]


def edition_groups(edition: Edition, by: str) -> list[Group]:
    """The edition's articles by company (or topic): each article once, under the one
    of its companies with the most articles in the period (ties: A-Z); the groups with
    the most articles first, then A-Z; articles filed under none last."""
    def subjects(page: ArticlePage) -> Sequence[CompanyPage | TopicPage]:
        return page.companies if by == "company" else page.topics
    counts: Counter[int] = Counter(id(s) for page in edition.articles for s in subjects(page))
    groups: dict[int, tuple[CompanyPage | TopicPage, list[ArticlePage]]] = {}
    others: list[ArticlePage] = []
    for page in edition.articles:
        candidates = subjects(page)
        if not candidates:
            others.append(page)
            continue
        lead = min(candidates, key=lambda s: (-counts[id(s)], s.name.casefold(), s.slug))
        groups.setdefault(id(lead), (lead, []))[1].append(page)
    ordered = sorted(groups.values(), key=lambda item: (-len(item[1]), item[0].name.casefold(),
                                                        item[0].slug))
    found = [Group(subject.name, subject.url, articles) for subject, articles in ordered]
    if others:
        found.append(Group("Other news", None, others))
    return found


def finished(editions: list[Edition]) -> list[Edition]:
    return [edition for edition in editions if not edition.in_progress]
