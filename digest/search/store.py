"""The search index's working data between builds (issue 8), in SQLite beside the build
state, read a row at a time: an edit asks for the sources, postings and metadata chunks
of the few documents and terms it changed, where loading all of them (37 MB of journal
at 10,000 articles) was a tenth of a one-article edit.

Four tables: sources (document id → pickled indexer.Source), postings (term → the
bytes of its array), chunks (chunk key → pickled (metadata by id, file name)), pages
(article file → its row, express.py: what its page shows, for a build that changes
bodies alone); `meta` holds the token the build state names. A build writes its
changes in one transaction under a new token; a database whose token is not the
state's (a build stopped between the two) is not read: the index is made afresh."""

from __future__ import annotations

import os
import pickle
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from digest.cache import PAGE_SIZE

FILE = "search.sqlite3"
TABLES = ("sources", "postings", "chunks", "pages")
K = TypeVar("K")
V = TypeVar("V")


class SearchDataLost(Exception):
    """The database could not be read half-way through a build (damaged since it was
    opened): the build starts over without its state (build.py)."""


class Rows(MutableMapping[K, V]):
    """A table as a mapping whose rows are read when first asked for; what is set or
    deleted stays in memory until the build saves it (`save`). Iterating reads the
    whole table (a build that makes the model afresh compares every document)."""

    def __init__(self, fetch: Callable[[K], V | None],
                 fetch_all: Callable[[], Iterator[tuple[K, V]]],
                 fetch_many: Callable[[list[K]], Iterator[tuple[K, V]]] | None = None
                 ) -> None:
        self._fetch, self._fetch_all, self._fetch_many = fetch, fetch_all, fetch_many
        self._rows: dict[K, V] = {}
        self._gone: set[K] = set()
        self._whole = False
        self.read = 0  # rows read one at a time (tests)

    def __getitem__(self, key: K) -> V:
        try:
            return self._rows[key]
        except KeyError:
            if self._whole or key in self._gone:
                raise
        self.read += 1
        value = self._fetch(key)
        if value is None:
            self._gone.add(key)
            raise KeyError(key)
        self._rows[key] = value
        return value

    def prefetch(self, keys: Iterable[K]) -> None:
        """Read the rows of `keys` not read yet in a few queries (an edit's shards read
        hundreds of postings: one query each was a twentieth of it)."""
        if self._whole or self._fetch_many is None:
            return
        wanted = [key for key in dict.fromkeys(keys)
                  if key not in self._rows and key not in self._gone]
        found = dict(self._fetch_many(wanted))
        self.read += len(wanted)
        for key in wanted:
            if key in found:
                self._rows[key] = found[key]
            else:
                self._gone.add(key)

    def __setitem__(self, key: K, value: V) -> None:
        self._rows[key] = value
        self._gone.discard(key)

    def __delitem__(self, key: K) -> None:
        self[key]  # (KeyError when there is no such row)
        del self._rows[key]
        self._gone.add(key)

    def _read_all(self) -> dict[K, V]:
        if not self._whole:
            for key, value in self._fetch_all():
                if key not in self._rows and key not in self._gone:
                    self._rows[key] = value
            self._whole = True
        return self._rows

    def __iter__(self) -> Iterator[K]:
        return iter(self._read_all())

    def __len__(self) -> int:
        return len(self._read_all())


def _encode(table: str, value: Any) -> bytes | memoryview:
    if table == "postings":
        return memoryview(value)  # (an array's own bytes: SQLite copies them once)
    if table == "pages":
        return bytes(value)  # (express.py encodes them itself)
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(table: str, data: bytes) -> Any:
    if table == "pages":
        return data
    if table == "postings":
        values = array("i")
        values.frombytes(data)
        return values
    return pickle.loads(data)


