"""Every output of a site — page, feed, sitemap — with what it shows (`depends`), in
units that remember which articles they show (issue 8): what render.py renders and
build.py fingerprints. A unit is an article's page, one page of a list, a feed's three
files; after edited articles were put into the model in place (model.patch_site) only
the units that show one of them are made again."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property, partial
from operator import attrgetter
from typing import Any

from digest import depends
from digest.editions import Edition, edition_groups
from digest.feeds import FEED_FILES, Feed, company_feed, editions_feed, site_feed, topic_feed
from digest.model import (
    ArchiveYear,
    ArticlePage,
    CompanyPage,
    Site,
    TopicPage,
    topic_year_per_page,
    topic_years,
)
from digest.refile import Refiling
from digest.urls import (
    ARCHIVE,
    COMPANIES,
    EDITIONS,
    EMAIL_HTML,
    EMAIL_TEXT,
    HOME,
    NOT_FOUND,
    ROBOTS,
    SEARCH,
    SITEMAP,
    TOPICS,
    Urls,
    feed_path,
    output_file,
    paged_path,
    sitemap_part_path,
)

# Archives stay readable and small at any size (issue 8: no page over 200 KB at 10,000
# articles): a year page shows each month's newest headlines, a month page 100 articles.
YEAR_HEADLINES = 10
ARCHIVE_PER_PAGE = 100
EDITIONS_PER_PAGE = 20
# "Latest" stops after this many pages (500 articles by default); older news is in the
# archive, by month. At 10,000 articles the 950 pages past it were 9.5 MB nobody reads.
LATEST_PAGES = 50
# An email edition aims below this many bytes: Gmail clips a message past 102,400, and
# sending services add tracking links (render.py shortens the list to fit).
EMAIL_BUDGET = 80_000
MODIFIED_AT = attrgetter("modified_at")  # ArticlePage → its lastmod's timestamp, at C speed
FIRST_FEED_FILE = next(iter(FEED_FILES.values()))  # a feed unit's key (feed_outputs)
EVENT_LABELS = {"article": "Report", "ipo": "IPO", "earnings": "Earnings",
                "acquisition": "Acquisition", "restructuring": "Restructuring",
                "regulation": "Regulation", "funding": "Funding", "partnership": "Partnership",
                "leadership": "Leadership", "product": "Product", "other": "Event"}


@dataclass(frozen=True)
class Output:
    site_path: str  # "topics/ipo/", "404.html"
    kind: str  # for the build summary: article, topic, company, archive, list, feed, other
    template: str
    context: dict[str, Any]
    lastmod: datetime | None = None  # set on pages listed in the sitemap
    depends: object = ()  # what the page shows (depends.py): its fingerprint's input
    bodies: tuple[str, ...] = ()  # keys of the article bodies it shows


@dataclass(frozen=True)
class Pagination:
    items: Sequence[ArticlePage]
    number: int
    total: int
    previous_url: str | None
    next_url: str | None


def paginate(first_page: str, items: Sequence[ArticlePage], per_page: int
             ) -> Iterator[tuple[str, Pagination]]:
    total = max(1, -(-len(items) // per_page))
    for number in range(1, total + 1):
        yield paged_path(first_page, number), Pagination(
            items[(number - 1) * per_page: number * per_page], number, total,
            paged_path(first_page, number - 1) if number > 1 else None,
            paged_path(first_page, number + 1) if number < total else None,
        )


def newest(pages: Sequence[ArticlePage]) -> datetime | None:
    newest_page = max(pages, key=MODIFIED_AT, default=None)
    return newest_page.modified if newest_page is not None else None


Recipe = Callable[[], list[Output]]


@dataclass(frozen=True)
class SavedPlan:
    """A plan's units without their outputs, in columns (a few arrays pickle in a
    fraction of the time of 25,000 small objects): each output's site path, kind,
    template and lastmod (ISO form, as the sitemap shows it; "" for none); where each
    unit's outputs start (the tail is the last unit); the positions of the articles
    each unit shows."""

    paths: list[str]
    kinds: list[str]
    templates: list[str]
    moments: list[str]
    starts: array[int]  # unit u: outputs starts[u]:starts[u + 1]
    shows: array[int]
    show_starts: array[int]  # unit u: shows[show_starts[u]:show_starts[u + 1]]

    @cached_property
    def files(self) -> list[str]:
        return [output_file(path) for path in self.paths]

    def outputs_of(self, unit: int) -> range:
        return range(self.starts[unit], self.starts[unit + 1])

    def lastmods_of(self, unit: int) -> list[str]:
        return self.moments[self.starts[unit]:self.starts[unit + 1]]

    def carried(self, mapping: list[int | None]) -> SavedPlan:
        """The units in a new order: unit n is the old unit mapping[n], or an empty
        one (no outputs, shows nothing) for None (OutputPlan.carry_map)."""
        columns = Columns()
        for old in mapping:
            if old is not None:
                columns.add_saved(self, old)
            columns.end_unit()
        return columns.plan()


class Columns:
    """A SavedPlan being written unit by unit, from made units or saved ones."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.kinds: list[str] = []
        self.templates: list[str] = []
        self.moments: list[str] = []
        self.starts, self.shows, self.show_starts = array("i", [0]), array("i"), array("i", [0])

    def add_made(self, unit: list[Output], shown: array[int]) -> None:
        self.paths += [o.site_path for o in unit]
        self.kinds += [o.kind for o in unit]
        self.templates += [o.template for o in unit]
        self.moments += lastmods(unit)
        self.shows.extend(shown)

    def add_saved(self, saved: SavedPlan, unit: int) -> None:
        span = slice(saved.starts[unit], saved.starts[unit + 1])
        self.paths += saved.paths[span]
        self.kinds += saved.kinds[span]
        self.templates += saved.templates[span]
        self.moments += saved.moments[span]
        self.shows.extend(saved.shows[saved.show_starts[unit]:saved.show_starts[unit + 1]])

    def end_unit(self) -> None:
        self.starts.append(len(self.paths))
        self.show_starts.append(len(self.shows))

    def plan(self) -> SavedPlan:
        return SavedPlan(self.paths, self.kinds, self.templates, self.moments, self.starts,
                         self.shows, self.show_starts)


