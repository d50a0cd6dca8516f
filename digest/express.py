"""Express builds (issue 8): an edit that changed article bodies and nothing else is
built from the last build's state without its model. Such an edit changes the article's
own page and its search document, nothing else (lists show cards, not bodies; the site
feed's articles are left to the usual build), so neither the model nor the output plan
is needed, only what each edited page shows of the rest of the site.

That is a *row* per article page, saved with the search data (search/store.py) whenever
the page is rendered: its neighbours as the page shows them (URL, title, date, and the
hash of each card, which its fingerprint takes), its companies, topics, edition and the
targets of its body's links, and the fingerprint it was rendered with. A row whose
fingerprint is the state's for that page was made from exactly what the page shows:
the express build puts the new article in, renders the page, recomputes its
fingerprint the way the plan does (depends.py), and updates the search index for the
changed bodies (indexer.reindex_bodies). It declines, and the usual build runs, when
anything else changed: another input, a field besides the body (the text before the
body, `Article.front`), the article's card (a summary taken from the body), a link to
an article the page did not already link to, diagnostics, a missing or stale row."""

from __future__ import annotations

import hashlib
import marshal
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from digest.cache import BodyLost, MarkdownCache
from digest.collector import exits_after_build
from digest.config import Config, default_theme_path
from digest.content import FileRecord, file_sha, parse_all, published, shown_prefix
from digest.depends import Depends
from digest.editions import EditionLink
from digest.entries import Article, CompanyEntry
from digest.errors import Diagnostic, Diagnostics
from digest.model import ArticlePage, CompanyPage, Selection, TopicPage, article_page
from digest.output import (
    MARKER,
    TwinUpdate,
    moved_marker,
    read_marker,
    regular_file,
    twin_path,
)
from digest.plan import Output
from digest.render import BodyResolver, render_outputs
from digest.resume import fingerprint, start_state_writer
from digest.search.indexer import IndexState, Source, document_id, reindex_bodies
from digest.search.store import SearchDataLost, peek
from digest.state import (
    RACY_NS,
    PageRows,
    Scan,
    Stamp,
    State,
    StateProblem,
    content_hash,
    folder_identity,
    forget_state,
    input_locator,
    load_stamp,
    load_state,
    output_salt,
    save_state,
    state_folder,
    usable_twin,
)
from digest.urls import Urls, output_file

# Past this many edited articles the usual build is as quick.
LIMIT = 20
# The templates an article page is rendered from (tests/test_express.py checks this
# against the theme): their reads are what a row holds. A site that overrides one may
# show more of the other articles than the row has, so it builds the usual way.
ARTICLE_TEMPLATES = ("article.html", "base.html", "_macros.html")
ARTICLES = "content:articles/"

# A row, as marshal writes it (plain values only: a tenth of pickle's time, which
# matters when a cold build saves 10,000 of them):
# (fingerprint, front, clean, card, url, companies, topics, related, previous, next,
#  edition, links); `clean`: its file gave no diagnostics; a company (slug, name, url,
# website), a topic (slug, name, url), a neighbour (card hash, url, title, local date
# as a timestamp, has_time), an edition (key, url, label, dates, in_progress), a link
# (article file, its site path or None).
Side = tuple[bytes, str, str, float, bool]


class Sides(dict[int, Side]):
    """Each article as its neighbours' rows show it, made once (a page is the neighbour
    of half a dozen others): by page id, from `cards` (card hashes by page id)."""

    def __init__(self, cards: Mapping[int, bytes]) -> None:
        super().__init__()
        self.cards = cards

    def of(self, page: ArticlePage | None) -> Side | None:
        if page is None:
            return None
        key = id(page)
        made = self.get(key)
        if made is None:
            self[key] = made = (self.cards[key], page.url, page.article.title,
                                page.local_date.timestamp(), page.article.has_time)
        return made


def page_row(page: ArticlePage, edition: Any, fingerprint: bytes, clean: bool,
             sides: Sides, by_source: Mapping[str, str]) -> bytes:
    """The row of an article page rendered with `fingerprint` (`sides`: its neighbours,
    and the card hashes of the plan; `edition`: the page's, or None; `clean`: its file
    gave no diagnostics)."""
    return marshal.dumps((
        fingerprint, page.article.front, clean, sides.cards[id(page)], page.url,
        tuple((c.slug, c.name, c.url, c.entry.website if c.entry else None)
              for c in page.companies),
        tuple((t.slug, t.name, t.url) for t in page.topics),
        tuple(map(sides.of, page.related)), sides.of(page.previous), sides.of(page.next),
        (edition.key, edition.url, edition.label, edition.dates, edition.in_progress)
        if edition is not None else None,
        tuple((path, by_source.get(path)) for path in page.article.links)))


