"""Content-hash cache of rendered Markdown, so a rebuild renders only what changed.

One SQLite file under the project's cache folder. A key is the hash of everything the
output depends on: the text, the base path, the Markdown library's version and the
source of digest's own renderer, so a change to any of them simply misses. The cache is
an optimisation only: if it cannot be read or written the build renders everything.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import markdown

from digest import markup
from digest.markup import RenderedMarkdown

FILE_NAME = "markdown.sqlite3"
Renderer = Callable[[Sequence[str], str], list[RenderedMarkdown]]


@cache
def renderer_fingerprint() -> bytes:
    source = Path(markup.__file__).read_bytes()
    return hashlib.sha256(source + markdown.__version__.encode()).digest()


def cache_key(text: str, base_path: str) -> str:
    digest = hashlib.sha256(renderer_fingerprint())
    digest.update(base_path.encode() + b"\0" + text.encode())
    return digest.hexdigest()


class MarkdownCache:
    """One build's session with the cache: `render` batches, then on close drop every
    entry this build did not use, so the file stays the size of the site."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.db: sqlite3.Connection | None = None
        self.used: set[str] = set()

    def __enter__(self) -> MarkdownCache:
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.folder / FILE_NAME)
                self.db.execute("CREATE TABLE IF NOT EXISTS markdown "
                                "(key TEXT PRIMARY KEY, html TEXT, text TEXT, first TEXT)")
            except (sqlite3.Error, OSError):
                self.db = None
        return self

    def render(self, bodies: Sequence[str], base_path: str, render: Renderer
               ) -> list[RenderedMarkdown]:
        """Rendered bodies, from the cache where possible; `render` does the misses."""
        if self.db is None:
            return render(bodies, base_path)
        keys = [cache_key(body, base_path) for body in bodies]
        self.used.update(keys)
        try:
            found = self._lookup(sorted(set(keys)))
            missing = [i for i, key in enumerate(keys) if key not in found]
            fresh = render([bodies[i] for i in missing], base_path)
            self.db.executemany("INSERT OR REPLACE INTO markdown VALUES (?, ?, ?, ?)",
                                [(keys[i], r.html, r.text, r.first_paragraph)
                                 for i, r in zip(missing, fresh, strict=True)])
        except sqlite3.Error:
            self.close(prune=False)
            return render(bodies, base_path)
        found.update({keys[i]: r for i, r in zip(missing, fresh, strict=True)})
        return [found[key] for key in keys]

    def _lookup(self, keys: list[str]) -> dict[str, RenderedMarkdown]:
        assert self.db is not None
        found: dict[str, RenderedMarkdown] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start:start + 500]
            rows = self.db.execute("SELECT key, html, text, first FROM markdown WHERE key IN "
                                   f"({','.join('?' * len(batch))})", batch)
            found.update({key: RenderedMarkdown(html, text, first)
                          for key, html, text, first in rows})
        return found

    def close(self, prune: bool = True) -> None:
        if self.db is None:
            return
        try:
            if prune:
                self.db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                self.db.executemany("INSERT INTO used VALUES (?)", [(k,) for k in self.used])
                self.db.execute("DELETE FROM markdown WHERE key NOT IN (SELECT key FROM used)")
            self.db.commit()
            self.db.close()
        except sqlite3.Error:
            pass
        self.db = None

    def __exit__(self, *exc_info: object) -> None:
        self.close(prune=exc_info[0] is None)


def render_cached(folder: Path | None, bodies: Sequence[str], base_path: str,
                  render: Renderer) -> list[RenderedMarkdown]:
    """One-shot form: render `bodies` through the cache in `folder`."""
    with MarkdownCache(folder) as session:
        return session.render(bodies, base_path, render)
