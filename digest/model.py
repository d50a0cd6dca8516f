"""The site model: articles resolved to companies and topics, timelines, archives,
related articles and URLs. Pure data in, data out: no file or template I/O."""

from __future__ import annotations

import bisect
import hashlib
import heapq
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from slugify import slugify as _slugify

from digest.collector import forked_pool, worth_a_pool
from digest.config import Config
from digest.content import Content
from digest.editions import Edition, build_editions, period_of
from digest.entries import Article, CompanyEntry, Event, Mention, TopicEntry
from digest.errors import Diagnostics, did_you_mean
from digest.urls import (
    archive_month_path,
    archive_year_path,
    article_path,
    company_path,
    topic_path,
    topic_year_path,
)

# Names repeat across thousands of articles: each distinct one is slugified once.
slugify = cache(_slugify)

# How many neighbours (by date) in each shared company/topic are scored for
# "related": keeps it linear on 100k-article archives instead of quadratic.
RELATED_WINDOW = 30


@dataclass(eq=False)
class ArticlePage:
    article: Article
    url: str  # site path
    local_date: datetime  # article.date in the site timezone
    local_updated: datetime | None  # article.updated in the site timezone
    reading_minutes: int
    modified: datetime  # article.updated or else article.date: a list page's lastmod
    # its timestamp: aware datetimes in different zones compare through utcoffset()
    # calls, and list pages take the newest of ~100,000 of them
    modified_at: float
    companies: list[CompanyPage] = field(default_factory=list, repr=False)
    topics: list[TopicPage] = field(default_factory=list, repr=False)
    related: list[ArticlePage] = field(default_factory=list, repr=False)
    previous: ArticlePage | None = field(default=None, repr=False)  # older
    next: ArticlePage | None = field(default=None, repr=False)  # newer


# Named tuples, not frozen dataclasses, for the many small records of a model: made
# several times faster (a frozen dataclass sets each field through object.__setattr__),
# and a model taken up from its snapshot makes 50,000 of them at 10,000 articles.
class TimelineEntry(NamedTuple):
    date: date
    kind: str  # "article" or an event type
    title: str
    article: ArticlePage
    anchor: str = ""  # "event-N" on the article page, for events


class TimelineMonth(NamedTuple):
    year: int
    month: int
    name: str
    entries: list[TimelineEntry]


class MonthCount(NamedTuple):
    year: int
    month: int
    count: int  # type: ignore[assignment]  # (the field, not tuple.count: templates read it)


@dataclass(eq=False)
class CompanyPage:
    slug: str
    name: str
    entry: CompanyEntry | None
    url: str
    articles: list[ArticlePage] = field(default_factory=list, repr=False)
    events: list[tuple[Event, ArticlePage]] = field(default_factory=list, repr=False)
    timeline: list[tuple[int, list[TimelineMonth]]] = field(default_factory=list, repr=False)
    coverage: list[MonthCount] = field(default_factory=list, repr=False)
    subsidiaries: list[CompanyPage] = field(default_factory=list, repr=False)
    parent: CompanyPage | None = field(default=None, repr=False)


@dataclass(eq=False)
class TopicPage:
    slug: str
    name: str
    entry: TopicEntry | None
    url: str
    articles: list[ArticlePage] = field(default_factory=list, repr=False)


class ArchiveMonth(NamedTuple):
    year: int
    month: int
    name: str
    url: str
    articles: list[ArticlePage]


# A topic's page shows its newest articles (per_page) and links to its years; a topic
# with more articles than that has pages for each year, ten times per_page articles a
# page (100 by default). An added or re-tagged article then changes its year's pages
# only, where pages numbered across the whole topic all shifted (a re-tag re-rendered
# 300 pages at 10,000 articles), and a year's link keeps showing that year's articles
# as the archive grows.
def topic_year_per_page(per_page: int) -> int:
    return 10 * per_page


LOCAL_YEAR = attrgetter("local_date.year")  # a page's year in the site's timezone


@dataclass(frozen=True)
class TopicYear:
    year: int
    url: str
    articles: list[ArticlePage]  # newest first


def topic_years(slug: str, articles: list[ArticlePage], per_page: int) -> list[TopicYear]:
    """The years of a topic's articles (newest first), when its page cannot show all of
    them; none when it can."""
    if len(articles) <= per_page:
        return []
    by_year: dict[int, list[ArticlePage]] = {}
    # newest first, so a year's articles are together: grouped at C speed (every edit
    # lays out every topic's units), a year met twice joined all the same
    for year, members in groupby(articles, LOCAL_YEAR):
        by_year.setdefault(year, []).extend(members)
    return [TopicYear(year, topic_year_path(slug, year), members)
            for year, members in by_year.items()]


