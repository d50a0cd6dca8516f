"""Read content/: articles, the company registry and topics, validated into dataclasses.

Every problem becomes a diagnostic at its file, line and column; loading goes on
so one run reports all of them.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

from slugify import slugify

from digest.cache import MarkdownCache, cache_key, stored_in
from digest.config import Config
from digest.errors import Diagnostic, Diagnostics
from digest.fields import FieldReader
from digest.frontmatter import Position, parse_front_matter
from digest.links import ATTRIBUTE, is_external, source_relative
from digest.markup import RenderedMarkdown, render_markdown

ARTICLE_KEYS = ("title", "date", "updated", "summary", "source", "authors", "slug", "draft",
                "lang", "tags", "companies", "events", "aliases")
SOURCE_KEYS = ("name", "url")
EVENT_KEYS = ("date", "company", "type", "title")
EVENT_TYPES = ("ipo", "earnings", "acquisition", "restructuring", "regulation", "funding",
               "partnership", "leadership", "product", "other")
COMPANY_KEYS = ("name", "aliases", "tickers", "sector", "headquarters", "founded", "website",
                "parent")
TOPIC_KEYS = ("name", "aliases", "description")
# Worker processes pay off only past this many files (fork + pickling costs ~0.1 s).
PARALLEL_THRESHOLD = 200
CHUNK = 50  # files a worker parses at a time
IGNORED = (".", "_")  # names of content files and folders that are not published
MAX_MENTIONS = 50  # tags or companies of one article
SLUG_MAX = 200  # characters of an article's slug (a file name holds 255 bytes)
UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f?#\\]")  # never in a path of the site


@dataclass(frozen=True)
class Source:
    name: str
    url: str | None


@dataclass(frozen=True)
class Mention:
    """A company or topic name as written in a file, with where it was written."""

    name: str
    path: str
    position: Position


@dataclass(frozen=True)
class Event:
    date: date
    company: Mention
    type: str
    title: str


@dataclass(frozen=True)
class Article:
    path: str  # relative to the project root, as shown in diagnostics
    title: str
    date: datetime  # timezone-aware
    has_time: bool  # False for a bare YYYY-MM-DD: datelines then show no time
    updated: datetime | None
    summary: str
    source: Source | None
    authors: tuple[str, ...]
    slug: str
    slug_position: Position  # of `slug:` or else `title:`, where URL clashes are reported
    draft: bool
    lang: str | None
    tags: tuple[Mention, ...]
    companies: tuple[Mention, ...]
    events: tuple[Event, ...]
    aliases: tuple[str, ...]  # old site paths that redirect here, e.g. "2023/05/old-slug/"
    body: str  # key of the rendered body in the Markdown store (cache.py)
    word_count: int
    links: tuple[str, ...]  # source paths of articles the body links to
    # Hash of the file's bytes: with the path and the settings it decides every field
    # above, so outputs that show the whole article depend on it, not on a repr of it.
    sha: str = ""


@dataclass(frozen=True)
class CompanyEntry:
    path: str
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    sector: str | None = None
    headquarters: str | None = None
    founded: str | None = None
    website: str | None = None
    parent: Mention | None = None
    profile_html: str = ""
    body: str = ""  # key of the rendered profile in the Markdown store
    # where each name and alias is written, to point at the one that clashes
    positions: dict[str, Position] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TopicEntry:
    path: str
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str | None = None
    positions: dict[str, Position] = field(default_factory=dict, compare=False)


@dataclass
class Content:
    articles: list[Article] = field(default_factory=list)
    companies: list[CompanyEntry] = field(default_factory=list)
    topics: list[TopicEntry] = field(default_factory=list)


def display_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def walk_files(folder: Path, within: Path, ignored: tuple[str, ...] = (".",),
               refused: list[str] | None = None) -> list[str]:
    """Every regular file below `folder` as a relative POSIX path, sorted by path parts,
    skipping names that start with one of `ignored`. A symbolic link is followed only to
    a regular file inside `within` (the project): a link to /proc/self/environ or
    /etc/passwd must never end up on the site. Linked folders are not entered (no
    loops). Links refused are added to `refused`. One scandir per folder: ten times
    cheaper than Path.rglob at 10,000 files."""
    found: list[str] = []
    inside = within.resolve()

    def visit(path: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(ignored):
                continue
            try:
                if entry.is_symlink():
                    target = Path(entry.path).resolve()
                    if target.is_relative_to(inside) and target.is_file():
                        found.append(prefix + entry.name)
                    elif refused is not None:
                        refused.append(prefix + entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    visit(entry.path, f"{prefix}{entry.name}/")
                elif entry.is_file(follow_symlinks=False):
                    found.append(prefix + entry.name)
                elif refused is not None:  # a FIFO, socket or device: reading would block
                    refused.append(prefix + entry.name)
            except (OSError, RuntimeError):  # vanished, or a link loop
                if refused is not None:
                    refused.append(prefix + entry.name)

    visit(str(folder), "")
    return sorted(found, key=lambda relative: relative.split("/"))


def markdown_files(folder: Path, shown_folder: str, within: Path,
                   refused: list[str]) -> list[tuple[Path, str]]:
    """*.md below folder, sorted, skipping hidden and editor-temporary files: each path
    with its name as shown (`shown_folder` + the relative path)."""
    links: list[str] = []
    found = [(folder / relative, shown_folder + relative)
             for relative in walk_files(folder, within, IGNORED, links)
             if relative.endswith(".md")]
    refused += [shown_folder + link for link in links if link.endswith(".md")]
    return found


def read_text(path: Path, shown: str, diagnostics: Diagnostics) -> str | None:
    data = read_bytes(path, shown, diagnostics)
    return decode_text(data, shown, diagnostics) if data is not None else None


def decode_text(data: bytes, shown: str, diagnostics: Diagnostics) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            diagnostics.error(shown, 1, 1, "file is UTF-16, not UTF-8",
                              "save the file with UTF-8 encoding")
            return None
        # line and column of the first bad byte, counting characters before it
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start:error.start].decode("utf-8", "replace")) + 1
        diagnostics.error(shown, line, column,
                          f"file is not valid UTF-8 (byte 0x{data[error.start]:02x})",
                          "save the file with UTF-8 encoding (it may be Latin-1 or "
                          "Windows-1252)")
    return None


@dataclass(frozen=True)
class FileRecord:
    """What one content file gave last time, reused while its bytes are the same."""

    mtime_ns: int
    size: int
    sha: str
    entry: Entry | None  # None when the file had errors
    diagnostics: tuple[Diagnostic, ...]


def file_sha(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def load_content(config: Config, diagnostics: Diagnostics, bodies: MarkdownCache,
                 previous: Mapping[str, FileRecord] | None = None,
                 trusted_before_ns: int = 0,
                 scanned: Mapping[str, tuple[int, int]] | None = None
                 ) -> tuple[Content, dict[str, FileRecord]]:
    """Every entry of content/, and the file records to reuse next time. A file whose
    size and mtime match its previous record (and whose mtime is older than
    `trusted_before_ns`, see state.Stamp.trusts), or else whose bytes do, is not parsed
    again. `scanned`: (mtime_ns, size) of files stat'ed just before (state.scan_inputs,
    keyed "content:<path in content/>"), spared a second stat."""
    scanned = scanned or {}
    previous = previous or {}
    content_root = config.content_path
    if not content_root.is_dir():
        diagnostics.error(config.content_dir, 0, 0, "content folder not found",
                          f"create {config.content_dir}/articles/ with Markdown articles, "
                          "or run digest in the project folder")
        return Content(), {}
    # Names as shown in diagnostics, made by joining strings: pathlib's relative_to
    # per file costs a tenth of a second at 10,000 articles.
    shown_root = display_path(content_root, config.root)
    prefix = "" if shown_root == "." else shown_root + "/"
    refused: list[str] = []
    files = [(kind, path, shown) for kind in ("articles", "companies", "topics")
             for path, shown in markdown_files(content_root / kind, f"{prefix}{kind}/",
                                               config.root, refused)]
    for shown in refused:
        diagnostics.warning(shown, 0, 0, "not read: a link to a file outside the project, "
                            "or not a regular file",
                            "copy the file into the project instead of linking to it")
    records: dict[str, FileRecord] = {}
    to_parse: list[tuple[str, Path, str, Stat, bytes | None]] = []
    for kind, path, shown in files:
        stat = scanned.get("content:" + shown[len(prefix):], (-1, -1))
        if stat[0] < 0:  # not scanned, or not a regular file then
            try:
                result = path.stat()
            except OSError as error:
                diagnostics.error(shown, 0, 0, f"cannot read file: {error.strerror}")
                continue
            stat = (result.st_mtime_ns, result.st_size)
        record = previous.get(shown)
        if record is not None and record.mtime_ns < trusted_before_ns \
                and (record.mtime_ns, record.size) == stat:
            records[shown] = record
            continue
        data = None
        if record is not None:  # the stat changed; perhaps the bytes did not
            data = read_bytes(path, shown, diagnostics)
            if data is None:
                continue
            if record.sha == file_sha(data):
                records[shown] = replace(record, mtime_ns=stat[0], size=stat[1])
                continue
        # New files are read with their batch: a cold build never holds all their bytes.
        to_parse.append((kind, path, shown, stat, data))
    for parsed in parse_all(to_parse, config, bodies):
        records.update((shown, record) for shown, record, _ in parsed)
    content = Content()
    for _, _, shown in files:
        record = records.get(shown)
        if record is None:
            continue
        diagnostics.extend(record.diagnostics)
        if isinstance(record.entry, Article):
            content.articles.append(record.entry)
        elif isinstance(record.entry, CompanyEntry):
            content.companies.append(record.entry)
        elif isinstance(record.entry, TopicEntry):
            content.topics.append(record.entry)
    bodies.keep(entry_bodies(content))
    if previous:
        bodies.forget_only(body_key(record.entry) for record in previous.values())
    if not content.articles and not diagnostics.errors:
        diagnostics.warning(f"{config.content_dir}/articles", 0, 0, "no articles found",
                            "add Markdown files with front matter under content/articles/")
    return content, records


def entry_bodies(content: Content) -> list[str]:
    return [a.body for a in content.articles] + [c.body for c in content.companies]


def body_key(entry: Entry | None) -> str:
    return entry.body if isinstance(entry, Article | CompanyEntry) else ""


def read_bytes(path: Path, shown: str, diagnostics: Diagnostics) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        diagnostics.error(shown, 0, 0, f"cannot read file: {error.strerror}")
    return None


Entry = Article | CompanyEntry | TopicEntry


Stat = tuple[int, int]  # a file's mtime_ns and size
_Chunk = list[tuple[str, Path, str, Stat, bytes | None]]  # (kind, path, shown, stat, bytes)


Parsed = tuple[str, FileRecord, RenderedMarkdown | None]  # the body, if rendered now
Lookup = Callable[[Sequence[str]], Mapping[str, RenderedMarkdown]]


def parse_all(files: list[tuple[str, Path, str, Stat, bytes | None]], config: Config,
              bodies: MarkdownCache) -> Iterator[list[Parsed]]:
    """Parse, validate and render `files` in chunks, in order; each chunk's bodies are
    stored as it arrives. A large site is parsed by one worker process per core, each
    doing whole files (YAML, validation and Markdown): this process only collects, so
    it never becomes the step's bottleneck. Chunks in flight are bounded: memory stays
    flat however many files there are."""
    chunks = [files[start:start + CHUNK] for start in range(0, len(files), CHUNK)]
    workers = os.cpu_count() or 1
    if len(files) < PARALLEL_THRESHOLD or workers < 2:
        made: Iterable[list[Parsed]] = (parse_files(chunk, config, bodies.known)
                                        for chunk in chunks)
    else:
        store = bodies.folder if bodies.db is not None else None
        made = in_order(ProcessPoolExecutor(workers), partial(parse_in_worker, config=config,
                                                              store=store),
                        chunks, window=4 * workers)
    for parsed in made:
        bodies.add([body_key(record.entry) for _, record, _ in parsed if record.entry],
                   {body_key(record.entry): fresh for _, record, fresh in parsed
                    if fresh is not None})
        yield parsed


def in_order(pool: ProcessPoolExecutor, work: Callable[[_Chunk], list[Parsed]],
             chunks: list[_Chunk], window: int) -> Iterator[list[Parsed]]:
    """`map(work, chunks)` through `pool`, with at most `window` chunks in flight."""
    with pool:
        pending: deque[Future[list[Parsed]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(work, chunk))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parse_in_worker(files: _Chunk, config: Config, store: Path | None) -> list[Parsed]:
    return parse_files(files, config, partial(stored_in, store))


def parse_files(files: _Chunk, config: Config, lookup: Lookup) -> list[Parsed]:
    """Each file's record: its entry validated and its body rendered (or found in the
    store through `lookup`), and the renderings made here."""
    parsed: list[tuple[str, Stat, str, Entry | None, Diagnostics, str]] = []
    for kind, path, shown, stat, data in files:
        found = Diagnostics()
        entry: Entry | None = None
        body = ""
        if data is None:
            data = read_bytes(path, shown, found)
            if data is None:
                parsed.append((shown, stat, "", None, found, ""))
                continue
        text = decode_text(data, shown, found)
        matter = parse_front_matter(text, shown, found) if text is not None else None
        if matter:
            reader = FieldReader(matter, shown, found)
            entry = (read_article(reader, config) if kind == "articles"
                     else read_company(reader) if kind == "companies" else read_topic(reader))
            body = matter.body
        parsed.append((shown, stat, file_sha(data), entry, found, body))
    # Topics show no body: only articles' and companies' are rendered.
    keys = [cache_key(body) if isinstance(entry, Article | CompanyEntry) else ""
            for _, _, _, entry, _, body in parsed]
    known = dict(lookup(sorted({key for key in keys if key})))
    made: list[Parsed] = []
    for (shown, stat, sha, entry, found, body), key in zip(parsed, keys, strict=True):
        fresh = None
        if entry is not None and key:
            rendering = known.get(key)
            if rendering is None:
                rendering = known[key] = fresh = render_markdown(body)
            entry = with_body(entry, key, rendering, config, sha)
        made.append((shown, FileRecord(*stat, sha, entry, tuple(found)), fresh))
    return made


def with_body(entry: Entry, key: str, body: RenderedMarkdown, config: Config,
              sha: str) -> Entry:
    if isinstance(entry, Article):
        return replace(entry, summary=entry.summary or body.first_paragraph, body=key,
                       word_count=len(body.text.split()),
                       links=body_links(body.html, entry.path, config), sha=sha)
    if isinstance(entry, CompanyEntry):
        return replace(entry, profile_html=body.html, body=key)
    return entry


def body_links(html: str, article_path: str, config: Config) -> tuple[str, ...]:
    """Source paths of the other articles a body links to (`[x](../a.md)`): the page
    shows their URLs, so it depends on them."""
    found = []
    for _attribute, target in ATTRIBUTE.findall(html):
        if target and not is_external(target) and not target.startswith("/"):
            path = source_relative(article_path, target)
            if path.endswith(".md"):
                found.append(path)
    return tuple(sorted(set(found)))


def mentions(reader: FieldReader, key: str) -> tuple[Mention, ...]:
    found = tuple(Mention(name, reader.path, reader.matter.value_at(*key_path))
                  for name, key_path in reader.string_list(reader.matter.data, key))
    if len(found) > MAX_MENTIONS:
        # each new name is a page and three feeds: 5,000 tags made 20,000 pages
        reader.error((key,), f"{len(found)} {key} on one article (at most {MAX_MENTIONS})",
                     f"keep the few {key} the article is about", at_key=True)
        return found[:MAX_MENTIONS]
    return found


def read_article(reader: FieldReader, config: Config) -> Article | None:
    """The article's fields; its body is filled in once rendered (summary too if empty)."""
    data = reader.matter.data
    errors_before = len(reader.diagnostics.errors)
    reader.check_keys(data, ARTICLE_KEYS)
    has_title = reader.require(data, "title")
    has_date = reader.require(data, "date")
    title = reader.string(data, "title") or ""
    moment = reader.moment(data, "date", config.tz) if has_date else None
    updated = reader.moment(data, "updated", config.tz)
    if moment and updated and updated < moment:
        reader.error(("updated",), "'updated' is earlier than 'date'",
                     "'updated' is when the article was last revised")
    slug_source = reader.string(data, "slug") or title
    slug = url_slug(slug_source) if slug_source else ""
    if has_title and title and not slug:
        reader.error(("slug",) if "slug" in data else ("title",),
                     f"cannot make a URL slug from '{slug_source}'",
                     "add 'slug: some-words' to the front matter")
    source = read_source(reader, data)
    events = read_events(reader, data, config)
    article = Article(
        path=reader.path,
        title=title,
        date=moment or datetime.min,
        has_time=len(str(data.get("date", "")).strip()) > len("YYYY-MM-DD"),
        updated=updated,
        summary=reader.string(data, "summary") or "",
        source=source,
        authors=tuple(name for name, _ in reader.string_list(data, "authors")),
        slug=slug,
        slug_position=reader.matter.value_at("slug" if "slug" in data else "title"),
        draft=reader.boolean(data, "draft"),
        lang=reader.string(data, "lang"),
        tags=mentions(reader, "tags"),
        companies=mentions(reader, "companies"),
        events=events,
        aliases=read_aliases(reader, data),
        body="",
        word_count=0,
        links=(),
    )
    return article if len(reader.diagnostics.errors) == errors_before else None


