"""Content-hash store of rendered Markdown, so a rebuild renders only what changed.

One SQLite file under the project's cache folder. A key is the hash of everything a
rendered body depends on: the text, the Markdown library's version and the source of
digest's own renderer, so a change to any of them simply misses. Bodies are rendered
site-relative (links.py applies the base path when a page is written), so builds for
different base URLs share entries. The cache is an optimisation only: if it cannot be
read or written the build renders everything.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from functools import cache
from pathlib import Path

from digest import markup, quickmark
from digest.markup import RenderedMarkdown
from digest.state import library_version

FILE_NAME = "markdown.sqlite3"
PAGE_SIZE = 16384  # bytes per page of the SQLite databases digest writes (see __enter__)
# bodies → their renderings in order (an iterator: a pool may still be working on them)
Renderer = Callable[[Sequence[str]], Iterable[RenderedMarkdown]]


@cache
def renderer_fingerprint() -> bytes:
    # (read, not imported: Python-Markdown and html.parser are imported only when a
    # body needs them)
    modules = (Path(markup.__file__), Path(quickmark.__file__),
               *(Path(markup.__file__).with_name(name)
                 for name in ("pythonmarkdown.py", "htmltext.py")))
    source = b"".join(module.read_bytes() for module in modules)
    return hashlib.sha256(source + library_version("markdown").encode()).digest()


def cache_key(text: str) -> str:
    digest = hashlib.sha256(renderer_fingerprint())
    digest.update(text.encode())
    return digest.hexdigest()


# A forked worker's own connection to the store (pid, connection): a connection must
# not cross a fork.
_WORKER_DB: tuple[int, sqlite3.Connection] | None = None


class BodyLost(KeyError):
    """A body this build's state refers to is gone from the store: another digest
    process sharing the cache folder dropped it. The build starts over, parsing
    every file (build.py)."""


class MarkdownCache:
    """One build's session with the store. With a folder, rendered bodies go to the
    database and are read back when needed, one at a time, by whichever process needs
    them (forked workers open their own connection): a build never holds every body
    (2 GB at 100,000 articles). On close every entry this build did not `keep` is
    dropped, so the file stays the size of the site. With no folder (or a database that
    cannot be opened) it is a plain memory store."""

    def __init__(self, folder: Path | None, prune: bool = True) -> None:
        self.folder = folder
        self.prune = prune  # False: never drop entries (serve: the project's builds do)
        self.db: sqlite3.Connection | None = None
        self.pid = os.getpid()
        self.used: set[str] = set()
        self.loaded: dict[str, RenderedMarkdown] = {}
        self.forgettable: set[str] | None = None  # None: prune whatever was not used

    def __enter__(self) -> MarkdownCache:
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.folder / FILE_NAME)
                # a cache: losing its last writes to a crash of the machine costs a
                # render, where waiting for the disk at each commit cost an edit up to
                # half a second on a busy machine
                self.db.execute("PRAGMA synchronous = OFF")
                # (for a new store) a page holds a whole body: a cold build at 10k stored
                # its bodies in half the time (0.45 against 0.89 s), in 16% more disk
                self.db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                self.db.execute("CREATE TABLE IF NOT EXISTS markdown "
                                "(key TEXT PRIMARY KEY, html TEXT, text TEXT, first TEXT)")
            except (sqlite3.Error, OSError):
                self.db = None
        return self

    def known(self, keys: Iterable[str]) -> dict[str, RenderedMarkdown]:
        """Renderings of `keys` this session holds or the store has."""
        found = {key: self.loaded[key] for key in keys if key in self.loaded}
        found.update(self.select(sorted({key for key in keys if key not in found})))
        return found

    def add(self, keys: Iterable[str], fresh: Mapping[str, RenderedMarkdown]) -> None:
        """Mark `keys` used by this build and store the renderings made just now."""
        self.used.update(keys)
        if not fresh:
            return
        if self.db is not None:
            try:
                self.db.executemany("INSERT OR REPLACE INTO markdown VALUES (?, ?, ?, ?)",
                                    [(key, r.html, r.text, r.first_paragraph)
                                     for key, r in sorted(fresh.items())])  # (in key order)
                self.db.commit()  # worker processes read them with connections of their own
                return
            except sqlite3.Error:
                self.close(prune=False)  # a memory store from here on
        self.loaded.update(fresh)

    def select(self, keys: Sequence[str]) -> dict[str, RenderedMarkdown]:
        """Stored renderings of `keys` (those the database has)."""
        if self.db is None or not keys:
            return {}
        try:
            return stored(self.db, keys)
        except sqlite3.Error:
            self.close(prune=False)
        return {}

    def fetch(self, keys: Iterable[str]) -> None:
        """Load stored bodies into this process's memory, for what it renders itself."""
        self.loaded.update(self.select([key for key in keys if key not in self.loaded]))

    def get(self, key: str) -> RenderedMarkdown:
        """A body rendered or stored earlier; BodyLost if the store lost it."""
        found = self.loaded.get(key)
        if found is None:
            if os.getpid() != self.pid:  # a forked worker: its own connection, keeps nothing
                found = self.worker_select(key)
            else:
                self.fetch([key])
                found = self.loaded.get(key)
        if found is None:
            raise BodyLost(key)
        return found

    def worker_select(self, key: str) -> RenderedMarkdown | None:
        if self.db is None:
            return None  # a memory store: what the parent had, the worker inherited
        return stored_in(self.folder, [key]).get(key)

    def keep(self, keys: Iterable[str]) -> None:
        """Mark bodies still in use, though not rendered this session."""
        self.used.update(keys)

    def forget_only(self, keys: Iterable[str]) -> None:
        """On close, drop just these entries (bodies the last build used and this one no
        longer does) instead of every entry not used: cost follows the change."""
        self.forgettable = set(keys)

    def forget_also(self, keys: Iterable[str]) -> None:
        """Drop these entries on close too, unless used (bodies an express build
        replaced: it prunes nothing, not knowing which other articles use them)."""
        if self.forgettable is not None:
            self.forgettable.update(keys)

    def close(self, prune: bool = True) -> None:
        if self.db is None:
            return
        try:
            if prune and self.forgettable is not None:
                self.db.executemany("DELETE FROM markdown WHERE key = ?",
                                    [(key,) for key in self.forgettable - self.used])
            elif prune:
                self.db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                self.db.executemany("INSERT INTO used VALUES (?)", [(k,) for k in self.used])
                self.db.execute("DELETE FROM markdown WHERE key NOT IN (SELECT key FROM used)")
            self.db.commit()
            self.db.close()
        except sqlite3.Error:
            pass
        self.db = None

    def __exit__(self, *exc_info: object) -> None:
        self.close(prune=self.prune and exc_info[0] is None)