class ArchiveYear(NamedTuple):
    year: int
    url: str
    months: list[ArchiveMonth]
    count: int  # type: ignore[assignment]  # (as MonthCount.count)


@dataclass(frozen=True)
class Selection:
    """Which articles a build publishes. `now` decides what is scheduled for later; the
    CLI fixes it from SOURCE_DATE_EPOCH for reproducible builds."""

    now: datetime
    include_drafts: bool = False
    include_future: bool = False

    def reason_to_hold(self, article: Article) -> str | None:
        if article.draft and not self.include_drafts:
            return "draft"
        if article.date > self.now and not self.include_future:
            return "scheduled"
        return None


class HeldBack(NamedTuple):
    article: Article
    reason: str  # "draft" or "scheduled"


@dataclass
class Site:
    config: Config
    articles: list[ArticlePage]  # newest first
    companies: list[CompanyPage]  # A-Z
    topics: list[TopicPage]  # A-Z
    years: list[ArchiveYear]  # newest first
    held_back: list[HeldBack]  # drafts and scheduled articles left out of every output
    resolver: Resolver | None = None  # how names map to companies and topics
    by_source: dict[str, str] = field(default_factory=dict)  # article file → site path
    editions: list[Edition] = field(default_factory=list)  # newest first (editions.py)

    @cached_property
    def editions_by_key(self) -> dict[str, Edition]:
        return {edition.key: edition for edition in self.editions}

    def edition_of(self, page: ArticlePage) -> Edition | None:
        """The edition an article is in ("this week's edition")."""
        if not self.editions:
            return None
        return self.editions_by_key.get(period_of(page.local_date.date(), self.config).key)

    @property
    def next_due(self) -> Article | None:
        scheduled = [h.article for h in self.held_back if h.reason == "scheduled"]
        return min(scheduled, key=lambda a: (a.date, a.path)) if scheduled else None


def month_name(month: int) -> str:
    # (what calendar.month_name holds, as editions.py writes months: that module's
    # import cost an edit 1.5 ms)
    return date(2001, month, 1).strftime("%B")


def newest_first(pages: list[ArticlePage]) -> list[ArticlePage]:
    return sorted(pages, key=lambda page: (page.article.date, page.url), reverse=True)