class SearchStore:
    """The database of one state folder, open for one build."""

    def __init__(self, folder: Path, token: str) -> None:
        """Open it when it holds `token`; ValueError otherwise."""
        path = folder / FILE
        if not path.is_file():
            raise ValueError("its search data is missing")
        self.db = sqlite3.connect(path)
        try:
            self.db.execute("PRAGMA synchronous = OFF")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
        except sqlite3.Error:
            self.db.close()
            raise ValueError("its search data cannot be read") from None
        if row is None or row[0] != token:
            self.db.close()
            raise ValueError("its search data belongs to another build")
        self.token = token

    def rows(self, table: str, key_type: type) -> Rows[Any, Any]:
        assert table in TABLES
        one = f"SELECT value FROM {table} WHERE key = ?"
        every = f"SELECT key, value FROM {table}"

        def fetch(key: Any) -> Any:
            try:
                row = self.db.execute(one, (key,)).fetchone()
                return None if row is None else _decode(table, row[0])
            except (sqlite3.Error, pickle.UnpicklingError, ValueError, EOFError) as error:
                raise SearchDataLost(str(error)) from None

        def fetch_all() -> Iterator[tuple[Any, Any]]:
            try:
                for key, data in self.db.execute(every):
                    yield key_type(key), _decode(table, data)
            except (sqlite3.Error, pickle.UnpicklingError, ValueError, EOFError) as error:
                raise SearchDataLost(str(error)) from None
        def fetch_many(keys: list[Any]) -> Iterator[tuple[Any, Any]]:
            try:
                for start in range(0, len(keys), 500):
                    batch = keys[start:start + 500]
                    yield from ((key, _decode(table, data)) for key, data in self.db.execute(
                        f"SELECT key, value FROM {table} WHERE key IN "
                        f"({','.join('?' * len(batch))})", batch))
            except (sqlite3.Error, pickle.UnpicklingError, ValueError, EOFError) as error:
                raise SearchDataLost(str(error)) from None
        return Rows(fetch, fetch_all, fetch_many)

    def update(self, changes: dict[str, dict[Any, Any]]) -> str:
        """Write `changes` (table → key → value, None to delete) in one transaction under
        a new token; the token."""
        token = os.urandom(8).hex()
        with self.db:
            for table, rows in changes.items():
                self.db.executemany(f"DELETE FROM {table} WHERE key = ?",
                                    [(key,) for key, value in rows.items() if value is None])
                self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)",
                                    [(key, _encode(table, value)) for key, value in rows.items()
                                     if value is not None])
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'token'", (token,))
        self.token = token
        return token

    def close(self) -> None:
        self.db.close()


def peek(folder: Path, table: str, keys: Iterable[Any]) -> dict[Any, Any]:
    """The rows of `keys` in `table` of the folder's database, whoever's they are (no
    token is checked: the caller checks what it reads against its state); {} when
    there is no database to read."""
    assert table in TABLES
    path = folder / FILE
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(path)
        try:
            return {key: _decode(table, data) for key in keys
                    for (data,) in db.execute(f"SELECT value FROM {table} WHERE key = ?",
                                              (key,))}
        finally:
            db.close()
    except (sqlite3.Error, pickle.UnpicklingError, ValueError, EOFError):
        return {}


def write_store(folder: Path, tables: dict[str, Iterable[tuple[Any, Any]]]) -> str:
    """A new database holding `tables` (each: key, value pairs), in place of the folder's
    one; its token."""
    token = os.urandom(8).hex()
    temporary = folder / f".{FILE}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    db = sqlite3.connect(temporary)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a new file, renamed into place whole
        db.execute("PRAGMA synchronous = OFF")
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # (as the Markdown store's)
        with db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE sources (key INTEGER PRIMARY KEY, value BLOB)")
            db.execute("CREATE TABLE postings (key TEXT PRIMARY KEY, value BLOB)")
            db.execute("CREATE TABLE chunks (key INTEGER PRIMARY KEY, value BLOB)")
            db.execute("CREATE TABLE pages (key TEXT PRIMARY KEY, value BLOB)")
            for table in TABLES:
                # In key order each row goes at the end of its table's index: written in a
                # dict's order, the 10k workload's database took twice as long. (The pages'
                # rows are made as they are written, and stay unsorted: held all at once
                # they would be the largest thing in memory at 100,000 articles.)
                rows = tables.get(table, ())
                if table != "pages":
                    rows = sorted(rows, key=itemgetter(0))
                db.executemany(f"INSERT INTO {table} VALUES (?, ?)",
                               ((key, _encode(table, value)) for key, value in rows))
            db.execute("INSERT INTO meta VALUES ('token', ?)", (token,))
    finally:
        db.close()
    os.replace(temporary, folder / FILE)
    (folder / "search").unlink(missing_ok=True)  # (the journal earlier builds kept it in)
    return token