def stand_in(values: Side, config: Config, cards: dict[int, bytes]) -> ArticlePage:
    """A neighbour as the page shows it: its URL, title and date (the rest blank);
    its card hash goes into `cards`."""
    card, url, title, moment, has_time = values
    local = datetime.fromtimestamp(moment, config.tz)
    article = Article(path="", title=title, date=local, has_time=has_time, updated=None,
                      summary="", source=None, authors=(), slug="", slug_position=(0, 0),
                      draft=False, lang=None, tags=(), companies=(), events=(), aliases=(),
                      body="", word_count=0, links=())
    page = ArticlePage(article, url, local, None, 0, local, moment)
    cards[id(page)] = card
    return page


declined = ""  # why the last express build of this process declined (for tests)


class Declined(Exception):
    """Why an express build does not apply; the usual build runs instead."""


@dataclass
class Expressed:
    """An express build's outcome, for build.py's BuildResult."""

    pages: dict[str, int]
    files: int
    warnings: list[Diagnostic]
    paths: set[str]
    rendered: list[str]
    held_back: tuple[int, int, tuple[datetime, str] | None]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Edited:
    """One edited article: its file, its new record, row and page."""

    key: str  # in the scan: "content:articles/…"
    shown: str
    record: FileRecord
    row: tuple[Any, ...]
    page: ArticlePage
    edition: EditionLink | None
    links: dict[str, str]  # what its body's links resolve to
    cards: dict[int, bytes]  # card hashes of its page's neighbours, by page id
    output: Output | None = None
    fingerprint: bytes = b""
    before: str = ""  # its body's key before the edit (the search data had it)


def express(config: Config, scan: Scan, selection: Selection, output: Path,
            store: MarkdownCache | None = None) -> Expressed | None:
    """Build an edit of article bodies alone, or None (nothing written) when it is
    not one. Called with the output folder locked, after the stamp said a build is due.
    What settles most edits that are not (a tag, a title) comes first: the edited
    files and their rows, before the state is read."""
    started = time.perf_counter()
    folder = state_folder(config)
    stamp = load_stamp(config)
    state: State | None = None
    try:
        if folder is None or stamp is None:
            raise Declined("no state")
        edits = edited_files(config, scan, stamp, selection, output)
        # (a store the caller opened, it closes; never pruned: unchanged bodies are
        # not marked as kept here)
        with MarkdownCache(config.cache_path, prune=False) if store is None \
                else nullcontext(store) as bodies:
            edited = read_edits(config, scan, folder, edits, bodies)
            try:
                state = load_state(config, lean=True)
            except StateProblem:
                state = None
            if state is None or state.search is None or state.search_store is None \
                    or state.stamp.output != stamp.output or state.twin_differs is None:
                raise Declined("no state to start from")
            for edit in edited:
                if state.outputs.get(output_file(edit.page.url)) != edit.row[0] \
                        or edit.page.article.path in state.fed:
                    raise Declined(f"{edit.shown}: its row is not the last build's, or a "
                                   "feed carries its body")
            return build_bodies(config, scan, selection, output, state, edited, bodies,
                                started)
    except (Declined, SearchDataLost, BodyLost) as reason:
        global declined
        declined = f"{type(reason).__name__}: {reason}"
        return None
    finally:
        if state is not None and state.search_store is not None:
            state.search_store.close()


def edited_files(config: Config, scan: Scan, stamp: Stamp, selection: Selection,
                 output: Path) -> list[tuple[str, Path, bytes]]:
    """The article files whose bytes changed since the last build (key, path, bytes),
    when nothing else did; Declined otherwise."""
    if stamp.settings != scan.settings or stamp.inputs.keys() != scan.inputs.keys() \
            or stamp.output != read_marker(output) or not stamp.publishes_same(selection.now):
        raise Declined("settings, files, the output folder or what is due changed")
    if any(f"templates:{name}" in scan.inputs for name in ARTICLE_TEMPLATES):
        raise Declined("the site has its own article page templates")
    if not scan.lists_content:  # (a link, a FIFO: the usual build decides about those)
        raise Declined("content/ holds more than files and folders")
    locate = input_locator(config, default_theme_path())
    racy = stamp.scanned_ns - RACY_NS
    edits: list[tuple[str, Path, bytes]] = []
    for key, stat in scan.inputs.items():
        if stat == stamp.inputs[key] and stat[0] < racy:
            continue
        path = locate(key)
        if key.startswith(ARTICLES) and key.endswith(".md") \
                and published(key[len(ARTICLES):]):
            data = path.read_bytes()
            if file_sha(data) != stamp.hashes.get(key):
                edits.append((key, path, data))
                if len(edits) > LIMIT:
                    raise Declined("too many edits")
            continue
        known = {stamp.racy.get(key), stamp.hashes.get(key)} - {None}
        if stat[0] < 0 or not known or known != {content_hash(path)}:
            raise Declined(f"{key} changed")
    if not edits:
        raise Declined("no article changed")
    return edits