class Resolver:
    """Maps names as editors write them (any case, aliases) to company and topic pages."""

    def __init__(self, content: Content, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics
        self.companies: dict[str, CompanyPage] = {}
        self.company_keys: dict[str, CompanyPage] = {}
        self.topics: dict[str, TopicPage] = {}
        self.topic_keys: dict[str, TopicPage] = {}
        self.topic_spellings: dict[str, Counter[str]] = defaultdict(Counter)
        self.warned: set[str] = set()
        for company in content.companies:
            page = CompanyPage(company.slug, company.name, company, company_path(company.slug))
            self.companies[company.slug] = page
            self._claim(self.company_keys, page, company, company.name, *company.aliases)
        for topic in content.topics:
            topic_page = TopicPage(topic.slug, topic.name, topic, topic_path(topic.slug))
            self.topics[topic.slug] = topic_page
            self._claim(self.topic_keys, topic_page, topic, topic.name, *topic.aliases)

    def _claim(self, keys: dict[str, CompanyPage] | dict[str, TopicPage],
               page: CompanyPage | TopicPage, entry: CompanyEntry | TopicEntry, *names: str
               ) -> None:
        for name in (page.slug, *names):
            key = name.casefold()
            owner = keys.get(key)
            if owner is not None and owner is not page:
                other = owner.entry.path if owner.entry else "?"
                self.diagnostics.error(entry.path, *entry.positions.get(name, (1, 1)),
                                       f"name '{name}' is already used by {other}",
                                       "each name and alias may belong to one entry only")
            else:
                keys[key] = page  # type: ignore[assignment]

    def known_company(self, name: str) -> CompanyPage | None:
        return self.company_keys.get(name.casefold()) or self.company_keys.get(slugify(name))

    def company(self, mention: Mention) -> CompanyPage:
        page = self.known_company(mention.name)
        if page is not None:
            return page
        slug = slugify(mention.name) or "company"
        if slug not in self.companies:
            self.companies[slug] = CompanyPage(slug, mention.name, None, company_path(slug))
        if slug not in self.warned:
            self.warned.add(slug)
            registered = [c.name for c in self.companies.values() if c.entry]
            hint = did_you_mean(mention.name, registered)
            self.diagnostics.warning(
                mention.path, *mention.position, f"company '{mention.name}' is not in the registry",
                (hint + " Or add" if hint else "add") + f" content/companies/{slug}.md "
                "to give it a profile and aliases",
            )
        self.company_keys[slug] = self.companies[slug]
        return self.companies[slug]

    def topic(self, mention: Mention) -> TopicPage:
        page = self.topic_keys.get(mention.name.casefold())
        if page is None:
            slug = slugify(mention.name) or "topic"
            page = self.topics.get(slug)
            if page is None:
                page = self.topics[slug] = TopicPage(slug, mention.name, None, topic_path(slug))
        if page.entry is None:
            self.topic_spellings[page.slug][mention.name] += 1
        return page

    def settle_topic_names(self) -> None:
        """An unregistered topic is named by its most used spelling (ties: A-Z)."""
        for slug, spellings in self.topic_spellings.items():
            self.topics[slug].name = min(spellings, key=lambda s: (-spellings[s], s))


def article_url(config: Config, article: Article, local: datetime) -> str:
    return article_path(config.permalink, local.year, local.month, local.day, article.slug)


def reading_minutes(article: Article, config: Config) -> int:
    return max(1, round(article.word_count / config.words_per_minute))


def article_page(article: Article, config: Config) -> ArticlePage:
    """An article's page before the model places it (companies, topics, neighbours)."""
    local = article.date.astimezone(config.tz)
    updated = article.updated.astimezone(config.tz) if article.updated else None
    return ArticlePage(article, article_url(config, article, local), local, updated,
                       reading_minutes(article, config), article.updated or article.date,
                       (article.updated or article.date).timestamp())


def build_site(content: Content, config: Config, diagnostics: Diagnostics,
               selection: Selection, memo: RelatedMemo | None = None) -> Site:
    resolver = Resolver(content, diagnostics)
    held_back, published = [], []
    for article in content.articles:
        reason = selection.reason_to_hold(article)
        if reason:
            held_back.append(HeldBack(article, reason))
        else:
            published.append(article)
    pages = newest_first([article_page(article, config) for article in published])

    for page in pages:
        article = page.article
        filed_under: dict[str, CompanyPage] = {}
        tagged: dict[str, TopicPage] = {}
        for mention in article.companies:
            company = resolver.company(mention)
            filed_under.setdefault(company.slug, company)
        for mention in article.tags:
            # A tag naming a known company files the article under that company.
            known = resolver.known_company(mention.name)
            if known is not None:
                filed_under.setdefault(known.slug, known)
            else:
                topic = resolver.topic(mention)
                tagged.setdefault(topic.slug, topic)
        for event in article.events:
            company = resolver.company(event.company)
            filed_under.setdefault(company.slug, company)
            company.events.append((event, page))
        page.companies = sorted(filed_under.values(), key=lambda c: c.name.casefold())
        page.topics = sorted(tagged.values(), key=lambda t: t.name.casefold())
        for company in page.companies:
            company.articles.append(page)
        for topic in page.topics:
            topic.articles.append(page)
    resolver.settle_topic_names()

    for older, newer in zip(pages[1:], pages, strict=False):
        older.next, newer.previous = newer, older
    companies = sorted(resolver.companies.values(), key=lambda c: (c.name.casefold(), c.slug))
    topics = sorted(resolver.topics.values(), key=lambda t: (t.name.casefold(), t.slug))
    link_parents(companies, resolver, diagnostics)
    for company in companies:
        company.timeline = build_timeline(company)
        company.coverage = count_coverage(company.articles)
    assign_related(pages, companies, topics, config.related_count, memo)
    editions = build_editions(pages, companies, content.editions, config, selection.now,
                              selection.include_future, diagnostics)
    site = Site(config, pages, companies, topics, build_archive(pages), held_back, resolver,
                {page.article.path: page.url for page in pages}, editions)
    check_url_collisions(site, diagnostics)
    return site


def shape(article: Article, with_tags: bool = True) -> tuple[object, ...]:
    """Every field of an article that `build_site` reads besides the title: where the
    article stands in the model (order, URL, what it is filed under, its events,
    whether it is published). Two articles of equal shape make models that differ
    only in what the article itself shows. Without its tags: refile.py moves articles
    between topics."""
    return (article.path, article.date, article.updated, article.slug, article.slug_position,
            article.draft, article.tags if with_tags else (), article.companies,
            article.events, article.aliases)


def patch_site(site: Site, changed: list[Article], retagged: bool = False
               ) -> list[CompanyPage] | None:
    """Put edited articles into a model kept from the last build (`digest serve`, or
    snapshot.py), in place of a new model, when each keeps its shape: an edited
    sentence, headline, summary or source (`retagged`: or its tags, once refile.py
    has moved the articles between topics). Returns the companies whose timelines were
    made again (they hold headlines); None (and the model untouched) when an article
    changed shape."""
    pages = {page.article.path: page for page in site.articles}
    held = {h.article.path: index for index, h in enumerate(site.held_back)}
    for article in changed:
        old = pages[article.path].article if article.path in pages else \
            site.held_back[held[article.path]].article if article.path in held else None
        if old is None or shape(old, not retagged) != shape(article, not retagged):
            return None
    retitled: dict[int, CompanyPage] = {}
    for article in changed:
        page = pages.get(article.path)
        if page is None:
            index = held[article.path]
            site.held_back[index] = HeldBack(article, site.held_back[index].reason)
            continue
        if page.article.title != article.title:  # timelines hold titles
            retitled.update((id(company), company) for company in page.companies)
        page.article = article
        page.reading_minutes = reading_minutes(article, site.config)
    for company in retitled.values():
        company.timeline = build_timeline(company)
    return list(retitled.values())


def link_parents(companies: list[CompanyPage], resolver: Resolver,
                 diagnostics: Diagnostics) -> None:
    for company in companies:
        parent_mention = company.entry.parent if company.entry else None
        if parent_mention is None:
            continue
        parent = resolver.known_company(parent_mention.name)
        if parent is None or parent is company:
            registered = [c.name for c in companies if c.entry]
            diagnostics.error(parent_mention.path, *parent_mention.position,
                              f"parent company '{parent_mention.name}' is not in the registry",
                              did_you_mean(parent_mention.name, registered)
                              or "name a company from content/companies/")
            continue
        company.parent = parent
        parent.subsidiaries.append(company)


def build_timeline(company: CompanyPage) -> list[tuple[int, list[TimelineMonth]]]:
    """Articles and typed events, grouped by year then month, newest first."""
    entries = [TimelineEntry(page.local_date.date(), "article", page.article.title, page)
               for page in company.articles]
    entries += [TimelineEntry(event.date, event.type, event.title, page,
                              f"event-{page.article.events.index(event) + 1}")
                for event, page in company.events]
    entries.sort(key=lambda e: (e.date, e.kind != "article", e.title, e.article.url),
                 reverse=True)
    by_month: dict[tuple[int, int], list[TimelineEntry]] = defaultdict(list)
    for entry in entries:
        by_month[(entry.date.year, entry.date.month)].append(entry)
    by_year: dict[int, list[TimelineMonth]] = defaultdict(list)
    for (year, month), month_entries in sorted(by_month.items(), reverse=True):
        by_year[year].append(TimelineMonth(year, month, month_name(month), month_entries))
    return sorted(by_year.items(), reverse=True)


def count_coverage(articles: list[ArticlePage]) -> list[MonthCount]:
    """Articles per month, every month from the first to the last one covered."""
    if not articles:
        return []
    counts = Counter((p.local_date.year, p.local_date.month) for p in articles)
    (year, month), last = min(counts), max(counts)
    series = []
    while (year, month) <= last:
        series.append(MonthCount(year, month, counts.get((year, month), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return series


Filing = tuple[str, tuple[str, ...], tuple[str, ...]]  # path, company and topic slugs


@dataclass
class RelatedMemo:
    """The related lists of the last build, by position in the newest-first list, and
    what they were computed from: the order of the articles and whom each is filed
    under. An edit to a body or a title reuses them all (a second of an incremental
    build at 10,000 articles); a new tag recomputes only the articles near the edited
    one in the groups it joined or left."""
    key: bytes = b""  # b"": not made yet (`made_key`)
    related: list[list[int]] = field(default_factory=list)
    filings: list[Filing] = field(default_factory=list)
    limit: int = 0  # the related_count they were ranked for

    def made_key(self) -> bytes:
        """The key of what the lists were made from. A refiling leaves it to be made
        when a build compares it (hashing 10,000 filings was a twentieth of a re-tag)."""
        if not self.key and self.filings:
            self.key = related_key(self.filings, self.limit)
        return self.key


# Past this many refiled articles, ranking them all again is as quick as finding whom
# they affect.
RELATED_PATCH_LIMIT = 200


def related_key(filings: list[Filing], limit: int) -> bytes:
    return hashlib.blake2b(repr((RELATED_WINDOW, limit, filings)).encode(),
                           digest_size=16).digest()


def affected_by_refiling(old: list[Filing], new: list[Filing],
                         groups: dict[tuple[str, str], list[int]]) -> set[int] | None:
    """Positions whose related list may differ when articles changed their companies
    or topics (same articles, same order): the refiled ones, and those within reach
    of one in a group it joined or left (its windows there gain or lose it, and shift
    by one). None: too many, or other articles."""
    if len(old) != len(new) or any(a[0] != b[0] for a, b in zip(old, new, strict=True)):
        return None
    refiled = [position for position, (a, b) in enumerate(zip(old, new, strict=True))
               if a != b]
    if len(refiled) > RELATED_PATCH_LIMIT:
        return None
    affected = set(refiled)
    for position in refiled:
        for kind, before, after in (("c", old[position][1], new[position][1]),
                                    ("t", old[position][2], new[position][2])):
            for slug in set(before) ^ set(after):
                index = 1 if kind == "c" else 2
                lists = [[number for number, filing in enumerate(old) if slug in filing[index]],
                         groups.get((kind, slug), [])]
                for members in lists:
                    at = bisect.bisect_left(members, position)
                    affected.update(members[max(0, at - RELATED_WINDOW - 1):
                                            at + RELATED_WINDOW + 2])
    return affected


def related_of(mine: int, filings: list[Filing], groups: dict[tuple[str, str], list[int]],
               limit: int) -> list[int]:
    """The positions of the article at `mine`'s related articles, best first."""
    count = len(filings)
    # the article's groups, and where it stands in each (members newest first)
    memberships = [(weight, members, bisect.bisect_left(members, mine))
                   for kind, weight, slugs in (("c", 2, filings[mine][1]),
                                               ("t", 1, filings[mine][2]))
                   for members in (groups[(kind, slug)] for slug in slugs)]
    scores: Counter[int] = Counter()
    for weight, members, index in memberships:
        window = members[max(0, index - RELATED_WINDOW): index + RELATED_WINDOW + 1]
        for _ in range(weight):
            scores.update(window)
    del scores[mine]
    # Only candidates scoring at least the limit-th best score can make the list.
    floor = 0
    if len(scores) > limit:
        tally = Counter(scores.values())
        seen = 0
        for floor in sorted(tally, reverse=True):
            seen += tally[floor]
            if seen >= limit:
                break
    # (-score, distance, position) packed into one int, so the heap compares ints
    keys = [(-score * count + abs(other - mine)) * count + other
            for other, score in scores.items() if score >= floor]
    return [key % count for key in heapq.nsmallest(limit, keys)]


# What forked workers rank from (set before the pool starts, inherited, never pickled).
_RANKING: tuple[list[Filing], dict[tuple[str, str], list[int]], int] | None = None
PARALLEL_RANKING = 2_000  # articles; below it forking costs more than it saves
RANKING_SPANS = 8


def _related_of_span(span: tuple[int, int]) -> list[list[int]]:
    assert _RANKING is not None
    filings, groups, limit = _RANKING
    return [related_of(mine, filings, groups, limit) for mine in range(*span)]


def rank_all(filings: list[Filing], groups: dict[tuple[str, str], list[int]], limit: int
             ) -> list[list[int]]:
    """Every article's related positions, by forked workers on a large site: ranking
    is the longest step of making a model (0.45 s at 10,000 articles) and the parse
    workers have left both cores to this process by then."""
    global _RANKING
    count = len(filings)
    if not worth_a_pool(count, PARALLEL_RANKING):
        return [related_of(mine, filings, groups, limit) for mine in range(count)]
    size = -(-count // RANKING_SPANS)
    _RANKING = (filings, groups, limit)
    try:
        with forked_pool() as pool:
            parts = pool.map(_related_of_span, [(start, min(start + size, count))
                                                for start in range(0, count, size)])
    finally:
        _RANKING = None
    return [positions for part in parts for positions in part]


def filing(page: ArticlePage) -> Filing:
    return (page.article.path, tuple(c.slug for c in page.companies),
            tuple(t.slug for t in page.topics))


def assign_related(pages: list[ArticlePage], companies: list[CompanyPage],
                   topics: list[TopicPage], limit: int, memo: RelatedMemo | None = None,
                   refiled: Collection[int] | None = None) -> None:
    """Rank by shared companies (weight 2) and topics (weight 1), nearest dates first,
    then the newer one. Pages are counted by position in `pages`, in C-speed Counter
    updates: this runs over every article on every build whose `memo` does not hold
    (or, when a few articles were refiled, over the ones near them). `refiled`: the
    positions of the only articles whose companies or topics changed since `memo` was
    made, from these very pages, whose related lists it holds (a model patched in
    place: refile.py); only the lists it ranks again are set."""
    kept = refiled is not None and memo is not None and memo.limit == limit \
        and len(memo.filings) == len(memo.related) == len(pages)
    if kept:
        assert memo is not None and refiled is not None
        filings = list(memo.filings)
        for number in refiled:
            filings[number] = filing(pages[number])
        key = b""  # (made when compared: RelatedMemo.made_key)
    else:
        filings = [filing(page) for page in pages]
        key = related_key(filings, limit) if memo is not None else b""
        if memo is not None and memo.limit == limit and memo.made_key() == key:
            for page, positions in zip(pages, memo.related, strict=True):
                page.related = [pages[other] for other in positions]
            return
    position = {id(page): index for index, page in enumerate(pages)}
    count = len(pages)
    groups: dict[tuple[str, str], list[int]] = {}
    for kind, members_of in (("c", companies), ("t", topics)):
        for group in members_of:
            groups[(kind, group.slug)] = [position[id(page)] for page in group.articles]
    affected = affected_by_refiling(memo.filings, filings, groups) \
        if memo is not None and memo.related and memo.filings else None
    if affected is None:
        found = rank_all(filings, groups, limit)
        ranked: Iterable[int] = range(count)
    else:
        assert memo is not None
        found = list(memo.related)
        ranked = sorted(affected)
        for mine in ranked:
            found[mine] = related_of(mine, filings, groups, limit)
    for mine in ranked if kept and affected is not None else range(count):
        pages[mine].related = [pages[other] for other in found[mine]]
    if memo is not None:
        memo.key, memo.related, memo.filings, memo.limit = key, found, filings, limit


def build_archive(pages: list[ArticlePage]) -> list[ArchiveYear]:
    by_month: dict[tuple[int, int], list[ArticlePage]] = defaultdict(list)
    for page in pages:
        by_month[(page.local_date.year, page.local_date.month)].append(page)
    years: dict[int, list[ArchiveMonth]] = defaultdict(list)
    for (year, month), members in sorted(by_month.items(), reverse=True):
        years[year].append(ArchiveMonth(year, month, month_name(month),
                                        archive_month_path(year, month), members))
    return [ArchiveYear(year, archive_year_path(year), months,
                        sum(len(m.articles) for m in months))
            for year, months in sorted(years.items(), reverse=True)]


def check_url_collisions(site: Site, diagnostics: Diagnostics) -> None:
    """Two sources claiming one URL is an error naming both."""
    claimed: dict[str, str] = {}

    def claim(url: str, owner: str, mention: Mention | None = None) -> None:
        if url in claimed and claimed[url] != owner:
            path, (line, column) = (mention.path, mention.position) if mention else (owner, (0, 0))
            diagnostics.error(path, line, column,
                              f"URL '/{url}' is claimed by both {claimed[url]} and {owner}",
                              "give one of them a different 'slug:' (or rename the file)")
        claimed.setdefault(url, owner)

    for page in sorted(site.articles, key=lambda p: p.article.path):
        claim(page.url, page.article.path,
              Mention("", page.article.path, page.article.slug_position))
        for alias in page.article.aliases:
            claim(alias, f"{page.article.path} (alias)",
                  Mention("", page.article.path, page.article.slug_position))
    for company in site.companies:
        claim(company.url, company.entry.path if company.entry else f"company '{company.name}'")
    for topic in site.topics:
        claim(topic.url, topic.entry.path if topic.entry else f"topic '{topic.name}'")
    for edition in site.editions:
        claim(edition.url, edition.note.path if edition.note else f"edition {edition.key}")
