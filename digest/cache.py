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


@cache
def renderer_fingerprint() -> bytes:
    source = Path(markup.__file__).read_bytes()
    return hashlib.sha256(source + markdown.__version__.encode()).digest()


def cache_key(text: str, base_path: str) -> str:
    digest = hashlib.sha256(renderer_fingerprint())
    digest.update(base_path.encode() + b"\0" + text.encode())
    return digest.hexdigest()


def render_cached(folder: Path | None, bodies: Sequence[str], base_path: str,
                  render: Callable[[Sequence[str], str], list[RenderedMarkdown]]
                  ) -> list[RenderedMarkdown]:
    """Rendered bodies, from the cache where possible; `render` does the misses."""
    if folder is None:
        return render(bodies, base_path)
    keys = [cache_key(body, base_path) for body in bodies]
    found: dict[str, RenderedMarkdown] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(folder / FILE_NAME) as db:
            db.execute("CREATE TABLE IF NOT EXISTS markdown "
                       "(key TEXT PRIMARY KEY, html TEXT, text TEXT, first TEXT)")
            wanted = sorted(set(keys))
            for start in range(0, len(wanted), 500):
                batch = wanted[start:start + 500]
                rows = db.execute("SELECT key, html, text, first FROM markdown WHERE key IN "
                                  f"({','.join('?' * len(batch))})", batch)
                found.update({key: RenderedMarkdown(html, text, first)
                              for key, html, text, first in rows})
            missing = [i for i, key in enumerate(keys) if key not in found]
            fresh = render([bodies[i] for i in missing], base_path)
            db.executemany("INSERT OR REPLACE INTO markdown VALUES (?, ?, ?, ?)",
                           [(keys[i], r.html, r.text, r.first_paragraph)
                            for i, r in zip(missing, fresh, strict=True)])
            # Keep only what this build used, so the file stays the size of the site.
            db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
            db.executemany("INSERT OR IGNORE INTO used VALUES (?)", [(k,) for k in keys])
            db.execute("DELETE FROM markdown WHERE key NOT IN (SELECT key FROM used)")
        found.update({keys[i]: r for i, r in zip(missing, fresh, strict=True)})
    except (sqlite3.Error, OSError):
        return render(bodies, base_path)
    return [found[key] for key in keys]
