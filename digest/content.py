"""Read content/: find its files, parse and validate each (entries.py) and render its
Markdown, by worker processes on a large site; reuse what an unchanged file gave last
time (FileRecord). Every problem becomes a diagnostic at its file, line and column;
loading goes on so one run reports all of them.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from digest.cache import MarkdownCache, cache_key, store_in, stored_in
from digest.collector import forked_executor
from digest.config import Config
from digest.entries import (
    Article,
    CompanyEntry,
    EditionNote,
    Entry,
    TopicEntry,
    read_article,
    read_company,
    read_edition,
    read_topic,
)
from digest.errors import Diagnostic, Diagnostics
from digest.fields import FieldReader
from digest.frontmatter import parse_front_matter
from digest.links import ATTRIBUTE, MAYBE_SOURCE, is_external, source_relative
from digest.markup import RenderedMarkdown, render_markdown

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# Worker processes pay off only past this many files (fork + pickling costs ~0.1 s).
PARALLEL_THRESHOLD = 200
CHUNK = 50  # files a worker parses at a time
IGNORED = (".", "_")  # names of content files and folders that are not published
KINDS = ("articles", "companies", "topics", "editions")  # folders of content/, by kind


@dataclass
class Content:
    articles: list[Article] = field(default_factory=list)
    companies: list[CompanyEntry] = field(default_factory=list)
    topics: list[TopicEntry] = field(default_factory=list)
    editions: list[EditionNote] = field(default_factory=list)  # editors' notes


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
    return sorted_paths(found)


def sorted_paths(paths: Iterable[str]) -> list[str]:
    """Relative POSIX paths in the order the build reads them: by their parts."""
    return sorted(paths, key=lambda relative: relative.split("/"))


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


def published(relative: str) -> bool:
    """Whether a path below a content folder is published: no part of it is hidden or
    kept aside (IGNORED), as walk_files skips them."""
    return not any(part.startswith(IGNORED) for part in relative.split("/"))


def scanned_files(scanned: Mapping[str, tuple[int, int]], folder: str,
                  markdown: bool = True) -> list[str]:
    """What walk_files finds below content's `folder` ("articles/"), taken from a scan
    of content/ that met no link and nothing but files and folders (state.Scan): the
    same relative paths, in the same order (without *.md files unless `markdown`)."""
    start = "content:" + folder
    return sorted_paths(key[len(start):] for key in scanned
                        if key.startswith(start) and (markdown or not key.endswith(".md"))
                        and published(key[len(start):]))


def scanned_markdown(scanned: Mapping[str, tuple[int, int]]) -> list[tuple[str, str]]:
    """What markdown_files finds in each folder of KINDS, taken from a scan of content/
    that met no link and nothing but files and folders (state.Scan.lists_content):
    (kind, path in content/) in the same order."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for key in scanned:
        if key.startswith("content:") and key.endswith(".md"):
            kind, _, relative = key[8:].partition("/")
            if kind in found and relative and published(relative):
                found[kind].append(relative)
    return [(kind, f"{kind}/{relative}") for kind in KINDS
            for relative in sorted_paths(found[kind])]


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


