"""Templates → bytes. Builds the Jinja2 environment (site templates override the default
theme file by file), renders the outputs plan.py lists (in parallel on large sites) and
turns template failures into diagnostics pointing at the template file and line."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any, Protocol, cast, runtime_checkable
from urllib.parse import urljoin, urlsplit

import jinja2
from markupsafe import Markup, escape

from digest.cache import BodyLost, MarkdownCache
from digest.collector import ForkedWork, forked_pool, worth_a_pool
from digest.config import Config, default_theme_path
from digest.content import display_path
from digest.editions import NOUNS, THIS_PERIOD, Edition
from digest.errors import Diagnostic, Diagnostics
from digest.feeds import FeedEntry
from digest.links import ATTRIBUTE, resolve_body
from digest.markup import html_blocks
from digest.model import ArticlePage, CompanyPage
from digest.plan import EVENT_LABELS, Output
from digest.state import code_fingerprint
from digest.urls import (
    HOME,
    Urls,
    output_file,
)

Progress = Callable[[int, int], None]
PARALLEL_THRESHOLD = 400  # pages; below it forking workers costs more than it saves
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


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

    def __init__(self, by_source: Mapping[str, str], store: MarkdownCache, urls: Urls,
                 content_dir: str) -> None:
        """`by_source`: article file → site path (Site.by_source), for body links."""
        self.store = store
        self.urls = urls
        self.by_source = by_source
        self.articles_dir = f"{content_dir}/articles/"

    def fetch(self, outputs: Sequence[Output]) -> None:
        self.store.fetch(key for output in outputs for key in output.bodies)

    def html(self, page: ArticlePage, absolute: bool = False) -> str:
        return resolve_body(self.store.get(page.article.body).html, page.article.path,
                            self.by_source, self.articles_dir, self.urls, absolute)

    def feed_html(self, entry: FeedEntry) -> str:
        return self.html(entry.content, absolute=True) if entry.content else ""

    def note_html(self, edition: Edition, absolute: bool = False) -> str:
        """An edition's note as its page (or, `absolute`, its email and feed entry) shows
        it. Absolute means every link: one left relative (a file beside the note, which
        is not published, an anchor) is taken as the edition page's."""
        assert edition.note is not None
        html = resolve_body(edition.note.html, edition.note.path, self.by_source,
                            self.articles_dir, self.urls, absolute)
        if not absolute:
            return html
        page = self.urls.absolute(edition.url)

        def anchored(match: re.Match[str]) -> str:
            attribute, target = match.groups()
            if urlsplit(target).scheme or target.startswith("//"):
                return match[0]
            return f'{attribute}="{urljoin(page, target)}"'
        return ATTRIBUTE.sub(anchored, html)


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


def isoformat(moment: date | str) -> str:
    """A date's ISO 8601 text; text (a sitemap's lastmod) as it is."""
    return moment if isinstance(moment, str) else moment.isoformat()


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822(moment: datetime) -> str:
    """An RSS date (RFC 822/5322): what `email.utils.format_datetime` makes, English
    names whatever the locale; written out because importing the email package (and
    the socket module it pulls in) was a fiftieth of an edit's build."""
    zone = moment.strftime("%z") if moment.tzinfo is not None else "-0000"
    return (f"{DAYS[moment.weekday()]}, {moment.day:02d} {MONTHS[moment.month - 1]} "
            f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} "
            f"{zone}")


def dateline(page: ArticlePage) -> Markup:
    """An article's date as pages show it: `<time>` with its ISO form. A function, not a
    template macro: lists and related articles show it a dozen times a page, and a
    macro call each took a sixth of rendering an article page. Each date is formatted
    once a process: the key is everything the text is made of (two equal instants can
    read differently, in another timezone or on either side of a clock change). Pages
    that show an article share its date object: that object finds its dateline first
    (making the key took more than formatting saved, the dateline being on every card)."""
    moment = page.local_date
    has_time = page.article.has_time
    known = _SHOWN.get(id(moment))  # (the entry holds the object: its id stays its own)
    if known is not None and known[0] is moment and known[1] == has_time:
        return known[2]
    key = (moment.replace(tzinfo=None), moment.utcoffset(), moment.tzname(), has_time)
    made = _DATELINES.get(key)
    if made is None:
        if len(_DATELINES) >= 1 << 16:
            _DATELINES.clear()
            _SHOWN.clear()
        text = format_dateline(moment, has_time)
        made = _DATELINES[key] = Markup(
            f'<time datetime="{escape(moment.isoformat())}">{escape(text)}</time>')
    if len(_SHOWN) >= 1 << 16:
        _SHOWN.clear()
    _SHOWN[id(moment)] = (moment, has_time, made)
    return made