def url_slug(text: str) -> str:
    """A URL slug of at most SLUG_MAX characters, cut at a word: a 40-word headline must
    still make a file name (255 bytes at most on Linux file systems)."""
    return slugify(text, max_length=SLUG_MAX, word_boundary=True, save_order=True)


def file_slug(reader: FieldReader) -> str:
    """A registry file's name is its page's slug: it must be one that URLs can carry."""
    stem = Path(reader.path).stem
    if UNSAFE_IN_PATH.search(stem) or "%" in stem or " " in stem:
        reader.error((), f"the file name '{stem}' cannot be part of a URL",
                     f"rename the file to {url_slug(stem) or 'a-name'}.md")
    return stem


def read_aliases(reader: FieldReader, data: dict[str, object]) -> tuple[str, ...]:
    """Old URLs as site paths: '/2023/05/old/' → '2023/05/old/'; a bare name gets a '/'."""
    paths = []
    for alias, key_path in reader.string_list(data, "aliases"):
        path = alias.lstrip("/")
        segments = path.rstrip("/").split("/")
        if "://" in alias or not path or UNSAFE_IN_PATH.search(path) \
                or any(s in ("", ".", "..") or len(s.encode()) > 200 for s in segments):
            reader.error(key_path, f"alias {alias!r} is not a path on this site",
                         "write the old address as a path, e.g. /2023/05/old-title/ "
                         "(no '..', '?', '#', backslashes or control characters)")
            continue
        last = path.rsplit("/", 1)[-1]
        paths.append(path if path.endswith("/") or "." in last else path + "/")
    return tuple(paths)