class FileRecord(NamedTuple):
    """What one content file gave last time, reused while its bytes are the same. (A
    named tuple: the state holds one per content file, see entries.Source.)"""

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
                 scanned: Mapping[str, tuple[int, int]] | None = None,
                 scan_lists_content: bool = False,
                 last_scanned: Mapping[str, tuple[int, int]] | None = None
                 ) -> tuple[Content, dict[str, FileRecord]]:
    """Every entry of content/, and the file records to reuse next time. A file whose
    size and mtime match its previous record (and whose mtime is older than
    `trusted_before_ns`, see state.Stamp.trusts), or else whose bytes do, is not parsed
    again. `scanned`: (mtime_ns, size) of files stat'ed just before (state.scan_inputs,
    keyed "content:<path in content/>"), spared a second stat; `scan_lists_content`:
    it holds every file of content/ and nothing a walk would refuse (state.Scan), so
    the files are taken from it instead of walking the folder again. `last_scanned`:
    the scan of the build that left `previous` (its stamp): when it lists the very
    files this one does, only those whose stat changed are looked at."""
    scanned = scanned or {}
    previous = previous or {}
    if previous and scan_lists_content and last_scanned is not None \
            and scanned.keys() == last_scanned.keys():
        quick = load_changed(config, diagnostics, bodies, previous, trusted_before_ns,
                             scanned, last_scanned)
        if quick is not None:
            return quick
    content_root = config.content_path
    if not content_root.is_dir():
        diagnostics.error(config.content_dir, 0, 0, "content folder not found",
                          f"create {config.content_dir}/articles/ with Markdown articles, "
                          "or run digest in the project folder")
        return Content(), {}
    # Names as shown in diagnostics, made by joining strings: pathlib's relative_to
    # per file costs a tenth of a second at 10,000 articles.
    prefix = shown_prefix(config)
    refused: list[str] = []
    # (kind, path in content/): its Path is made only for a file that is read
    files = scanned_markdown(scanned) if scan_lists_content else \
        [(kind, shown[len(prefix):]) for kind in KINDS
         for _, shown in markdown_files(content_root / kind, f"{prefix}{kind}/",
                                        config.root, refused)]
    for shown in refused:
        diagnostics.warning(shown, 0, 0, "not read: a link to a file outside the project, "
                            "or not a regular file",
                            "copy the file into the project instead of linking to it")
    records: dict[str, FileRecord] = {}
    to_parse: list[tuple[str, Path, str, Stat, bytes | None]] = []
    for kind, inside in files:
        shown = prefix + inside
        stat = scanned.get("content:" + inside, (-1, -1))
        if stat[0] < 0:  # not scanned, or not a regular file then
            try:
                result = (content_root / inside).stat()
            except OSError as error:
                diagnostics.error(shown, 0, 0, f"cannot read file: {error.strerror}")
                continue
            stat = (result.st_mtime_ns, result.st_size)
        record = previous.get(shown)
        data = None
        if record is not None:
            looked = still_right(record, stat, content_root / inside, shown,
                                 trusted_before_ns, diagnostics)
            if looked is None:
                continue
            if isinstance(looked, FileRecord):
                records[shown] = looked
                continue
            data = looked
        # New files are read with their batch: a cold build never holds all their bytes.
        to_parse.append((kind, content_root / inside, shown, stat, data))
    for parsed in parse_all(to_parse, config, bodies):
        records.update((shown, record) for shown, record, _ in parsed)
    content = sorted_content((records.get(prefix + inside) for _, inside in files),
                             diagnostics)
    bodies.keep(entry_bodies(content))
    if previous:  # (the bodies of the records kept are in use: only the others may go)
        bodies.forget_only(body_key(record.entry) for shown, record in previous.items()
                           if records.get(shown) is not record)
    no_articles(config, content, diagnostics)
    return content, records


def still_right(record: FileRecord, stat: Stat, path: Path, shown: str,
                trusted_before_ns: int, diagnostics: Diagnostics) -> FileRecord | bytes | None:
    """The file's record when it still describes the file (its stat says so, if older
    than `trusted_before_ns`: see state.Stamp.trusts; else its bytes do, and it gets
    the new stat); else the file's bytes, to parse; None when it cannot be read."""
    if record.mtime_ns < trusted_before_ns and (record.mtime_ns, record.size) == stat:
        return record
    data = read_bytes(path, shown, diagnostics)
    if data is None or record.sha != file_sha(data):
        return data
    return record._replace(mtime_ns=stat[0], size=stat[1])


