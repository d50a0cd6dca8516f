"""What each output shows, as plain values: an output's fingerprint is the hash of
these, so an incremental build re-renders exactly the outputs whose values changed.

The values are declared per kind of page and mirror what its template reads (see
docs/TEMPLATES.md, "Incremental builds"). A page that lists articles depends on each
one's *card* (title, URL, date, summary, source, companies, topics), not on its body, so
editing a sentence re-renders the article and the feeds that carry it, not every list
it appears in. Anything that touches every page (settings, templates, digest's own
code) is in the salt instead (build.py).
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from digest.editions import Edition, EditionLink, Group
from digest.feeds import Feed
from digest.model import (
    ArchiveYear,
    ArticlePage,
    CompanyPage,
    Site,
    TopicPage,
)

Value = tuple[Any, ...]


def link(page: CompanyPage | TopicPage) -> Value:
    return (page.name, page.url)


def shown_bytes(value: Any) -> bytes:
    """The bytes a shown value is hashed by. Values are kept plain (strings, numbers,
    bytes, ISO dates, tuples) so that marshal can write them: four times cheaper than
    repr. Version 0 has no back-references and no interned-string marker, so equal
    values give equal bytes in any process. Anything else falls back to repr."""
    try:
        return b"m" + marshal.dumps(value, 0)
    except ValueError:
        return b"r" + repr(value).encode()


def iso(moment: date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def hashed(value: Value) -> bytes:
    return hashlib.blake2b(shown_bytes(value), digest_size=16).digest()


def card(page: ArticlePage) -> Value:
    """An article as list pages, timelines and redirects show it."""
    article = page.article
    source = article.source
    return (page.url, article.title, page.local_date.isoformat(), article.has_time,
            article.summary, (source.name, source.url) if source else None,
            tuple(link(c) for c in page.companies), tuple(link(t) for t in page.topics))


@dataclass
class HashMemo:
    """Hashes of shown values, kept between the builds of one process (`digest serve`):
    a value equal to one of the last build's takes its hash. Values of unchanged
    articles share their strings with the last build's, so comparing them costs a
    tenth of repr and hashing (0.3 s of an edit at 10,000 articles)."""

    previous: dict[Hashable, bytes] = field(default_factory=dict)
    current: dict[Hashable, bytes] = field(default_factory=dict)

    def start(self) -> None:
        """A new build: what the last one hashed is what can be reused."""
        if self.current:
            self.previous, self.current = self.current, {}

    def hash(self, value: Hashable, compute: Callable[[], bytes]) -> bytes:
        """`compute()` (the hash of `value`), or the hash an equal value had last time."""
        try:
            known = self.previous.get(value)
        except TypeError:  # a value holding something unhashable: no memo for it
            return compute()
        if known is None:
            known = compute()
        self.current[value] = known
        return known


class Depends:
    """The values each output of one site shows; each article's card is made once."""

    def __init__(self, site: Site, memo: HashMemo | None = None,
                 every_card: bool = True) -> None:
        self.by_source: Mapping[str, str] = site.by_source
        self.edition_of: Callable[[ArticlePage], Edition | EditionLink | None] = \
            site.edition_of
        # Each card is hashed once here; the pages that list it carry only the hash.
        # (`every_card` False: each when first asked for, for a plan made in part.)
        self.cards: dict[int, bytes] = \
            {id(page): self.card_hash(card(page), memo) for page in site.articles} \
            if every_card else Cards({id(page): page for page in site.articles})
        self.seen: set[int] = set()  # ids of the article pages shown since it was emptied

    @classmethod
    def of_page(cls, page: ArticlePage, cards: dict[int, bytes], by_source: Mapping[str, str],
                edition: EditionLink | None) -> Depends:
        """What one article page taken out of its model shows (express.py): the cards
        of its neighbours known by their hashes (`cards`, by page id), its own made."""
        shows = cls.__new__(cls)
        shows.by_source = by_source
        shows.edition_of = lambda _: edition
        shows.cards = Cards({id(page): page})
        shows.cards.update(cards)
        shows.seen = set()
        return shows

    @staticmethod
    def card_hash(value: Value, memo: HashMemo | None) -> bytes:
        return memo.hash(value, lambda: hashed(value)) if memo else hashed(value)

    def refresh(self, page: ArticlePage) -> None:
        """The card of an article edited in place."""
        self.cards[id(page)] = hashed(card(page))

    def card(self, page: ArticlePage) -> bytes:
        key = id(page)
        self.seen.add(key)
        return self.cards[key]

    def listing(self, pages: Sequence[ArticlePage]) -> bytes:
        keys = list(map(id, pages))
        self.seen.update(keys)
        # one bytes value: its repr (in the output's fingerprint) is a sixth of a tuple's
        return b"".join(map(self.cards.__getitem__, keys))

    def body(self, page: ArticlePage) -> Value:
        """The rendered body as shown: its content key and the URLs its links reach."""
        return (page.article.body, tuple((path, self.by_source.get(path))
                                         for path in page.article.links))

    def article(self, page: ArticlePage) -> Value:
        companies = tuple((c.name, c.url, c.entry.website if c.entry else None)
                          for c in page.companies)
        article = page.article
        return (self.card(page), article.path, article.sha, iso(page.local_updated),
                page.reading_minutes,
                self.body(page), companies, self.listing(page.related),
                self.card(page.previous) if page.previous else None,
                self.card(page.next) if page.next else None,
                edition_link(self.edition_of(page)))

    def edition(self, edition: Edition, groups: list[Group]) -> Value:
        """An edition as its page, its email and the editions feed show it."""
        note = edition.note
        shown_note = (note.title, note.summary, note.body,
                      tuple((path, self.by_source.get(path)) for path in note.links)) \
            if note else None
        return (edition_summary(edition), shown_note,
                tuple((g.name, g.url, self.listing(g.articles)) for g in groups),
                tuple((e.date.isoformat(), e.event.type, e.event.title, link(e.company),
                       e.page.url, e.anchor) for e in edition.events),
                edition_link(edition.previous), edition_link(edition.next))

    def company(self, page: CompanyPage) -> Value:
        timeline = tuple((year, tuple((month.month, tuple(
            (entry.date.isoformat(), entry.kind, entry.title, entry.anchor,
             self.card(entry.article))
            for entry in month.entries)) for month in months))
            for year, months in page.timeline)
        return (company_summary(page), link(page.parent) if page.parent else None,
                tuple(link(unit) for unit in page.subsidiaries),
                tuple((m.year, m.month, m.count) for m in page.coverage),
                timeline)

    def archive_year(self, year: ArchiveYear, headlines: int) -> Value:
        return (year.year, year.url, year.count, headlines,
                tuple((m.month, m.url, len(m.articles), self.listing(m.articles[:headlines]))
                      for m in year.months))

    def feed(self, value: Feed) -> Value:
        self.seen.update(id(e.page) for e in value.entries if e.page is not None)
        entries = tuple((e.id, e.url, e.title, iso(e.published), iso(e.updated), e.summary,
                         e.authors,
                         e.categories, self.body(e.content) if e.content else None,
                         self.edition(e.edition, e.groups) if e.edition else None)
                        for e in value.entries)
        return (value.title, value.description, value.home_url, value.folder, entries)