def read_source(reader: FieldReader, data: dict[str, object]) -> Source | None:
    value = data.get("source")
    if value is None:
        return None
    if isinstance(value, str):
        return Source(value.strip(), None)
    if not isinstance(value, dict):
        reader.error(("source",), "'source' must be a name or a mapping with 'name' and 'url'",
                     "write source: {name: Reuters, url: https://…}")
        return None
    reader.check_keys(value, SOURCE_KEYS, ("source",))
    if not reader.require(value, "name", ("source",)):
        return None
    return Source(reader.string(value, "name", ("source",)) or "",
                  reader.url(value, "url", ("source",)))


def read_events(reader: FieldReader, data: dict[str, object], config: Config
                ) -> tuple[Event, ...]:
    value = data.get("events")
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.error(("events",), "'events' must be a list",
                     "write each event as '- {date: …, company: …, type: …, title: …}'")
        return ()
    events = []
    for index, item in enumerate(value):
        where = ("events", index)
        if not isinstance(item, dict):
            reader.error(where, "each event must be a mapping with date, company, type, title")
            continue
        reader.check_keys(item, EVENT_KEYS, where, "event key")
        present = [reader.require(item, key, where) for key in EVENT_KEYS]
        moment = reader.moment(item, "date", config.tz, where)
        kind = reader.string(item, "type", where)
        if kind is not None and kind not in EVENT_TYPES:
            reader.error((*where, "type"), f"unknown event type '{kind}'",
                         f"use one of: {', '.join(EVENT_TYPES)}")
            continue
        company = reader.string(item, "company", where)
        title = reader.string(item, "title", where)
        if all(present) and moment and kind and company and title:
            mention = Mention(company, reader.path, reader.matter.value_at(*where, "company"))
            events.append(Event(moment.date(), mention, kind, title))
    return tuple(events)