def lastmods(outputs: Sequence[Output]) -> list[str]:
    return [o.lastmod.isoformat() if o.lastmod else "" for o in outputs]


class OutputPlan:
    """Every page, feed and machine-readable file of the site, in a stable order, each
    with what it shows (`depends`) for incremental builds. Made in units (an article's
    page, a page of a list, a feed's three files…), each remembering which articles it
    shows, so that after edited articles were put into the model in place
    (model.patch_site) only the units that show one of them are made again: in serve's
    kept plan, or in one `saved` by the last CLI build (snapshot.py), whose units stay
    unmade until they are needed."""

    def __init__(self, site: Site, urls: Urls, memo: depends.HashMemo | None = None,
                 saved: SavedPlan | None = None, relaid: bool = False) -> None:
        """`saved`: the units of the last build's plan, not made until needed;
        `relaid`: a refiling added, dropped or resized units since (refile.py)."""
        self.site = site
        self.urls = urls
        self.shows = depends.Depends(site, memo, every_card=saved is None)
        # unit numbers: each article's page (by position), each topic's list pages and
        # feed, the topic index (what a re-tagged article changes: refile.py)
        self.article_units: list[int] = []
        self.topic_units: dict[str, list[int]] = {}
        self.topics_unit = -1
        self.keys: list[str] = []  # each unit's first site path (list_recipes)
        # after a refiling re-laid the units: the new ones, and whether any were dropped
        self.unmatched: set[int] = set()
        self.dropped = False
        self.recipes = self.list_recipes()
        self.units: list[list[Output] | None] = []
        # per unit: positions (in site.articles) of the article pages it shows; arrays,
        # not sets: 240,000 units at 100,000 articles
        self.shown: list[array[int]] = []
        self.position = {id(page): number for number, page in enumerate(site.articles)}
        self.saved = saved  # what the units not made yet are
        self.tail: list[Output] | None = None
        self.salt = b""  # of the fingerprints below (build.py)
        self.fingerprints: dict[str, bytes] = {}
        if saved is None:
            self.units = [None] * len(self.recipes)
            self.shown = [array("i")] * len(self.recipes)
            self.make(range(len(self.recipes)))
            self.tail = self.make_tail()
            return
        if relaid:
            old_keys = [saved.paths[saved.starts[unit]] for unit in range(len(saved.starts) - 2)]
            saved = self.saved = saved.carried(self.carry_map(old_keys))
        if len(saved.starts) != len(self.recipes) + 2:
            raise ValueError("the saved plan is not this model's")
        self.units = [None] * len(self.recipes)
        shows, bounds = saved.shows, saved.show_starts
        self.shown = [shows[bounds[u]:bounds[u + 1]] for u in range(len(self.recipes))]

    @property
    def complete(self) -> bool:
        return self.tail is not None and all(unit is not None for unit in self.units)

    @property
    def outputs(self) -> list[Output]:
        """Every output; only for a plan whose units are all made."""
        assert self.complete and self.tail is not None
        return [output for unit in self.units if unit for output in unit] + self.tail

    def made(self) -> list[Output]:
        return [output for unit in self.units if unit for output in unit] + (self.tail or [])

    def save(self) -> SavedPlan:
        """The plan in columns, made units and saved ones alike (for snapshot.py)."""
        columns = Columns()
        for number, unit in enumerate([*self.units, self.tail]):
            if unit is not None:
                columns.add_made(unit, self.shown[number] if number < len(self.shown)
                                 else array("i"))
            else:
                assert self.saved is not None
                columns.add_saved(self.saved, number)
            columns.end_unit()
        return columns.plan()

    def files(self) -> list[tuple[str, str, str]]:
        """(file, kind, template) of every output, made or not."""
        found: list[tuple[str, str, str]] = []
        for number, unit in enumerate([*self.units, self.tail]):
            if unit is not None:
                found += [(output_file(o.site_path), o.kind, o.template) for o in unit]
            else:
                assert self.saved is not None
                span = self.saved.outputs_of(number)
                found += zip(self.saved.files[span.start:span.stop],
                             self.saved.kinds[span.start:span.stop],
                             self.saved.templates[span.start:span.stop], strict=True)
        return found

    def make_tail(self) -> list[Output]:
        """The sitemap lists every page with a lastmod; robots.txt comes last. Units
        not made are read from the saved plan (their lastmods as the sitemap shows
        them), so a changed lastmod does not make every unit."""
        dated: list[tuple[str, str]] = []  # (site path, lastmod as ISO 8601 text)
        for number, unit in enumerate(self.units):
            if unit is not None:
                dated += [(o.site_path, o.lastmod.isoformat()) for o in unit
                          if o.lastmod is not None]
                continue
            assert self.saved is not None
            paths, moments = self.saved.paths, self.saved.moments
            dated += [(paths[n], moments[n]) for n in self.saved.outputs_of(number)
                      if moments[n]]
        return [*sitemap_outputs(dated, self.urls), Output(ROBOTS, "other", "robots.txt", {})]

    def make(self, numbers: Iterable[int]) -> list[Output]:
        """Make the units `numbers` (again); their outputs."""
        made: list[Output] = []
        for number in numbers:
            self.shows.seen = set()
            self.units[number] = unit = self.recipes[number]()
            self.shown[number] = array("i", sorted(map(self.position.__getitem__,
                                                       self.shows.seen)))
            made += unit
        return made

    def make_files(self, files: set[str]) -> list[Output]:
        """Make the unmade units holding any of `files` (deleted from the site by hand,
        say); their outputs."""
        saved = self.saved
        if saved is None:
            return []

        def holds(unit: int) -> bool:
            span = saved.outputs_of(unit)
            return not files.isdisjoint(saved.files[span.start:span.stop])
        made = self.make([number for number, unit in enumerate(self.units)
                          if unit is None and holds(number)])
        if self.tail is None and holds(len(self.units)):
            self.tail = self.make_tail()
            made += self.tail
        return made

    def refresh(self, edited: Sequence[ArticlePage], refiling: Refiling | None = None
                ) -> list[Output]:
        """Make again the units that show an edited article (patched in place, same
        shape), and after `refiling` (refile.py) those of the topics articles joined or
        left and of the articles whose related list changed; the outputs made again,
        whose fingerprints are due."""
        wanted = {self.position[id(page)] for page in edited}
        for page in edited:
            self.shows.refresh(page)
        if refiling is not None and not refiling.listed:
            old_keys = self.keys
            self.recipes = self.list_recipes()  # (recipes of a list hold its pages)
            if refiling.relaid:
                self.carry_over(self.carry_map(old_keys))
        due = {number for number, shown in enumerate(self.shown)
               if not wanted.isdisjoint(shown)}
        if refiling is not None:
            due.add(self.topics_unit)
            for slug in refiling.topics:
                due.update(self.topic_units.get(slug, ()))
            due.update(self.article_units[position] for position in refiling.related)
        due |= self.unmatched
        numbers = sorted(due)
        before = [lastmods(unit) if unit is not None
                  else self.saved.lastmods_of(number) if self.saved is not None else []
                  for number, unit in ((n, self.units[n]) for n in numbers)]
        remade = self.make(numbers)
        after = [lastmods(unit) for unit in (self.units[n] for n in numbers) if unit]
        if before != after or self.dropped:  # (a re-tagged article moved a list's newest)
            self.tail = self.make_tail()
            remade += self.tail
        self.unmatched, self.dropped = set(), False
        return remade

    def carry_map(self, old_keys: list[str]) -> list[int | None]:
        """For each unit of this plan (the tail last), the unit of the plan before a
        refiling with its key, or None for a new one (`unmatched`, made again);
        `dropped` when an old unit has no successor (the sitemap changes)."""
        at = {key: number for number, key in enumerate(old_keys)}
        mapping = [at.get(key) for key in self.keys]
        self.unmatched = {number for number, old in enumerate(mapping) if old is None}
        self.dropped = len(mapping) - len(self.unmatched) < len(old_keys)
        return [*mapping, len(old_keys)]

    def carry_over(self, mapping: list[int | None]) -> None:
        """Re-number this plan's units after a refiling re-laid them (`carry_map`); the
        new ones are left to be made."""
        units, shown = self.units, self.shown
        self.units = [None if old is None else units[old] for old in mapping[:-1]]
        self.shown = [array("i") if old is None else shown[old] for old in mapping[:-1]]
        if self.saved is not None:
            self.saved = self.saved.carried(mapping)

    def list_recipes(self) -> list[Recipe]:
        """Every unit's recipe, in the plan's order; `self.keys` gets each unit's key
        (its first output's site path), by which a refiling carries units over."""
        site, urls, shows = self.site, self.urls, self.shows
        per_page = site.config.per_page
        recipes: list[Recipe] = []
        keys: list[str] = []

        def add(key: str, recipe: Recipe) -> int:
            recipes.append(recipe)
            keys.append(key)
            return len(recipes) - 1

        def listing(path: str, kind: str, template: str, p: Pagination,
                    context: dict[str, Any], subject: object = (),
                    lastmod: Sequence[ArticlePage] | None = None) -> Output:
            shown = (subject, p.number, p.total, p.previous_url, p.next_url,
                     shows.listing(p.items))
            return Output(path, kind, template, {**context, "pagination": p},
                          newest(p.items if lastmod is None else lastmod), shown)

        # A list's pages are a unit each: an edited article remakes the one it is on.
        # `whole`: each page's lastmod is the newest of all `items` (as Hugo dates a
        # list), not of its own: an article added or re-tagged into a topic's year shifts
        # the year's later pages, and the sitemap (11,000 URLs at 10k) would change with
        # each of their newest articles.
        def pages(first: str, items: Sequence[ArticlePage], per: int, kind: str,
                  template: str, context: dict[str, Any], subject: object = (),
                  whole: bool = False) -> range:
            start = len(recipes)
            for path, p in paginate(first, items, per):
                add(path, partial(lambda path, p: [listing(
                    path, kind, template, p, context, subject, items if whole else None)],
                    path, p))
            return range(start, len(recipes))

        def article(page: ArticlePage) -> Recipe:
            return lambda: [Output(page.url, "article", "article.html",
                                   {"page": page, "edition": site.edition_of(page)},
                                   page.modified, shows.article(page), (page.article.body,))]

        group_by = site.config.edition_group

        def edition(issue: Edition) -> Recipe:
            def make() -> list[Output]:
                outputs = edition_outputs(issue, group_by)
                shown = shows.edition(issue, outputs[0].context["groups"])
                return [replace(output, depends=shown) for output in outputs]
            return make

        def editions_index(items: Sequence[Edition]) -> None:
            total = max(1, -(-len(items) // EDITIONS_PER_PAGE))
            for number in range(1, total + 1):
                path = paged_path(EDITIONS, number)
                chunk = items[(number - 1) * EDITIONS_PER_PAGE: number * EDITIONS_PER_PAGE]
                p = Pagination([], number, total,
                               paged_path(EDITIONS, number - 1) if number > 1 else None,
                               paged_path(EDITIONS, number + 1) if number < total else None)
                add(path, partial(lambda path, p, chunk: [Output(
                    path, "list", "editions.html", {"editions": chunk, "pagination": p},
                    newest([a for e in chunk for a in e.articles]) or latest,
                    (p.number, p.total, p.previous_url, p.next_url,
                     tuple(depends.edition_summary(e) for e in chunk)))], path, p, chunk))

        latest = newest(site.articles)  # the index pages' lastmod

        def topic_pages(topic: TopicPage) -> list[int]:
            """A topic's page (its newest articles, its years), and each year's pages
            (model.topic_years): the units a re-tagged article may change."""
            items = topic.articles[:per_page]
            years = topic_years(topic.slug, topic.articles, per_page)
            summary = tuple((y.year, y.url, len(y.articles)) for y in years)
            units = [add(topic.url, lambda: [Output(
                topic.url, "topic", "topic.html",
                {"topic": topic, "items": items, "years": years}, newest(items),
                (depends.topic(topic), summary, shows.listing(items)))])]
            for number, value in enumerate(years):
                newer = years[number - 1] if number > 0 else None
                older = years[number + 1] if number + 1 < len(years) else None
                # what the year's pages show of the topic: not its count, which every
                # article added to another year would change
                subject = (topic.slug, topic.name, topic.url, value.year, len(value.articles),
                           *((y.year, y.url) if y else None for y in (newer, older)))
                units += pages(value.url, value.articles, topic_year_per_page(per_page),
                               "topic", "topic_year.html", {"topic": topic, "year": value,
                                                            "newer": newer, "older": older},
                               subject, whole=True)
            return units

        def topics() -> list[Output]:
            return [Output(TOPICS, "list", "topics.html", {"topics": site.topics}, latest,
                           tuple(depends.topic(t) for t in site.topics))]

        def companies() -> list[Output]:
            return [Output(COMPANIES, "list", "companies.html", {"companies": site.companies},
                           latest, tuple(depends.company_summary(c) for c in site.companies))]

        def company(page: CompanyPage) -> Recipe:
            return lambda: [Output(page.url, "company", "company.html", {"company": page},
                                   newest(page.articles), shows.company(page))]

        def archive() -> list[Output]:
            return [Output(ARCHIVE, "list", "archive.html", {"years": site.years}, latest,
                           depends.archive_index(site.years))]

        def year(value: ArchiveYear) -> None:
            add(value.url, lambda: [Output(
                value.url, "archive", "archive_year.html",
                {"year": value, "headlines": YEAR_HEADLINES},
                newest([p for m in value.months for p in m.articles]),
                shows.archive_year(value, YEAR_HEADLINES))])
            for month in value.months:
                pages(month.url, month.articles, ARCHIVE_PER_PAGE, "archive",
                      "archive_month.html", {"year": value, "month": month},
                      (value.year, value.url, month.month, len(month.articles)))

        def feed(folder: str, make_feed: Callable[[], Feed]) -> int:
            return add(feed_path(folder, FIRST_FEED_FILE),
                       lambda: feed_outputs(make_feed(), shows))

        def aliases(page: ArticlePage) -> Recipe:
            return lambda: [Output(alias, "other", "redirect.html", {"target": page}, None,
                                   shows.card(page)) for alias in page.article.aliases]

        lead = site.editions[0] if site.editions else None
        recent = site.articles[:LATEST_PAGES * per_page]
        older = len(site.articles) > len(recent)  # the last page points to the archive
        pages(HOME, recent, per_page, "list", "index.html",
              {"latest_edition": lead, "older_in_archive": older},
              (depends.edition_summary(lead) if lead else (), older))
        self.article_units = [add(page.url, article(page)) for page in site.articles]
        self.topics_unit = add(TOPICS, topics)
        for topic in site.topics:
            self.topic_units[topic.slug] = topic_pages(topic)
        add(COMPANIES, companies)
        for listed in site.companies:
            add(listed.url, company(listed))
        add(ARCHIVE, archive)
        for value in site.years:
            year(value)
        if site.config.editions:
            editions_index(site.editions)
            for issue in site.editions:
                add(issue.url, edition(issue))
        feed("", lambda: site_feed(site, urls))
        if site.config.editions:
            feed(EDITIONS, lambda: editions_feed(site, urls))
        for topic in site.topics:
            self.topic_units[topic.slug].append(
                feed(topic.url, partial(topic_feed, topic, site, urls)))
        for listed in site.companies:
            feed(listed.url, partial(company_feed, listed, site, urls, EVENT_LABELS))
        for page in site.articles:
            if page.article.aliases:
                add(page.article.aliases[0], aliases(page))
        if site.config.search:
            add(SEARCH, lambda: [Output(SEARCH, "other", "search.html", {})])
        add(NOT_FOUND, lambda: [Output(NOT_FOUND, "other", "404.html", {})])
        self.keys = keys
        return recipes


def edition_outputs(issue: Edition, group_by: str) -> list[Output]:
    """An edition's unit of three files: its page, its email (kept within its byte
    budget) and the email's text; `digest edition` renders one of them."""
    context = {"edition": issue, "groups": edition_groups(issue, group_by)}
    return [Output(issue.url, "edition", "edition.html", context, newest(issue.articles)),
            Output(issue.url + EMAIL_HTML, "edition", "edition_email.html",
                   {**context, "budget": EMAIL_BUDGET}),
            Output(issue.url + EMAIL_TEXT, "edition", "edition_email.txt", context)]


def feed_outputs(feed: Feed, shows: depends.Depends) -> list[Output]:
    shown = shows.feed(feed)
    bodies = tuple(e.content.article.body for e in feed.entries if e.content)
    return [Output(feed_path(feed.folder, name), "feed", f"feeds/{name}", {"feed": feed},
                   None, shown, bodies)
            for name in FEED_FILES.values()]


SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)


def sitemap_outputs(pages: list[tuple[str, str]], urls: Urls) -> list[Output]:
    """sitemap.xml, or past 50,000 URLs a sitemap index over sitemap-N.xml files, of
    (site path, lastmod) pairs. A lastmod is its ISO 8601 text throughout: the saved
    plan keeps it so, and the sitemap writes it so (parsing and formatting 11,000 of
    them again was most of remaking the sitemap at 10,000 articles)."""
    entries = [(urls.absolute(path), lastmod) for path, lastmod in pages]
    if len(entries) <= SITEMAP_LIMIT:
        return [Output(SITEMAP, "other", "sitemap.xml", {"entries": entries}, None,
                       tuple(entries))]
    parts = [entries[i:i + SITEMAP_LIMIT] for i in range(0, len(entries), SITEMAP_LIMIT)]
    outputs = [Output(sitemap_part_path(n), "other", "sitemap.xml", {"entries": part}, None,
                      tuple(part))
               for n, part in enumerate(parts, start=1)]
    # (the newest by the instant: texts in different offsets do not sort by it)
    index = [(urls.absolute(o.site_path),
              max((m for _, m in part if m), key=datetime.fromisoformat))
             for o, part in zip(outputs, parts, strict=True)]
    return [*outputs, Output(SITEMAP, "other", "sitemap_index.xml", {"entries": index}, None,
                             tuple(index))]