def read_edits(config: Config, scan: Scan, folder: Path,
               edits: list[tuple[str, Path, bytes]], store: MarkdownCache) -> list[Edited]:
    """The edited files parsed (their bodies rendered into the store), each with its
    row; Declined unless each changed its body alone."""
    prefix = shown_prefix(config)
    files: list[tuple[str, Path, str, tuple[int, int], bytes | None]] = [
        ("articles", path, prefix + key[len("content:"):], scan.inputs[key], data)
        for key, path, data in edits]
    parsed = [item for chunk in parse_all(files, config, store) for item in chunk]
    rows = peek(folder, "pages", [shown for shown, _, _ in parsed])
    return [take(key, shown, record, rows, config)
            for (key, _, _), (shown, record, _) in zip(edits, parsed, strict=True)]


def build_bodies(config: Config, scan: Scan, selection: Selection, output: Path,
                 state: State, edited: list[Edited], store: MarkdownCache,
                 started: float) -> Expressed:
    read = time.perf_counter()
    urls = Urls(config.base_url)
    salt = output_salt(config, scan.settings, default_theme_path())
    for edit in edited:
        page = edit.page
        shows = Depends.of_page(page, edit.cards, edit.links, edit.edition)
        if shows.card(page) != edit.row[3]:
            raise Declined("its card changed (a summary taken from the body)")
        edit.output = Output(page.url, "article", "article.html",
                             {"page": page, "edition": edit.edition}, page.modified,
                             shows.article(page), (page.article.body,))
        edit.fingerprint = fingerprint(salt, edit.output)
        edit.cards = shows.cards
    rendered: dict[str, bytes] = {}
    diagnostics = Diagnostics()
    links = {path: url for edit in edited for path, url in edit.links.items()}
    render_outputs(config, urls, BodyResolver(links, store, urls, config.content_dir),
                   [edit.output for edit in edited if edit.output is not None], diagnostics,
                   _Rendered(rendered))
    if diagnostics.errors:
        raise Declined("a template failed (the usual build reports it)")
    search_files: dict[str, bytes | None] = {}
    index = reindex(state, edited, store, search_files)
    laps = {"read edited articles": read - started,
            "render, search index": time.perf_counter() - read}
    return write(config, scan, selection, output, state, edited, rendered, index,
                 search_files, laps)


def take(key: str, shown: str, record: FileRecord, rows: Mapping[str, bytes],
         config: Config) -> Edited:
    """An edited file, when its row says the body alone changed; Declined otherwise."""
    article = record.entry
    if not isinstance(article, Article) or record.diagnostics:
        raise Declined(f"{shown} has no page or has problems")
    try:
        row = marshal.loads(rows[shown])
        (_known, front, clean, _card, url, companies, topics, related, previous, newer,
         edition, links) = row
    except (KeyError, ValueError, EOFError, TypeError):  # none, or not one (damaged)
        raise Declined(f"no row for {shown}") from None
    page = article_page(article, config)
    targets = dict(links)
    if not clean or page.url != url or front != article.front \
            or not targets.keys() >= set(article.links):
        raise Declined(f"more than the body of {shown} changed")
    page.companies = [CompanyPage(slug, name, CompanyEntry(path="", slug=slug, name=name,
                                                           website=website)
                                  if website else None, link)
                      for slug, name, link, website in companies]
    page.topics = [TopicPage(slug, name, None, link) for slug, name, link in topics]
    cards: dict[int, bytes] = {}
    page.related = [stand_in(values, config, cards) for values in related]
    page.previous = stand_in(previous, config, cards) if previous else None
    page.next = stand_in(newer, config, cards) if newer else None
    return Edited(key, shown, record, row, page,
                  EditionLink(*edition) if edition is not None else None, targets, cards)