_DATELINES: dict[tuple[datetime, timedelta | None, str | None, bool], Markup] = {}
_SHOWN: dict[int, tuple[datetime, bool, Markup]] = {}


# Inline styles for the HTML of an editor's note inside an email edition: mail clients
# drop or ignore style sheets, so each element carries its own.
EMAIL_STYLES = {
    "p": "margin:0 0 12px 0;", "a": "color:#0b5cad;",
    "ul": "margin:0 0 12px 0;padding-left:20px;", "ol": "margin:0 0 12px 0;padding-left:20px;",
    "li": "margin:0 0 4px 0;", "blockquote": "margin:0 0 12px 0;padding-left:12px;"
    "border-left:3px solid #d9d9d9;", "h2": "margin:16px 0 8px 0;font-size:18px;",
    "h3": "margin:16px 0 8px 0;font-size:16px;", "h4": "margin:16px 0 8px 0;font-size:15px;",
    "table": "border-collapse:collapse;margin:0 0 12px 0;",
    "th": "border:1px solid #d9d9d9;padding:4px 8px;text-align:left;",
    "td": "border:1px solid #d9d9d9;padding:4px 8px;",
    "img": "max-width:100%;height:auto;", "pre": "white-space:pre-wrap;margin:0 0 12px 0;",
}
OPENING_TAG = re.compile(r"<(" + "|".join(EMAIL_STYLES) + r")(\s[^>]*?)?(/?)>")
# What mail must not carry, should a note's raw HTML hold it: scripts and their kin, and
# event handlers (an email has "no script").
UNMAILABLE = re.compile(r"<(script|style|iframe|object|embed)\b.*?</\1\s*>|"
                        r"<(?:script|iframe|object|embed)\b[^>]*>", re.I | re.S)