def sorted_content(records: Iterable[FileRecord | None], diagnostics: Diagnostics
                   ) -> Content:
    """The entries of `records` (in order) by kind, their diagnostics reported."""
    content = Content()
    for record in records:
        if record is None:
            continue
        if record.diagnostics:
            diagnostics.extend(record.diagnostics)
        if isinstance(record.entry, Article):
            content.articles.append(record.entry)
        elif isinstance(record.entry, CompanyEntry):
            content.companies.append(record.entry)
        elif isinstance(record.entry, TopicEntry):
            content.topics.append(record.entry)
        elif isinstance(record.entry, EditionNote):
            content.editions.append(record.entry)
    return content


# Past this many changed files, looking at every file costs no more.
QUICK_LIMIT = 200


def load_changed(config: Config, diagnostics: Diagnostics, bodies: MarkdownCache,
                 previous: Mapping[str, FileRecord], trusted_before_ns: int,
                 scanned: Mapping[str, tuple[int, int]],
                 last_scanned: Mapping[str, tuple[int, int]]
                 ) -> tuple[Content, dict[str, FileRecord]] | None:
    """load_content when content/ holds the files the last build's scan listed (the same
    names, so its records are the same files in the same order): only the Markdown
    files whose stat changed (or is too recent to trust) are looked at, as load_content
    looks at each; a listing of 10,000 files and a loop over them was a twelfth of an
    edit. None when too many changed."""
    prefix = shown_prefix(config)
    changed = [key[8:] for key, stat in scanned.items()
               if (stat != last_scanned[key] or stat[0] >= trusted_before_ns)
               and key.startswith("content:") and key.endswith(".md")]
    wanted = [inside for inside in changed
              if (parts := inside.partition("/"))[0] in KINDS and parts[2]
              and published(parts[2])]
    if len(wanted) > QUICK_LIMIT or any(prefix + inside not in previous
                                        for inside in wanted):
        return None
    records = dict(previous)
    to_parse: list[tuple[str, Path, str, Stat, bytes | None]] = []
    for inside in wanted:
        shown, stat = prefix + inside, scanned["content:" + inside]
        looked = still_right(previous[shown], stat, config.content_path / inside, shown,
                             trusted_before_ns, Diagnostics())
        if looked is None:
            return None  # (load_content reports it, as it does any file it cannot read)
        if isinstance(looked, FileRecord):
            records[shown] = looked
        else:
            to_parse.append((inside.partition("/")[0], config.content_path / inside, shown,
                             stat, looked))
    for parsed in parse_all(to_parse, config, bodies):
        records.update((shown, record) for shown, record, _ in parsed)
    content = sorted_content(records.values(), diagnostics)
    bodies.keep(entry_bodies(content))
    bodies.forget_only(body_key(previous[shown].entry) for _, _, shown, _, _ in to_parse)
    no_articles(config, content, diagnostics)
    return content, records


def no_articles(config: Config, content: Content, diagnostics: Diagnostics) -> None:
    if not content.articles and not diagnostics.errors:
        diagnostics.warning(f"{config.content_dir}/articles", 0, 0, "no articles found",
                            "add Markdown files with front matter under content/articles/")


def input_hashes(records: Mapping[str, FileRecord], config: Config) -> dict[str, str]:
    """Each file's hash as parsed, under its key in the build's scan ("content:" and its
    path in content/): what state.Stamp.trusts compares it with when its stat changed."""
    prefix = shown_prefix(config)
    return {"content:" + shown[len(prefix):]: record.sha for shown, record in records.items()}


def shown_prefix(config: Config) -> str:
    """What diagnostics put before a path in content/ ("content/", or "" when the
    content folder is the project root)."""
    shown_root = display_path(config.content_path, config.root)
    return "" if shown_root == "." else shown_root + "/"


def entry_bodies(content: Content) -> list[str]:
    return [a.body for a in content.articles] + [c.body for c in content.companies] \
        + [n.body for n in content.editions]


def has_body(entry: Entry | None) -> TypeGuard[Article | CompanyEntry | EditionNote]:
    """Topics show no body: only articles', companies' and editors' notes are rendered."""
    return isinstance(entry, Article | CompanyEntry | EditionNote)