def stored(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, RenderedMarkdown]:
    found: dict[str, RenderedMarkdown] = {}
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        rows = db.execute("SELECT key, html, text, first FROM markdown WHERE key "
                          f"IN ({','.join('?' * len(batch))})", batch)
        found.update({key: RenderedMarkdown(html, text, first)
                      for key, html, text, first in rows})
    return found


def stored_in(folder: Path | None, keys: Sequence[str]) -> dict[str, RenderedMarkdown]:
    """What the store in `folder` has of `keys`, read by a forked worker through a
    connection of its own (none at all when the store cannot be read)."""
    if folder is None or not keys:
        return {}
    try:
        return stored(worker_db(folder), keys)
    except sqlite3.Error:
        return {}


def worker_db(folder: Path) -> sqlite3.Connection:
    """This worker's connection to the store in `folder`, opened on first use."""
    global _WORKER_DB
    if _WORKER_DB is None or _WORKER_DB[0] != os.getpid():
        db = sqlite3.connect(folder / FILE_NAME)
        db.execute("PRAGMA synchronous = OFF")  # (as the parent's: see MarkdownCache)
        _WORKER_DB = (os.getpid(), db)
    return _WORKER_DB[1]


def store_in(folder: Path | None, fresh: Mapping[str, RenderedMarkdown]) -> bool:
    """Store renderings from a forked worker, through its own connection, so that they
    need not travel to the parent (130 MB at 10,000 articles, which it unpickled and
    stored itself: a tenth of the parse step's CPU, spent in the one process that also
    collects what the workers make). False when they could not be stored: the parent
    stores them."""
    if folder is None or not fresh:
        return not fresh
    try:
        db = worker_db(folder)
        db.executemany("INSERT OR REPLACE INTO markdown VALUES (?, ?, ?, ?)",
                       [(key, r.html, r.text, r.first_paragraph)
                        for key, r in sorted(fresh.items())])  # (in key order)
        db.commit()
        return True
    except sqlite3.Error:
        if _WORKER_DB is not None:
            with suppress(sqlite3.Error):
                _WORKER_DB[1].rollback()
        return False


def render_cached(folder: Path | None, bodies: Sequence[str], render: Renderer
                  ) -> list[RenderedMarkdown]:
    """One-shot form: render `bodies` through the cache in `folder`."""
    keys = [cache_key(body) for body in bodies]
    with MarkdownCache(folder) as session:
        known = session.known(keys)
        missing = {key: body for key, body in zip(keys, bodies, strict=True)
                   if key not in known}
        fresh = dict(zip(missing, render(list(missing.values())), strict=True))
        session.add(keys, fresh)
        known.update(fresh)
        return [known[key] for key in keys]