def name_positions(reader: FieldReader) -> dict[str, Position]:
    positions = {name: reader.matter.value_at(*key_path)
                 for name, key_path in reader.string_list(reader.matter.data, "aliases")}
    positions[str(reader.matter.data.get("name"))] = reader.matter.value_at("name")
    return positions


def read_company(reader: FieldReader) -> CompanyEntry | None:
    data = reader.matter.data
    reader.check_keys(data, COMPANY_KEYS)
    if not reader.require(data, "name"):
        return None
    parent = reader.string(data, "parent")
    return CompanyEntry(
        path=reader.path,
        slug=file_slug(reader),
        name=reader.string(data, "name") or "",
        aliases=tuple(name for name, _ in reader.string_list(data, "aliases")),
        tickers=tuple(name for name, _ in reader.string_list(data, "tickers")),
        sector=reader.string(data, "sector"),
        headquarters=reader.string(data, "headquarters"),
        founded=reader.string(data, "founded"),
        website=reader.url(data, "website"),
        parent=Mention(parent, reader.path, reader.matter.value_at("parent")) if parent else None,
        positions=name_positions(reader),
    )


def read_topic(reader: FieldReader) -> TopicEntry | None:
    data = reader.matter.data
    reader.check_keys(data, TOPIC_KEYS)
    if not reader.require(data, "name"):
        return None
    return TopicEntry(
        path=reader.path,
        slug=file_slug(reader),
        name=reader.string(data, "name") or "",
        aliases=tuple(name for name, _ in reader.string_list(data, "aliases")),
        description=reader.string(data, "description"),
        positions=name_positions(reader),
    )
