"""Templates → bytes. Builds the Jinja2 environment (site templates override the default
theme file by file), lists every page to write, renders them (in parallel on large sites)
and turns template failures into diagnostics pointing at the template file and line."""

from __future__ import annotations

import email.utils
import math
import multiprocessing
import os
import re
import sys
import traceback
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

import jinja2

from digest import depends
from digest.cache import BodyLost, MarkdownCache
from digest.config import Config, default_theme_path
from digest.content import display_path
from digest.errors import Diagnostic, Diagnostics
from digest.feeds import FEED_FILES, Feed, FeedEntry, company_feed, site_feed, topic_feed
from digest.links import resolve_body
from digest.model import ArchiveYear, ArticlePage, CompanyPage, Site
from digest.urls import (
    ARCHIVE,
    COMPANIES,
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

Progress = Callable[[int, int], None]
PARALLEL_THRESHOLD = 400  # pages; below it forking workers costs more than it saves
# Archives stay readable and small at any size (issue 8: no page over 200 KB at 10,000
# articles): a year page shows each month's newest headlines, a month page 100 articles.
YEAR_HEADLINES = 10
ARCHIVE_PER_PAGE = 100
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MODIFIED_AT = attrgetter("modified_at")  # ArticlePage → its lastmod's timestamp, at C speed
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


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    first: str
    last: str


def coverage_chart(counts: Sequence[Any], bar_width: int = 10, height: int = 48) -> Chart:
    """Geometry of the per-month coverage bar chart drawn as inline SVG."""
    peak = max((c.count for c in counts), default=0) or 1
    bars = []
    for index, c in enumerate(counts):
        bar_height = round(c.count / peak * (height - 2)) if c.count else 0
        label = f"{datetime(c.year, c.month, 1):%B %Y}: {c.count} article" + \
            ("" if c.count == 1 else "s")
        bars.append(Bar(index * bar_width, height - bar_height, bar_height, label))
    first = f"{datetime(counts[0].year, counts[0].month, 1):%b %Y}" if counts else ""
    last = f"{datetime(counts[-1].year, counts[-1].month, 1):%b %Y}" if counts else ""
    return Chart(max(len(bars) * bar_width, bar_width), height, bars, peak, first, last)


def news_article(page: ArticlePage, config: Config, urls: Urls) -> dict[str, Any]:
    """schema.org NewsArticle for the article's JSON-LD block."""
    article = page.article
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": article.title, "description": article.summary,
        "datePublished": page.local_date.isoformat(),
        "dateModified": (page.local_updated or page.local_date).isoformat(),
        "mainEntityOfPage": urls.absolute(page.url), "url": urls.absolute(page.url),
        "publisher": {"@type": "Organization", "name": config.title,
                      "url": urls.absolute(HOME)},
        "about": [{"@type": "Organization", "name": c.name, "url": urls.absolute(c.url),
                   **({"sameAs": c.entry.website} if c.entry and c.entry.website else {})}
                  for c in page.companies],
        "keywords": [t.name for t in page.topics],
        "inLanguage": article.lang or config.language,
    }
    if article.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in article.authors]
    if article.source and article.source.url:
        data["isBasedOn"] = article.source.url
    return data


class BodyResolver:
    """Article bodies as pages and feeds show them: links between articles become their
    URLs and the base path is applied (links.py). Bodies come from the Markdown store;
    `fetch` loads the ones a set of outputs needs when this process renders them."""

    def __init__(self, site: Site, store: MarkdownCache, urls: Urls) -> None:
        self.store = store
        self.urls = urls
        self.by_source = site.by_source
        self.articles_dir = f"{site.config.content_dir}/articles/"

    def fetch(self, outputs: Sequence[Output]) -> None:
        self.store.fetch(key for output in outputs for key in output.bodies)

    def html(self, page: ArticlePage, absolute: bool = False) -> str:
        return resolve_body(self.store.get(page.article.body).html, page.article.path,
                            self.by_source, self.articles_dir, self.urls, absolute)

    def feed_html(self, entry: FeedEntry) -> str:
        return self.html(entry.content, absolute=True) if entry.content else ""