ANY_TAG = re.compile(r"<[a-zA-Z][^>]*>")
HANDLER = re.compile(r"""\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)


def inline_styles(html: str) -> Markup:
    """An HTML fragment for mail: each element's email style in its own `style`
    attribute (and a link's `class` for the dark scheme), unless it has one already;
    scripts, frames and event handlers dropped."""
    def styled(match: re.Match[str]) -> str:
        tag, attributes, closing = match[1], (match[2] or "").rstrip(), match[3]
        if "style=" in attributes:
            return match[0]
        extra = ' class="mail-link"' if tag == "a" and "class=" not in attributes else ""
        return f'<{tag}{attributes}{extra} style="{EMAIL_STYLES[tag]}"{closing}>'
    def unhandled(match: re.Match[str]) -> str:  # (handlers only inside a tag)
        return HANDLER.sub("", match[0])
    html = ANY_TAG.sub(unhandled, UNMAILABLE.sub("", html))
    return Markup(OPENING_TAG.sub(styled, html))


try:  # markupsafe's C escaping of a str into a str (what its escape wraps in Markup)
    from markupsafe._speedups import _escape_inner as escape_text
except ImportError:  # a markupsafe without its C speedups
    def escape_text(text: str, /) -> str:
        return str.__str__(escape(text))
_new_str = str.__new__


def quick_escape(value: object) -> Markup:
    """markupsafe.escape, as fast as it can be for what pages show most: a plain string
    becomes Markup without Markup's Python `__new__` (which only looks for `__html__`,
    which a plain string has not), and Markup is already escaped. Autoescaped output
    calls it for every `{{ ... }}`: 70 times an article page."""
    if type(value) is str:
        return _new_str(Markup, escape_text(value))
    if type(value) is Markup:
        return value
    return escape(value)


class BuildTemplate(jinja2.Template):
    """A template whose autoescaped output goes through quick_escape (rendering the
    bench's 10,000 article pages in one process: 1.88 → 1.69 s)."""

    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: CodeType,
                  globals: MutableMapping[str, Any],
                  uptodate: Callable[[], bool] | None = None) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        # The compiled module's functions (root, blocks, macros) read `escape` from the
        # module's namespace when they run; it was imported from jinja2.runtime.
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is escape:
            namespace["escape"] = quick_escape
        return template


class BuildEnvironment(jinja2.Environment):
    """A Jinja2 environment for one build: its templates and globals do not change
    while it renders, which spares each page what watching them costs."""

    template_class = BuildTemplate

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A plain dict where Jinja2 chains the template's globals to the environment's
        # (so that later changes to either show): every page's context and every macro
        # import walked the chain, 5% of rendering an article page.
        return {**self.globals, **(d or {})}


def make_environment(config: Config, urls: Urls, bodies: BodyResolver) -> jinja2.Environment:
    search_path = [str(config.templates_path), str(default_theme_path())]
    env = BuildEnvironment(
        loader=jinja2.FileSystemLoader(search_path),
        auto_reload=False,  # (no stat of every template a page uses, for every page)
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=template_bytecode(config),
    )
    # JSON as compact as it can be: the JSON-LD of every article page (42 bytes fewer a
    # page, measured at 10,000 articles) and the JSON Feeds
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    env.globals.update(config=config, url=urls.path, absolute_url=urls.absolute,
                       dateline=dateline, coverage_chart=coverage_chart, by_initial=by_initial,
                       event_labels=EVENT_LABELS, body_html=bodies.html,
                       note_html=bodies.note_html, period_noun=NOUNS.get(config.editions, ""),
                       this_period=THIS_PERIOD.get(config.editions, ""))

    def content_html(entry: FeedEntry) -> str:
        """A feed entry's content: the article's body, or a whole edition."""
        if entry.edition is None:
            return bodies.feed_html(entry)
        return env.get_template("feeds/edition.html").render(edition=entry.edition,
                                                             groups=entry.groups)

    env.globals["content_html"] = content_html
    # `x|url` as well as `url(x)`: a filter is called directly, a global function through
    # the context's call (what it passes checked on each call), and a page makes dozens.
    # Taking the context keeps Jinja2 from folding `'topics/'|url` into a constant when
    # it compiles: the compiled template is cached across builds, base paths differ.
    @jinja2.pass_context
    def url_filter(_: jinja2.runtime.Context, path: str) -> str:
        return urls.path(path)

    @jinja2.pass_context
    def absolute_url_filter(_: jinja2.runtime.Context, path: str) -> str:
        return urls.absolute(path)

    env.filters["url"] = url_filter
    env.filters["absolute_url"] = absolute_url_filter
    env.filters["blocks"] = html_blocks
    env.filters["inline_styles"] = inline_styles
    env.filters["dateline"] = format_dateline
    env.filters["isoformat"] = isoformat
    env.filters["rfc822"] = rfc822
    env.globals["news_article"] = lambda page: news_article(page, config, urls)

    @cache
    def site_feed_links() -> Markup:
        """The site's feed links as the feed_links macro writes them: the same in the
        head of every page, so made once (the macro call, once a page, took a tenth of
        rendering an article page)."""
        macros: Any = env.get_template("_macros.html").module
        return cast(Markup, macros.feed_links(config.title, ""))

    env.globals["site_feed_links"] = site_feed_links
    return env


class TemplateBytecode(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in the cache folder: compiling them again took 0.05 s of
    every one-article rebuild and 0.12 s of a tag change (and once per worker process).
    Jinja2 keys them by the template's source and its own version, and writes them
    atomically; a folder it cannot write only costs the compiling. What a template
    compiles to also depends on the environment digest's code makes (its filters, what
    they take), so digest's code is part of the key too."""

    def get_source_checksum(self, source: str) -> str:
        return super().get_source_checksum(code_fingerprint() + "\0" + source)


def template_bytecode(config: Config) -> jinja2.FileSystemBytecodeCache | None:
    folder = config.cache_path
    if folder is None:
        return None
    try:
        (folder / "templates").mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return TemplateBytecode(str(folder / "templates"))


def template_diagnostic(error: BaseException, root: Path, template: str) -> Diagnostic:
    """Point at the template file and line, whatever Jinja2 raised."""
    if isinstance(error, jinja2.TemplateSyntaxError) and error.filename:
        return Diagnostic(display_path(Path(error.filename), root), error.lineno or 0, 0,
                          f"template syntax error: {error.message}",
                          hint="see https://jinja.palletsprojects.com/templates/")
    # Runtime errors: Jinja2 rewrites tracebacks so template frames carry template lines.
    import traceback  # (only for a broken template)
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
        html = render_page(env, output.template, output.context, output.site_path)
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


def render_page(env: jinja2.Environment, name: str, context: dict[str, Any],
                site_path: str) -> str:
    """One page: the template `name` with `context` (kept within its `budget` bytes if
    it has one)."""
    template = env.get_template(name)
    budget = context.get("budget")
    if budget is None:
        return template.render(context, page_url=site_path)
    return render_within(template, context, site_path, budget)


def render_within(template: jinja2.Template, context: dict[str, Any], site_path: str,
                  budget: int) -> str:
    """The page, listing only as many of its articles (`limit`) as fit in `budget`
    bytes: an email edition past Gmail's clipping point links to the rest on the web.
    The most articles that fit: a page grows by about the same bytes an article, so the
    search interpolates between the sizes it knows (four renders in all for a week of
    381 articles, where bisecting took ten), bisecting when that stops paying."""
    made: dict[int | None, str] = {}
    sizes: dict[int, int] = {}

    def size(limit: int | None) -> int:
        made[limit] = template.render(context, page_url=site_path, limit=limit)
        measured = len(made[limit].encode())
        if limit is not None:
            sizes[limit] = measured
        return measured

    total = sum(len(group.articles) for group in context["groups"])
    sizes[total] = size(None)
    if sizes[total] <= budget:
        return made[None]
    if size(0) > budget and "short_note" not in context:
        # not even the frame fits (a long editor's note): the note stays on the web
        return render_within(template, {**context, "short_note": True}, site_path, budget)
    if sizes[0] > budget:  # the shortest page there is
        return made[0]
    low, high = 0, total  # low fits, high does not
    for step in range(total):  # (ends far sooner: the bracket shrinks every step)
        if high - low <= 1:
            break
        guess = low + (budget - sizes[low]) * (high - low) // (sizes[high] - sizes[low])
        if step >= 4:  # interpolation is not closing in: halve instead
            guess = (low + high) // 2
        guess = min(max(guess, low + 1), high - 1)
        if size(guess) <= budget:
            low = guess
        else:
            high = guess
    return made[low]


def render_outputs(config: Config, urls: Urls, bodies: BodyResolver, outputs: list[Output],
                   diagnostics: Diagnostics, sink: Sink,
                   progress: Progress | None = None) -> None:
    """Render `outputs` into `sink`, each page written as soon as it is ready (so a
    100,000-page site is never held in memory at once), by forked workers on large
    sites; template errors go to `diagnostics`, each distinct one once."""
    global _WORK
    use_pool = worth_a_pool(len(outputs), PARALLEL_THRESHOLD)
    if not use_pool:  # workers read the bodies they need from the store themselves
        bodies.fetch(outputs)
    in_workers = sink if use_pool and isinstance(sink, WorkerSink) else None
    _WORK = (make_environment(config, urls, bodies), outputs, config.root,
             in_workers)
    seen: set[Diagnostic] = set()
    try:
        if use_pool:
            with forked_pool() as pool:
                stream = pool.imap_unordered(_render_one, range(len(outputs)), chunksize=64)
                collect(stream, outputs, sink, seen, progress)
        else:
            collect(map(_render_one, range(len(outputs))), outputs, sink, seen, progress)
    finally:
        _WORK = None
        diagnostics.extend(sorted(seen, key=Diagnostic.sort_key))


class RenderingBeside:
    """`render_outputs` for an edit's few pages in a forked child, which writes them into
    the sink itself (as pool workers do) while this process goes on with the build: the
    files it keeps, the search index. A tag edit at 10,000 articles renders about 30
    pages (0.06–0.12 s) and updates the index (0.05–0.09 s): the two no longer add up.
    `finish` waits for the child and records what it wrote; should the child fail, it
    renders the pages here, as render_outputs would have."""

    def __init__(self, child: ForkedWork, work: tuple[Config, Urls, BodyResolver,
                                                      list[Output], WorkerSink]) -> None:
        self.child, self.work = child, work

    @classmethod
    def start(cls, config: Config, urls: Urls, bodies: BodyResolver, outputs: list[Output],
              sink: Sink) -> RenderingBeside | None:
        """The child rendering, or None where none can be forked (or `sink` cannot be
        written by another process)."""
        if not outputs or not isinstance(sink, WorkerSink):
            return None

        def rendered() -> bytes:
            global _WORK
            _WORK = (make_environment(config, urls, bodies), outputs, config.root, sink)
            try:
                made: tuple[str, Any] = ("made", list(map(_render_one, range(len(outputs)))))
            except BodyLost as lost:
                made = ("lost", str(lost))
            return pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)
        child = ForkedWork.start(rendered)
        return cls(child, (config, urls, bodies, outputs, sink)) if child else None

    def finish(self, diagnostics: Diagnostics) -> None:
        """Wait for the child; template errors go to `diagnostics`, as render_outputs
        reports them. BodyLost when a body the pages show is gone from the store."""
        config, urls, bodies, outputs, sink = self.work
        data = self.child.result()
        kind: str | None = None
        made: Any = None
        if data is not None:
            with suppress(pickle.UnpicklingError, EOFError, ValueError):
                kind, made = pickle.loads(data)
        if kind == "lost":
            raise BodyLost(made)
        if kind != "made":  # (the child failed: here, from the start)
            render_outputs(config, urls, bodies, outputs, diagnostics, sink)
            return
        seen: set[Diagnostic] = set()
        collect(iter(made), outputs, sink, seen, None)
        diagnostics.extend(sorted(seen, key=Diagnostic.sort_key))

    def cancel(self) -> None:
        """Stop the child if the build stops before `finish` (it writes into a staging
        folder or twin that is then removed)."""
        self.child.cancel()


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
