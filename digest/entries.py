"""What one content file means: the entries (articles, registry companies, topics) as
dataclasses, and the readers that validate front matter into them. Every problem
becomes a diagnostic at its file, line and column (fields.FieldReader)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from slugify import slugify

from digest.config import Config
from digest.fields import FieldReader
from digest.frontmatter import Position

ARTICLE_KEYS = ("title", "date", "updated", "summary", "source", "authors", "slug", "draft",
                "lang", "tags", "companies", "events", "aliases")
SOURCE_KEYS = ("name", "url")
EVENT_KEYS = ("date", "company", "type", "title")
EVENT_TYPES = ("ipo", "earnings", "acquisition", "restructuring", "regulation", "funding",
               "partnership", "leadership", "product", "other")
COMPANY_KEYS = ("name", "aliases", "tickers", "sector", "headquarters", "founded", "website",
                "parent")
TOPIC_KEYS = ("name", "aliases", "description")
EDITION_KEYS = ("title", "summary")
MAX_MENTIONS = 50  # tags or companies of one article
SLUG_MAX = 200  # characters of an article's slug (a file name holds 255 bytes)
UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f?#\\]")  # never in a path of the site


# Named tuples, not dataclasses: every article holds several, and the build state (the
# parsed files, state.py) and the model's snapshot hold every article; a named tuple is
# unpickled at twice the speed of a dataclass (the parsed files of 10,000 articles were
# read back in 0.10 s, 0.04 s of it for 52,000 mentions).
class Source(NamedTuple):
    name: str
    url: str | None


class Mention(NamedTuple):
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


class Article(NamedTuple):  # (a named tuple: see Source)
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
    # Hash of the text before the body: with the path and the settings it decides every
    # field but the body's own (body, word_count, links, and summary when it has none),
    # so an edit that keeps it changed the body alone (express.py).
    front: str = ""


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


@dataclass(frozen=True)
class EditionNote:
    """The editor's note of one edition: content/editions/<key>.md."""

    path: str
    key: str  # the file name: the period it is for ("2023-W20"), checked by editions.py
    title: str | None
    summary: str | None
    html: str = ""  # the rendered note, site-relative (links.py resolves it when shown)
    body: str = ""  # key of the rendered note in the Markdown store
    links: tuple[str, ...] = ()  # source paths of articles the note links to


Entry = Article | CompanyEntry | TopicEntry | EditionNote


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


def read_edition(reader: FieldReader) -> EditionNote:
    data = reader.matter.data
    reader.check_keys(data, EDITION_KEYS)
    return EditionNote(path=reader.path, key=Path(reader.path).stem,
                       title=reader.string(data, "title"),
                       summary=reader.string(data, "summary"))