def by_initial(companies: Sequence[CompanyPage]) -> list[tuple[str, list[CompanyPage]]]:
    """A-Z groups for the company index; names not starting with A-Z go under '#'."""
    groups: dict[str, list[CompanyPage]] = {}
    for company in companies:
        initial = company.name[:1].upper()
        groups.setdefault(initial if "A" <= initial <= "Z" else "#", []).append(company)
    return sorted(groups.items())


def format_dateline(moment: datetime, with_time: bool = True) -> str:
    text = f"{moment.day} {moment:%B %Y}"
    if with_time and (moment.hour or moment.minute):
        text += f", {moment:%H:%M} {moment.tzname()}"
    return text


def make_environment(config: Config, urls: Urls, bodies: BodyResolver) -> jinja2.Environment:
    search_path = [str(config.templates_path), str(default_theme_path())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(config=config, url=urls.path, absolute_url=urls.absolute,
                       coverage_chart=coverage_chart, by_initial=by_initial,
                       event_labels=EVENT_LABELS, body_html=bodies.html,
                       content_html=bodies.feed_html)
    env.filters["dateline"] = format_dateline
    env.filters["isoformat"] = lambda moment: moment.isoformat()
    env.filters["rfc822"] = lambda moment: email.utils.format_datetime(moment)
    env.globals["news_article"] = lambda page: news_article(page, config, urls)
    return env


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
    fraction of the time of 25,000 small objects): each output's file, kind, template
    and lastmod (a timestamp; NaN for none); where each unit's outputs start (the tail
    is the last unit); the positions of the articles each unit shows."""

    files: list[str]
    kinds: list[str]
    templates: list[str]
    lastmods: array[float]
    starts: array[int]  # unit u: outputs starts[u]:starts[u + 1]
    shows: array[int]
    show_starts: array[int]  # unit u: shows[show_starts[u]:show_starts[u + 1]]

    def outputs_of(self, unit: int) -> range:
        return range(self.starts[unit], self.starts[unit + 1])

    def lastmods_of(self, unit: int) -> list[float | None]:
        return [None if math.isnan(self.lastmods[n]) else self.lastmods[n]
                for n in self.outputs_of(unit)]


def lastmods(outputs: Sequence[Output]) -> list[float | None]:
    return [o.lastmod.timestamp() if o.lastmod else None for o in outputs]


class OutputPlan:
    """Every page, feed and machine-readable file of the site, in a stable order, each
    with what it shows (`depends`) for incremental builds. Made in units (an article's
    page, a page of a list, a feed's three files…), each remembering which articles it
    shows, so that after edited articles were put into the model in place
    (model.patch_site) only the units that show one of them are made again: in serve's
    kept plan, or in one `saved` by the last CLI build (snapshot.py), whose units stay
    unmade until they are needed."""

    def __init__(self, site: Site, urls: Urls, memo: depends.HashMemo | None = None,
                 saved: SavedPlan | None = None) -> None:
        self.site = site
        self.urls = urls
        self.shows = depends.Depends(site, memo, every_card=saved is None)
        self.recipes = self.list_recipes()
        self.units: list[list[Output] | None] = []
        self.shown: list[set[int]] = []  # per unit: ids of the article pages it shows
        self.saved = saved  # what the units not made yet are
        self.tail: list[Output] | None = None
        self.salt = b""  # of the fingerprints below (build.py)
        self.fingerprints: dict[str, bytes] = {}
        if saved is None:
            for recipe in self.recipes:
                self.shows.seen = set()
                self.units.append(recipe())
                self.shown.append(self.shows.seen)
            self.tail = self.make_tail()
            return
        if len(saved.starts) != len(self.recipes) + 2:
            raise ValueError("the saved plan is not this model's")
        pages = site.articles
        self.units = [None] * len(self.recipes)
        shows, bounds = saved.shows, saved.show_starts
        self.shown = [{id(pages[p]) for p in shows[bounds[u]:bounds[u + 1]]}
                      for u in range(len(self.recipes))]

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
        position = {id(page): number for number, page in enumerate(self.site.articles)}
        files: list[str] = []
        kinds: list[str] = []
        templates: list[str] = []
        moments: list[float] = []
        starts, shows, show_starts = array("i", [0]), array("i"), array("i", [0])
        for number, unit in enumerate([*self.units, self.tail]):
            shown = self.shown[number] if number < len(self.shown) else set()
            if unit is not None:
                files += [output_file(o.site_path) for o in unit]
                kinds += [o.kind for o in unit]
                templates += [o.template for o in unit]
                moments += [math.nan if m is None else m for m in lastmods(unit)]
                shows.extend(sorted(position[key] for key in shown))
            else:
                assert self.saved is not None
                span = self.saved.outputs_of(number)
                files += self.saved.files[span.start:span.stop]
                kinds += self.saved.kinds[span.start:span.stop]
                templates += self.saved.templates[span.start:span.stop]
                moments += self.saved.lastmods[span.start:span.stop]
                bounds = self.saved.show_starts
                shows.extend(self.saved.shows[bounds[number]:bounds[number + 1]])
            starts.append(len(files))
            show_starts.append(len(shows))
        return SavedPlan(files, kinds, templates, array("d", moments), starts, shows,
                         show_starts)

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
        """The sitemap lists every page with a lastmod; robots.txt comes last."""
        self.make([number for number, unit in enumerate(self.units) if unit is None])
        dated = [output for unit in self.units if unit for output in unit
                 if output.lastmod is not None]
        return [*sitemap_outputs(dated, self.urls), Output(ROBOTS, "other", "robots.txt", {})]

    def make(self, numbers: Iterable[int]) -> list[Output]:
        """Make the units `numbers` (again); their outputs."""
        made: list[Output] = []
        for number in numbers:
            self.shows.seen = set()
            self.units[number] = unit = self.recipes[number]()
            self.shown[number] = self.shows.seen
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

    def refresh(self, edited: Sequence[ArticlePage]) -> list[Output]:
        """Make again the units that show an edited article (patched in place, same
        shape); the outputs made again, whose fingerprints are due."""
        ids = {id(page) for page in edited}
        for page in edited:
            self.shows.refresh(page)
        numbers = [number for number, shown in enumerate(self.shown) if not shown.isdisjoint(ids)]
        before = [lastmods(unit) if unit is not None
                  else self.saved.lastmods_of(number) if self.saved is not None else []
                  for number, unit in ((n, self.units[n]) for n in numbers)]
        remade = self.make(numbers)
        after = [lastmods(unit) for unit in (self.units[n] for n in numbers) if unit]
        if before != after:  # not with an unchanged shape, but the sitemap must never lag
            self.tail = self.make_tail()
            remade += self.tail
        return remade

    def list_recipes(self) -> list[Recipe]:
        site, urls, shows = self.site, self.urls, self.shows
        per_page = site.config.per_page

        def listing(path: str, kind: str, template: str, p: Pagination,
                    context: dict[str, Any], subject: object = ()) -> Output:
            shown = (subject, p.number, p.total, p.previous_url, p.next_url,
                     shows.listing(p.items))
            return Output(path, kind, template, {**context, "pagination": p},
                          newest(p.items), shown)

        # A list's pages are a unit each: an edited article remakes the one it is on.
        def pages(first: str, items: Sequence[ArticlePage], per: int, kind: str,
                  template: str, context: dict[str, Any], subject: object = ()
                  ) -> list[Recipe]:
            return [partial(lambda path, p: [listing(path, kind, template, p, context,
                                                     subject)], path, p)
                    for path, p in paginate(first, items, per)]

        def article(page: ArticlePage) -> Recipe:
            return lambda: [Output(page.url, "article", "article.html", {"page": page},
                                   page.modified, shows.article(page), (page.article.body,))]

        latest = newest(site.articles)  # the index pages' lastmod

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

        def year(value: ArchiveYear) -> list[Recipe]:
            recipes: list[Recipe] = [lambda: [Output(
                value.url, "archive", "archive_year.html",
                {"year": value, "headlines": YEAR_HEADLINES},
                newest([p for m in value.months for p in m.articles]),
                shows.archive_year(value, YEAR_HEADLINES))]]
            for month in value.months:
                recipes += pages(month.url, month.articles, ARCHIVE_PER_PAGE, "archive",
                                 "archive_month.html", {"year": value, "month": month},
                                 (value.year, value.url, month.month, len(month.articles)))
            return recipes

        def feed(make_feed: Callable[[], Feed]) -> Recipe:
            return lambda: feed_outputs(make_feed(), shows)

        def aliases(page: ArticlePage) -> Recipe:
            return lambda: [Output(alias, "other", "redirect.html", {"target": page}, None,
                                   shows.card(page)) for alias in page.article.aliases]

        recipes = pages(HOME, site.articles, per_page, "list", "index.html", {})
        recipes += [article(page) for page in site.articles]
        recipes.append(topics)
        for topic in site.topics:
            recipes += pages(topic.url, topic.articles, per_page, "topic", "topic.html",
                             {"topic": topic}, depends.topic(topic))
        recipes += [companies, *(company(page) for page in site.companies)]
        recipes.append(archive)
        for value in site.years:
            recipes += year(value)
        recipes.append(feed(lambda: site_feed(site, urls)))
        recipes += [feed(partial(topic_feed, page, site, urls)) for page in site.topics]
        recipes += [feed(partial(company_feed, page, site, urls, EVENT_LABELS))
                    for page in site.companies]
        recipes += [aliases(page) for page in site.articles if page.article.aliases]
        if site.config.search:
            recipes.append(lambda: [Output(SEARCH, "other", "search.html", {})])
        recipes.append(lambda: [Output(NOT_FOUND, "other", "404.html", {})])
        return recipes


def list_outputs(site: Site, urls: Urls, memo: depends.HashMemo | None = None
                 ) -> list[Output]:
    return OutputPlan(site, urls, memo).outputs


def feed_outputs(feed: Feed, shows: depends.Depends) -> list[Output]:
    shown = shows.feed(feed)
    bodies = tuple(e.content.article.body for e in feed.entries if e.content)
    return [Output(feed_path(feed.folder, name), "feed", f"feeds/{name}", {"feed": feed},
                   None, shown, bodies)
            for name in FEED_FILES.values()]


SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)


def sitemap_outputs(pages: list[Output], urls: Urls) -> list[Output]:
    """sitemap.xml, or past 50,000 URLs a sitemap index over sitemap-N.xml files."""
    entries = [(urls.absolute(o.site_path), o.lastmod) for o in pages]
    if len(entries) <= SITEMAP_LIMIT:
        return [Output(SITEMAP, "other", "sitemap.xml", {"entries": entries}, None,
                       shown_entries(entries))]
    parts = [entries[i:i + SITEMAP_LIMIT] for i in range(0, len(entries), SITEMAP_LIMIT)]
    outputs = [Output(sitemap_part_path(n), "other", "sitemap.xml", {"entries": part}, None,
                      shown_entries(part))
               for n, part in enumerate(parts, start=1)]
    index = [(urls.absolute(o.site_path), max(m for _, m in part if m))
             for o, part in zip(outputs, parts, strict=True)]
    return [*outputs, Output(SITEMAP, "other", "sitemap_index.xml", {"entries": index}, None,
                             shown_entries(index))]


def shown_entries(entries: Sequence[tuple[str, datetime | None]]) -> tuple[Any, ...]:
    return tuple((url, depends.iso(moment)) for url, moment in entries)


def template_diagnostic(error: BaseException, root: Path, template: str) -> Diagnostic:
    """Point at the template file and line, whatever Jinja2 raised."""
    if isinstance(error, jinja2.TemplateSyntaxError) and error.filename:
        return Diagnostic(display_path(Path(error.filename), root), error.lineno or 0, 0,
                          f"template syntax error: {error.message}",
                          hint="see https://jinja.palletsprojects.com/templates/")
    # Runtime errors: Jinja2 rewrites tracebacks so template frames carry template lines.
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.endswith((".html", ".xml", ".txt", ".json"))]
    path, line = (display_path(Path(frames[-1].filename), root), frames[-1].lineno or 0) \
        if frames else (f"templates/{template}", 0)
    if isinstance(error, jinja2.TemplateNotFound):
        return Diagnostic(path, line, 0, f"template '{error.name}' not found",
                          hint="add it to the site's templates/ folder, or fix the name that "
                               "includes or extends it")
    hint = None
    if isinstance(error, jinja2.UndefinedError):
        hint = "check the spelling; docs/TEMPLATES.md lists what each page's template gets"
    return Diagnostic(path, line, 0, f"template error: {error}", hint=hint)


class Sink(Protocol):
    """Where rendered pages go (output.Staging or output.TwinUpdate)."""

    def write(self, relative: str, data: bytes) -> None: ...


@runtime_checkable
class WorkerSink(Sink, Protocol):
    """A sink a forked worker can write into (output.Staging): `put` does the file I/O
    and says whether the bytes changed, `record` notes it in the parent."""

    def put(self, relative: str, data: bytes) -> bool: ...

    def record(self, relative: str, changed: bool) -> None: ...


# Work shared with forked workers: set before the pool starts, inherited, never pickled.
_WORK: tuple[jinja2.Environment, list[Output], Path, WorkerSink | None] | None = None


def _render_one(index: int) -> tuple[int, bytes | bool | Diagnostic]:
    """A page's bytes, or, when the worker wrote it itself, whether it changed."""
    assert _WORK is not None
    env, outputs, root, sink = _WORK
    output = outputs[index]
    try:
        html = env.get_template(output.template).render(output.context, page_url=output.site_path)
        if output.template.endswith(".xml"):
            # XML 1.0 has no place for most control characters: one NUL pasted into a
            # headline would make every feed unreadable.
            html = NOT_XML.sub("", html)
        data = html.encode("utf-8")
    except BodyLost:
        raise  # not the template's fault: the build starts over (build.py)
    except Exception as error:  # any template failure becomes a diagnostic, never a traceback
        return index, template_diagnostic(error, root, output.template)
    # Writing where the page was rendered spares the parent 240 MB through a pipe and
    # 17,000 file creations at 10,000 articles (it was the busiest of three processes
    # on two cores).
    return index, data if sink is None else sink.put(output_file(output.site_path), data)


def render_outputs(site: Site, urls: Urls, bodies: BodyResolver, outputs: list[Output],
                   diagnostics: Diagnostics, sink: Sink,
                   progress: Progress | None = None) -> None:
    """Render `outputs` into `sink`, each page written as soon as it is ready (so a
    100,000-page site is never held in memory at once), by forked workers on large
    sites; template errors go to `diagnostics`, each distinct one once."""
    global _WORK
    use_pool = len(outputs) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) > 1 \
        and sys.platform == "linux"
    if not use_pool:  # workers read the bodies they need from the store themselves
        bodies.fetch(outputs)
    in_workers = sink if use_pool and isinstance(sink, WorkerSink) else None
    _WORK = (make_environment(site.config, urls, bodies), outputs, site.config.root,
             in_workers)
    seen: set[Diagnostic] = set()
    try:
        if use_pool:
            with multiprocessing.get_context("fork").Pool() as pool:
                stream = pool.imap_unordered(_render_one, range(len(outputs)), chunksize=64)
                collect(stream, outputs, sink, seen, progress)
        else:
            collect(map(_render_one, range(len(outputs))), outputs, sink, seen, progress)
    finally:
        _WORK = None
        diagnostics.extend(sorted(seen, key=Diagnostic.sort_key))


def collect(stream: Iterator[tuple[int, bytes | bool | Diagnostic]], outputs: list[Output],
            sink: Sink, seen: set[Diagnostic], progress: Progress | None) -> None:
    for done, (index, result) in enumerate(stream, start=1):
        relative = output_file(outputs[index].site_path)
        if isinstance(result, Diagnostic):
            seen.add(result)
        elif isinstance(result, bool):  # written by the worker
            cast(WorkerSink, sink).record(relative, result)
        else:
            sink.write(relative, result)
        if progress and (done % 50 == 0 or done == len(outputs)):
            progress(done, len(outputs))