class _Rendered:
    """A sink keeping rendered pages in memory until the build writes them."""

    def __init__(self, into: dict[str, bytes]) -> None:
        self.into = into

    def write(self, relative: str, data: bytes) -> None:
        self.into[relative] = data


def reindex(state: State, edited: list[Edited], store: MarkdownCache,
            files: dict[str, bytes | None]) -> IndexState:
    """The search index with the edited documents' new bodies."""
    index = state.search
    changed: dict[int, Source] = {}
    for edit in edited:
        identifier = document_id(index, edit.page)
        if identifier is None:
            raise Declined("its search document is not where it was")
        before = index.sources[identifier]
        store.get(before.body)  # (BodyLost: the usual build, which starts afresh)
        changed[identifier] = replace(before, body=edit.page.article.body)
        edit.before = before.body
    made = reindex_bodies(index, changed, store, files.__setitem__,
                          state.site_files.__contains__)
    if made is None:
        raise Declined("the search data cannot be updated in place")
    return made


def write(config: Config, scan: Scan, selection: Selection, output: Path, state: State,
          edited: list[Edited], rendered: dict[str, bytes], index: IndexState,
          search_files: dict[str, bytes | None], laps: dict[str, float]) -> Expressed:
    """Write the pages and search files into the twin, swap it in, save the state."""
    folder = state_folder(config)
    assert folder is not None and state.twin_differs is not None
    twin = twin_path(output, folder)
    if not usable_twin(twin, state) \
            or not all(regular_file(output / relative) for relative in state.twin_differs
                       if relative in state.site_files):
        raise Declined("no twin to update")
    started = time.perf_counter()
    fingerprints = dict(state.outputs)
    gone = {f"search/{name}" for name in state.search.shards.values()} \
        - {f"search/{name}" for name in index.shards.values()}
    # the marker's terms (output.site_marker) of the files that went and came
    went: list[tuple[str, bytes]] = [(relative, b"") for relative in gone]
    came: list[tuple[str, bytes]] = []
    for edit in edited:
        relative = output_file(edit.page.url)
        went.append((relative, fingerprints[relative]))
        came.append((relative, edit.fingerprint))
        fingerprints[relative] = edit.fingerprint
    for relative, data in search_files.items():
        if data is not None:
            fingerprints[relative] = hashlib.blake2b(data, digest_size=16).digest()
            if relative not in state.site_files:
                came.append((relative, b""))
    for relative in gone:
        fingerprints.pop(relative, None)
    marker = moved_marker(state.stamp.output, went, came)
    written = set(rendered) | {relative for relative, data in search_files.items()
                               if data is not None}
    forget_state(config)  # (stopped from here on, it leaves no stamp: the next build is full)
    with TwinUpdate(output, twin, state.twin_differs, state.site_files) as staging:
        for relative in state.site_files:
            if relative not in written and relative not in gone and relative != MARKER:
                staging.keep(relative)
        for relative, data in rendered.items():
            staging.write(relative, data)
        for relative, data in search_files.items():
            if data is not None:
                staging.write(relative, data)
        staging.write(MARKER, marker.encode() + b"\n")
        twin_differs = staging.commit()
    swapped = time.perf_counter()
    laps["swap"] = swapped - started
    stamp = state.stamp
    new = replace(state, stamp=replace(
        stamp, inputs=scan.inputs, built_at=selection.now.timestamp(), output=marker,
        scanned_ns=scan.scanned_ns, racy=scan.racy, files=staging.files,
        hashes={**stamp.hashes, **scan.hashes, **{e.key: e.record.sha for e in edited}}),
        outputs=fingerprints, search=index, site_files=staging.paths,
        twin_differs=twin_differs, twin=folder_identity(twin),
        unused=state.unused | {edit.before for edit in edited})
    rows = {edit.shown: page_row(edit.page, edit.edition, edit.fingerprint, True,
                                 Sides(edit.cards), edit.links) for edit in edited}
    folder = state_folder(config)
    save_state(config, new, state, PageRows(lambda: rows),
               edited={edit.shown: edit.record for edit in edited},
               detach=partial(start_state_writer, folder)  # (see build.py)
               if folder is not None and exits_after_build() else None)
    laps["save state"] = time.perf_counter() - swapped
    return Expressed(dict(stamp.pages), staging.files, list(stamp.warnings), staging.paths,
                     sorted(rendered), stamp.held_back, laps)