class Cards(dict[int, bytes]):
    """Card hashes by page id, each made when first looked up."""

    def __init__(self, pages: dict[int, ArticlePage]) -> None:
        super().__init__()
        self.pages = pages

    def __missing__(self, key: int) -> bytes:
        self[key] = value = hashed(card(self.pages[key]))
        return value


def edition_link(edition: Edition | EditionLink | None) -> Value | None:
    """A link to an edition ("this week's edition" while it is in progress)."""
    return (edition.key, edition.url, edition.label, edition.dates, edition.in_progress) \
        if edition else None


def edition_summary(edition: Edition) -> Value:
    """What lists of editions (and the home page) show of one."""
    note = edition.note
    return (edition_link(edition), edition.title, iso(edition.ends_at),
            len(edition.articles), edition.companies, note.summary if note else None)


def topic(page: TopicPage) -> Value:
    return (page.slug, page.name, page.url, repr(page.entry), len(page.articles))


def company_summary(page: CompanyPage) -> Value:
    return (page.slug, page.name, page.url, repr(page.entry), len(page.articles))


def archive_index(years: Sequence[ArchiveYear]) -> Value:
    return tuple((y.year, y.url, y.count, tuple((m.month, m.url, len(m.articles))
                                                for m in y.months)) for y in years)


def fingerprint_bytes(salt: bytes, relative: str, shown: bytes) -> bytes:
    digest = hashlib.blake2b(salt, digest_size=16)
    digest.update(relative.encode() + b"\0")
    digest.update(shown)
    return digest.digest()