def body_key(entry: Entry | None) -> str:
    return entry.body if has_body(entry) else ""


def read_bytes(path: Path, shown: str, diagnostics: Diagnostics) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        diagnostics.error(shown, 0, 0, f"cannot read file: {error.strerror}")
    return None




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
        made = in_order(forked_executor(workers),
                        partial(parse_in_worker, config=config, store=store),
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
    """`parse_files` in a worker: the bodies it renders it stores itself, and hands
    back only if it could not (cache.store_in)."""
    parsed = parse_files(files, config, partial(stored_in, store))
    if store_in(store, {body_key(record.entry): fresh for _, record, fresh in parsed
                        if fresh is not None}):
        return [(shown, record, None) for shown, record, _ in parsed]
    return parsed


def parse_files(files: _Chunk, config: Config, lookup: Lookup) -> list[Parsed]:
    """Each file's record: its entry validated and its body rendered (or found in the
    store through `lookup`), and the renderings made here."""
    parsed: list[tuple[str, Stat, str, Entry | None, Diagnostics, str, str]] = []
    for kind, path, shown, stat, data in files:
        found = Diagnostics()
        entry: Entry | None = None
        body = front = ""
        if data is None:
            data = read_bytes(path, shown, found)
            if data is None:
                parsed.append((shown, stat, "", None, found, "", ""))
                continue
        text = decode_text(data, shown, found)
        matter = parse_front_matter(text, shown, found) if text is not None else None
        if matter:
            reader = FieldReader(matter, shown, found)
            entry = (read_article(reader, config) if kind == "articles"
                     else read_company(reader) if kind == "companies"
                     else read_edition(reader) if kind == "editions" else read_topic(reader))
            body = matter.body
            assert text is not None
            front = text[:len(text) - len(body)] if text.endswith(body) else text
        sha = file_sha(data)
        parsed.append((shown, stat, sha, entry, found, body,
                       file_sha(front.encode()) if front else sha))
    keys = [cache_key(body) if has_body(entry) else "" for _, _, _, entry, _, body, _ in parsed]
    known = dict(lookup(sorted({key for key in keys if key})))
    made: list[Parsed] = []
    for (shown, stat, sha, entry, found, body, front), key in zip(parsed, keys, strict=True):
        fresh = None
        if entry is not None and key:
            rendering = known.get(key)
            if rendering is None:
                rendering = known[key] = fresh = render_markdown(body)
            entry = with_body(entry, key, rendering, config, sha, front)
        made.append((shown, FileRecord(*stat, sha, entry, tuple(found)), fresh))
    return made


def with_body(entry: Entry, key: str, body: RenderedMarkdown, config: Config,
              sha: str, front: str = "") -> Entry:
    if isinstance(entry, Article):
        return entry._replace(summary=entry.summary or body.first_paragraph, body=key,
                              word_count=body.word_count(),
                              links=body_links(body.html, entry.path, config), sha=sha,
                              front=front)
    if isinstance(entry, CompanyEntry):
        return replace(entry, profile_html=body.html, body=key)
    if isinstance(entry, EditionNote):
        return replace(entry, html=body.html, body=key,
                       links=body_links(body.html, entry.path, config))
    return entry


def body_links(html: str, article_path: str, config: Config) -> tuple[str, ...]:
    """Source paths of the other articles a body links to (`[x](../a.md)`): the page
    shows their URLs, so it depends on them."""
    if not MAYBE_SOURCE.search(html):  # (7× faster than the findall, for most bodies)
        return ()
    found = []
    for _attribute, target in ATTRIBUTE.findall(html):
        # (only a target spelling ".md", plainly or percent-encoded, can name a source
        # file: the others, most of them external, skip urlsplit)
        if ".md" not in target and "%" not in target:
            continue
        if not is_external(target) and not target.startswith("/"):
            path = source_relative(article_path, target)
            if path.endswith(".md"):
                found.append(path)
    return tuple(sorted(set(found)))

