"""The build state: what the last build read and wrote, kept in the cache folder so the
next build does only what changed (issue 8).

Two files per output folder, in `<cache_dir>/build/<hash of the output path>/`:
- `stamp`, small: the stat of every input file, the settings and code it was built
  with, the output folder's marker. It alone decides that nothing changed, so a no-op
  build reads no content file and imports neither Jinja2 nor Markdown.
- `state`: each output's fingerprint, the files of the site and of its twin
  (output.py), and where the rest is: each content file's parsed entry in the journal
  `records` (an edit appends what it changed), the search index's working data in the
  database `search.sqlite3` (search/store.py, read a row at a time), the model in
  `snapshot` (snapshot.py).

Both carry a version and the fingerprint of digest's own code; a missing, corrupt,
older or foreign state is ignored (the build is then a clean one), never trusted. The
state is pickled: it lives in the project's own cache folder, which only the project's
own builds write.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import pickle
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from digest.collector import no_gc_pauses
from digest.config import PYPROJECT, Config
from digest.errors import Diagnostic

if TYPE_CHECKING:
    from digest.depends import HashMemo
    from digest.model import Site
    from digest.plan import OutputPlan
    from digest.search.indexer import Documents

VERSION = 1
LIBRARIES = ("jinja2", "markdown", "pyyaml", "python-slugify", "snowballstemmer")
InputStamps = dict[str, tuple[int, int]]  # file → (mtime_ns, size)
Journal = tuple[str, int, int]  # a journal's token, the length of its base, its length
RACY_NS = 2_000_000_000  # timestamps this close to a scan are not trusted (coarse clocks)
HASHED_SIZE = 1 << 20  # larger settings or template files (a font, an image) go by stat


@cache
def code_fingerprint() -> str:
    """digest's own source, the Python running it and the libraries that shape output."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    digest.update(sys.version.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for name in LIBRARIES:
        version = library_version(name)
        digest.update(f"{name}={version}".encode() if version else name.encode())
    return digest.hexdigest()


def library_version(name: str) -> str:
    """An installed project's version ("" when it is not installed)."""
    version = installed_versions().get(normalized_project(name))
    if version is None:  # (not a wheel's folder on sys.path: ask the slow way)
        from importlib import metadata
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            return ""
    return version


def normalized_project(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def installed_versions() -> dict[str, str]:
    """Each project's version as its `.dist-info` folder names it, the first on
    sys.path as importlib.metadata finds it; importing that module took 20 ms of every
    build (a sixth of the check that nothing changed)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                project, _, version = name.removesuffix(".dist-info").partition("-")
                found.setdefault(normalized_project(project), version)
    return found


def settings_key(config: Config, include_drafts: bool, include_future: bool) -> str:
    """Everything besides files that the built site depends on. Where the project, its
    cache and its output live does not change a byte of the site."""
    shown = replace(config, root=Path(), cache_dir="", output_dir="")
    text = repr((shown, include_drafts, include_future))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def output_salt(config: Config, settings: str, theme: Path) -> bytes:
    """What every output depends on: digest's code, the settings, every template."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(code_fingerprint().encode() + settings.encode())
    for folder in (config.templates_path, theme):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "static" not in path.relative_to(folder).parts[:1]:
                    digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    digest.update(path.read_bytes())
        digest.update(b"\1")
    return digest.digest()


def content_hash(path: Path) -> str:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return ""


def racy_hashes(inputs: InputStamps, scanned_ns: int, locate: Callable[[str], Path]
                ) -> dict[str, str]:
    """Content hashes of the inputs too recent for their stat to be trusted."""
    return {key: content_hash(locate(key)) for key, (mtime, _) in inputs.items()
            if mtime >= scanned_ns - RACY_NS}


def input_locator(config: Config, theme: Path) -> Callable[[str], Path]:
    """The file behind a key of `scan_inputs`."""
    folders = {"content": config.content_path, "templates": config.templates_path,
               "theme": theme}

    def locate(key: str) -> Path:
        kind, _, relative = key.partition(":")
        return folders[kind] / relative if relative else config.root / key
    return locate


def scan_folder(folder: Path, prefix: str, stamps: InputStamps, unusual: set[str]) -> None:
    """Stat every file below `folder` (links followed as the build follows them).
    `unusual` collects the keys of links, of what is neither file nor folder and of
    folders that cannot be read: the build decides about those by walking
    (content.walk_files), not by this stat."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        unusual.add(prefix)
        return
    for entry in entries:
        key = prefix + entry.name
        try:
            if entry.is_file(follow_symlinks=False):  # (the usual case first: 10,000 of them)
                stat = entry.stat(follow_symlinks=False)
                stamps[key] = (stat.st_mtime_ns, stat.st_size)
                continue
            if entry.is_symlink():
                unusual.add(key)
            if entry.is_dir(follow_symlinks=False):  # as the build: linked folders not entered
                scan_folder(Path(entry.path), f"{key}/", stamps, unusual)
            elif entry.is_file():  # a FIFO or a device would block or never end when read
                stat = entry.stat()
                stamps[key] = (stat.st_mtime_ns, stat.st_size)
            else:  # not read by the build (a dangling link, a FIFO): only its presence
                stamps[key] = (-1, -1)
                unusual.add(key)
        except OSError:
            stamps[key] = (-1, -1)
            unusual.add(key)


def scan_inputs(config: Config, theme: Path, unusual: set[str] | None = None
                ) -> InputStamps:
    """The stat of every file a build may read: settings, content, templates, theme.
    `unusual`: see scan_folder."""
    unusual = set() if unusual is None else unusual
    stamps: InputStamps = {}
    try:
        stat = (config.root / PYPROJECT).stat()
        stamps[PYPROJECT] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        pass
    scan_folder(config.content_path, "content:", stamps, unusual)
    scan_folder(config.templates_path, "templates:", stamps, unusual)
    scan_folder(theme, "theme:", stamps, unusual)
    return stamps


def folder_identity(folder: Path) -> tuple[int, int]:
    try:
        stat = folder.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_dev, stat.st_ino)


def usable_twin(twin: Path | None, state: State) -> bool:
    """Whether the last build left a twin known file by file (output.TwinUpdate)."""
    return twin is not None and state.twin_differs is not None \
        and folder_identity(twin) == state.twin != (-1, -1)


@dataclass
class Stamp:
    """Enough to tell, from stat calls alone, that a build would change nothing."""

    version: int
    code: str
    settings: str
    inputs: InputStamps
    article_times: list[float]  # every article's date (timestamp), sorted
    built_at: float  # the build's "now"
    include_future: bool
    output: str  # the marker of the output folder it built (output.MARKER)
    warnings: list[Diagnostic]
    scanned_ns: int  # when the inputs were stat'ed (see `trusts`)
    racy: dict[str, str]  # content hashes of inputs modified just before the scan
    pages: dict[str, int]  # output kind → count, for the summary
    files: int
    held_back: tuple[int, int, tuple[datetime, str] | None]  # drafts, scheduled, next due
    # content hashes of the inputs the build read whole: its Markdown files (as parsed),
    # settings and templates (as scanned); see `trusts`
    hashes: dict[str, str] = field(default_factory=dict)

    def trusts(self, inputs: InputStamps, locate: Callable[[str], Path]) -> bool:
        """Whether `inputs` are the files this build saw. Stat first: equal stats prove
        equal files, but only for files older than the scan by more than the file
        system's timestamp granularity (a file saved twice within one tick, same size,
        looks unchanged: "racy git"). What stat cannot settle, the bytes do: a racy file,
        and a file whose stat changed while its bytes may not have (a fresh checkout of
        the project, a `touch`, a branch switched and back) is hashed and compared with
        the hashes this build kept. A file it kept no hash for (an image, a static
        file) is not read: its new stat means a build."""
        if self.inputs.keys() != inputs.keys():
            return False
        racy = self.scanned_ns - RACY_NS
        for key, stat in inputs.items():
            if stat == self.inputs[key] and stat[0] < racy:
                continue
            known = {self.racy.get(key), self.hashes.get(key)} - {None}
            if stat[0] < 0 or not known or known != {content_hash(locate(key))}:
                return False
        return True

    def publishes_same(self, now: datetime) -> bool:
        """Would `now` publish the same articles as the last build's now?"""
        if self.include_future:
            return True
        before = bisect.bisect_right(self.article_times, self.built_at)
        return before == bisect.bisect_right(self.article_times, now.timestamp())


@dataclass(frozen=True)
class Scan:
    """The inputs of a build as stat sees them, taken before anything is read."""

    settings: str
    inputs: InputStamps
    scanned_ns: int
    racy: dict[str, str]  # content hashes of the files too recent to trust by stat
    hashes: dict[str, str] = field(default_factory=dict)  # of settings and templates
    # True when `inputs` lists every file of content/ and it holds no link, nothing but
    # files and folders, and no folder it could not read: then the build takes its
    # files from the scan instead of walking the folder again (content.load_content)
    lists_content: bool = False


def scan_build(config: Config, theme: Path, include_drafts: bool, include_future: bool
               ) -> Scan:
    scanned_ns = time.time_ns()
    unusual: set[str] = set()
    inputs = scan_inputs(config, theme, unusual)
    # hashed before anything is read, so they describe at most what this build saw
    locate = input_locator(config, theme)
    racy = racy_hashes(inputs, scanned_ns, locate)
    # Settings and templates are few and small (25 files, 70 KB for the default theme:
    # half a millisecond): hashed at every scan, so a build's stamp can settle them by
    # content later (Stamp.trusts). Content files are hashed as they are parsed.
    hashes = {key: racy.get(key) or content_hash(locate(key))
              for key, (mtime, size) in inputs.items()
              if mtime >= 0 and size <= HASHED_SIZE and not key.startswith("content:")}
    return Scan(settings_key(config, include_drafts, include_future), inputs, scanned_ns,
                racy, hashes, lists_content=config.content_path.is_dir() and not any(
                    key.startswith("content:") for key in unusual))


def up_to_date(config: Config, theme: Path, scan: Scan, marker: str, now: datetime,
               stamp: Stamp | None = None) -> Stamp | None:
    """The last build's stamp (from the cache folder unless given) if building now would
    change nothing: same settings and inputs, the output folder still the one it built
    (`marker`), the same articles due. Needs no import of Jinja2, Markdown or YAML: the
    CLI asks this first."""
    kept = stamp is not None
    stamp = stamp or load_stamp(config)
    if stamp is not None and stamp.settings == scan.settings \
            and stamp.trusts(scan.inputs, input_locator(config, theme)) \
            and stamp.output == marker and stamp.publishes_same(now):
        racy = stamp.scanned_ns - RACY_NS
        if not kept and (stamp.inputs != scan.inputs
                         or any(mtime >= racy for mtime, _ in scan.inputs.values())):
            # Settled by content: the stamp a build now would write, so that later checks
            # settle these files by stat again (once they are older than this scan).
            save_stamp(config, replace(stamp, inputs=scan.inputs, scanned_ns=scan.scanned_ns,
                                       racy=scan.racy))
        return stamp
    return None


@dataclass
class State:
    stamp: Stamp
    files: dict[str, Any]  # content file → content.FileRecord
    outputs: dict[str, bytes]  # output file → fingerprint of what it shows
    search: Any = None  # search.indexer's incremental data
    site_files: set[str] = field(default_factory=set)  # every file of the built site
    twin_differs: set[str] | None = None  # files in which the twin differs (output.py)
    twin: tuple[int, int] = (-1, -1)  # identity of the twin folder
    related: Any = None  # model.RelatedMemo of the last build (Pickled: see load_state)
    # where `files` is on disk: the records file's token, the length of its base and
    # its whole length when this state was saved (see save_records)
    records_at: Journal = ("", 0, 0)
    # the token of the database holding `search`'s sources, postings and chunks, and
    # that database, open, when this state was loaded (search/store.py; not pickled)
    search_at: str = ""
    search_store: Any = None
    snapshot_at: str = ""  # the token of the model snapshot it goes with (snapshot.py)
    fed: frozenset[str] = frozenset()  # articles whose body a feed carries (express.py)
    # bodies express builds replaced, for the next usual build to drop unless in use
    unused: frozenset[str] = frozenset()


class KeptState:
    """A build state held in this process between builds (`digest serve`): no pickle
    round trip per rebuild, nothing left in the cache folder. The first build borrows
    the parsed files of `seed`'s state on disk (the project's own `site/` build), so it
    reads no unchanged file again."""

    def __init__(self, seed: Config | None = None) -> None:
        self.state: State | None = None
        self.seed = seed
        # shown values' hashes of the last build (made by build.py: this module stays
        # light for the no-op check, which must not import the model)
        self.hashes: HashMemo | None = None
        # the last build's model and what making it reported: an edit that keeps the
        # model's shape patches it instead of making it again (build.kept_site)
        self.site: Site | None = None
        self.model_notes: list[Diagnostic] = []
        self.plan: OutputPlan | None = None  # its outputs, unit by unit (render.py)
        self.indexed: Documents | None = None  # its search documents (search/indexer.py)

    def take(self) -> State | None:
        if self.state is None and self.seed is not None:
            try:
                borrowed = load_state(self.seed)
            except StateProblem:
                borrowed = None
            self.seed = None
            if borrowed is not None:  # its outputs describe another folder: parsing only
                close_search(borrowed)
                return replace(borrowed, outputs={}, search=None, site_files=set(),
                               twin_differs=None)
        return self.state


def close_search(state: State | None) -> None:
    """Close the search database a loaded state reads from (see open_search)."""
    if state is not None and state.search_store is not None:
        state.search_store.close()
        state.search_store = None


def state_folder(config: Config) -> Path | None:
    """The folder of one output folder's build state (and of its twin, output.py)."""
    if config.cache_path is None:
        return None
    name = hashlib.blake2b(str(config.output_path).encode(), digest_size=8).hexdigest()
    return config.cache_path / "build" / name


def state_paths(config: Config) -> tuple[Path, Path] | None:
    folder = state_folder(config)
    return (folder / "stamp", folder / "state") if folder is not None else None


@dataclass(frozen=True)
class Pickled:
    """A part of a state left as its pickle by a lean load (`load_state`): written back
    as it was read when the build did not change it."""

    data: bytes


def _load(path: Path, lean: bool = False) -> Any:
    with path.open("rb") as file, no_gc_pauses(freeze=True):
        header = pickle.load(file)
        if header != (VERSION, code_fingerprint()):
            raise ValueError("written by another version of digest")
        value = pickle.load(file)
        if isinstance(value, State):
            value.stamp = pickle.load(file)
            related = pickle.load(file)  # (its own pickle, which a lean load keeps)
            value.related = Pickled(related) if lean else pickle.loads(related)
            for container in _containers(value):
                while (chunk := pickle.load(file)) is not None:
                    container.update(chunk)
            if not lean:
                value.files = load_journal(path.with_name(RECORDS), value.records_at)
            if value.search is not None:
                open_search(value, path.parent)
        return value


def open_search(state: State, folder: Path) -> None:
    """Give the state's search data rows read from its database when asked for; or,
    when the database is not the one the state names (a build stopped between saving
    the two), no search data: the index is made afresh."""
    from digest.search.store import SearchStore  # (not for the no-op check)
    try:
        store = SearchStore(folder, state.search_at)
    except ValueError:
        state.search = None
        return
    state.search_store = store
    state.search = replace(state.search, sources=store.rows("sources", int),
                           postings=store.rows("postings", str),
                           chunks=store.rows("chunks", int))


# The parsed files are kept in a journal: a base, then what each build changed appended
# to it, so that an edit writes a few entries instead of the 9 MB of them at 10,000
# articles. A journal is written afresh when its appended changes outgrow this share of
# its base.
RECORDS = "records"
JOURNAL_SLACK = 0.25


def load_journal(path: Path, at: Journal) -> dict[Any, Any]:
    """The entries of a journal: its base, then each change appended since, up to the
    length the state was saved with (a build stopped after appending and before saving
    its state leaves a tail no state refers to)."""
    token, _, length = at
    entries: dict[Any, Any] = {}
    with path.open("rb") as file, no_gc_pauses(freeze=True):
        if pickle.load(file) != (VERSION, code_fingerprint(), token):
            raise ValueError(f"its {path.name} were written by another build")
        while file.tell() < length:
            for key, entry in pickle.load(file).items():
                if entry is None:
                    entries.pop(key, None)
                else:
                    entries[key] = entry
        if file.tell() != length:
            raise ValueError(f"its {path.name} file is not the one it was saved with")
    return entries


def save_journal(path: Path, entries: Callable[[], Iterable[tuple[Any, Any]]],
                 changed: dict[Any, Any] | None, at: Journal) -> Journal:
    """Append `changed` (None for a removed entry) to the journal `at` describes, when
    it is still the one on disk and has room; else write `entries()` afresh. The new
    `at`."""
    token, base, length = at
    if changed is not None and token:
        try:
            with path.open("r+b") as file:
                if pickle.load(file) == (VERSION, code_fingerprint(), token) \
                        and os.fstat(file.fileno()).st_size >= length:
                    file.truncate(length)
                    file.seek(length)
                    if changed:
                        pickle.dump(changed, file, protocol=pickle.HIGHEST_PROTOCOL)
                    if file.tell() - base <= base * JOURNAL_SLACK:
                        return token, base, file.tell()
        except (OSError, pickle.UnpicklingError, EOFError):
            pass
    token = os.urandom(8).hex()
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with temporary.open("wb") as file:
        pickle.dump((VERSION, code_fingerprint(), token), file,
                    protocol=pickle.HIGHEST_PROTOCOL)
        batch: dict[Any, Any] = {}
        for key, entry in entries():
            batch[key] = entry
            if len(batch) == CHUNK:  # (the pickler's memo lives as long as one dump)
                pickle.dump(batch, file, protocol=pickle.HIGHEST_PROTOCOL)
                batch = {}
        pickle.dump(batch, file, protocol=pickle.HIGHEST_PROTOCOL)
        length = file.tell()
    os.replace(temporary, path)
    return token, length, length


def changes(now: dict[Any, Any], before: dict[Any, Any], tag: str = ""
            ) -> dict[Any, Any]:
    """The entries of `now` that are not those of `before` (by identity, else by
    value: a file saved just before the last scan is parsed again into an equal
    record), and None for those it lost; keys prefixed with `tag` when given."""
    def key(name: Any) -> Any:
        return (tag, name) if tag else name
    found = {key(name): entry for name, entry in now.items()
             if (old := before.get(name)) is not entry and old != entry}
    found.update((key(name), None) for name in before.keys() - now.keys())
    return found


@dataclass
class PageRows:
    """The rows of the article pages (express.py) a build saves with its search data:
    those it rendered (by article file), and, for a database written afresh, all of
    them. (The row of an article gone stays: no page of the state matches it again.)"""

    changed: Callable[[], dict[str, Any]] = dict
    every: Callable[[], Iterable[tuple[str, Any]]] | None = None


def save_search(folder: Path, search: Any, loaded: State | None, pages: PageRows) -> str:
    """Write the search index's working data (search.indexer.IndexState) and the
    article pages' rows into the database the loaded state was read from, as the
    changes this build made (in one transaction, under a new token), or into a new
    database; the token. Postings are updated in place, so which changed is what the
    index says (`dirty`)."""
    import sqlite3

    from digest.search.store import write_store
    store = loaded.search_store if loaded is not None else None
    before = loaded.search if loaded is not None else None
    try:
        if store is not None and before is not None and search.dirty is not None:
            found = search.changes
            if found is None:  # (a whole model's documents: each is compared)
                found = {"sources": changes(search.sources, dict(before.sources)),
                         "chunks": changes(search.chunks, dict(before.chunks))}
            postings = search.postings
            return str(store.update({**found, "postings": {term: postings.get(term)
                                                            for term in search.dirty},
                                     "pages": pages.changed()}))
        return write_store(folder, {"sources": search.sources.items(),
                                    "postings": search.postings.items(),
                                    "chunks": search.chunks.items(),
                                    "pages": pages.every() if pages.every else
                                    ((k, v) for k, v in pages.changed().items() if v)})
    except sqlite3.Error:  # the next build makes the index afresh
        return ""


CHUNK = 5_000  # entries per pickle of a state's large containers (see _dump)


def _containers(state: State) -> list[Any]:
    """The large containers of a state, in the order they are written (the parsed files
    and the search data are in journals of their own)."""
    return [state.outputs, state.site_files]


def _dump(file: BinaryIO, value: Any, pickled: bytes | None = None) -> None:
    """A state is written as its skeleton, its stamp (`pickled`, when the caller has
    its pickle), its related memo (as a pickle of its own), then each large container
    in chunks: the pickler's memo holds an entry for every object it wrote (and the
    bytes copy of every array) until the end of its dump, which at 100,000 articles (7
    million objects) made saving the state the peak of the whole build's memory. Any
    other value: `pickled`, or its pickle."""
    if not isinstance(value, State):
        file.write(pickled or pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return
    search = value.search
    skeleton = replace(value, files={}, outputs={}, site_files=set(), search_store=None,
                       search=replace(search, sources={}, postings={}, chunks={}, dirty=None,
                                      changes=None) if search is not None else None,
                       stamp=None, related=None)  # type: ignore[arg-type]
    pickle.dump(skeleton, file, protocol=pickle.HIGHEST_PROTOCOL)
    file.write(pickled or pickle.dumps(value.stamp, protocol=pickle.HIGHEST_PROTOCOL))
    related = value.related
    pickle.dump(related.data if isinstance(related, Pickled) else
                pickle.dumps(related, protocol=pickle.HIGHEST_PROTOCOL), file,
                protocol=pickle.HIGHEST_PROTOCOL)
    for container in _containers(value):
        entries = list(container.items() if isinstance(container, dict) else container)
        for start in range(0, len(entries), CHUNK):
            chunk = entries[start:start + CHUNK]
            pickle.dump(dict(chunk) if isinstance(container, dict) else chunk, file,
                        protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, file, protocol=pickle.HIGHEST_PROTOCOL)


# The stamp last read in this process, by its file's identity: the CLI's no-op check
# reads it, and an express build (express.py) would read it again.
_READ_STAMP: tuple[tuple[str, int, int, int], Stamp] | None = None


# A child still writing (collector.fork_detached: a snapshot, or a CLI build's state)
# touches its pending file every second; one left this long is taken for dead (killed
# with its build). However alive, a child is not waited for longer than WAIT_LIMIT (one
# stuck would hold up every later build): what it writes is renamed into place whole,
# and a state that no longer describes the output folder is not used (its marker).
STALLED = 10.0
WAIT_LIMIT = 300.0
PENDING_STATE = ".state.pending"  # in the state folder while a child writes its state


def wait_while_pending(pending: Path) -> None:
    """Wait while `pending` says a child is still writing what it stands for."""
    started = time.time()
    while True:
        try:
            modified = pending.stat().st_mtime
        except OSError:
            return  # done, or given up
        now = time.time()
        if now - modified > STALLED or now - started > WAIT_LIMIT:
            pending.unlink(missing_ok=True)  # (its writer is gone, or stuck)
            return
        time.sleep(0.005)


def wait_for_state_writer(folder: Path) -> None:
    """Wait for the state a CLI build left its child to write (resume.start_state_writer),
    before reading it, or replacing it."""
    wait_while_pending(folder / PENDING_STATE)


def load_stamp(config: Config) -> Stamp | None:
    global _READ_STAMP
    paths = state_paths(config)
    try:
        if paths is None:
            return None
        wait_for_state_writer(paths[0].parent)
        found = paths[0].stat()
    except OSError:
        return None
    identity = (str(paths[0]), found.st_ino, found.st_mtime_ns, found.st_size)
    if _READ_STAMP is not None and _READ_STAMP[0] == identity:
        return _READ_STAMP[1]
    try:
        stamp = _load(paths[0])
    except Exception:  # any unreadable stamp means "build", never a wrong site
        return None
    if not isinstance(stamp, Stamp):
        return None
    _READ_STAMP = (identity, stamp)
    return stamp


class StateProblem(Exception):
    """The state exists but cannot be used; the build goes on as a clean one."""


def load_state(config: Config, lean: bool = False) -> State | None:
    """The previous build's state; None if there is none; StateProblem if unusable.
    `lean`: its parsed files are not read (`files` is empty) nor its related memo
    unpickled (`Pickled`): what an express build (express.py) needs."""
    paths = state_paths(config)
    if paths is None:
        return None
    wait_for_state_writer(paths[1].parent)
    if not paths[1].exists():
        return None
    try:
        state = _load(paths[1], lean)
    except Exception as error:
        raise StateProblem(str(error) or type(error).__name__) from None
    if not isinstance(state, State) or state.stamp.version != VERSION:
        raise StateProblem("not a build state of this version")
    return state


def save_state(config: Config, state: State, loaded: State | None = None,
               pages: PageRows | None = None, edited: dict[str, Any] | None = None,
               detach: Callable[[Callable[[], None]], bool] | None = None) -> None:
    """Write the state and its stamp atomically (its records first, see save_records;
    `loaded`: the state the build started from; `pages`: the article pages' rows,
    express.py); a failure only costs the next build its head start. `edited`: the only
    records that changed, when the states' `files` were not read (express.py).
    `detach`: runs the last step, pickling the state and its stamp (two thirds of
    saving an edit's state), in a child that outlives the build (resume.
    start_state_writer; False when none can be forked: it is done here). The journal
    and the search database it writes first name no state until that step is done."""
    paths = state_paths(config)
    if paths is None:
        return
    try:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        journal = paths[1].with_name(RECORDS)
        if edited is not None and loaded is not None:
            at = loaded.records_at

            def entries() -> Iterable[tuple[Any, Any]]:  # (only when written afresh)
                every = load_journal(journal, at)
                every.update(edited)
                return every.items()
            state.records_at = save_journal(journal, entries, edited, at)
        else:
            state.records_at = save_journal(
                journal, state.files.items,
                changes(state.files, loaded.files) if loaded is not None else None,
                loaded.records_at if loaded is not None else ("", 0, 0))
        if state.search is not None:
            state.search_at = save_search(paths[1].parent, state.search, loaded,
                                           pages or PageRows())
        close_search(loaded)  # (before a child is forked: no connection crosses it)

        def write() -> None:
            # The full state first: a stamp never describes a state that is not on
            # disk. (Both hold the stamp: pickled once.)
            stamp = pickle.dumps(state.stamp, protocol=pickle.HIGHEST_PROTOCOL)
            for path, value in ((paths[1], state), (paths[0], state.stamp)):
                _write(path, value, stamp)
        if detach is None or not detach(write):
            write()
    except OSError:
        pass
    finally:
        close_search(loaded)


def save_stamp(config: Config, stamp: Stamp) -> None:
    """Replace the stamp alone (its state is unchanged); a failure costs only hashing."""
    paths = state_paths(config)
    if paths is not None:
        with suppress(OSError):
            _write(paths[0], stamp)


def _write(path: Path, value: Any, pickled: bytes | None = None) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with temporary.open("wb") as file:
        pickle.dump((VERSION, code_fingerprint()), file, protocol=pickle.HIGHEST_PROTOCOL)
        _dump(file, value, pickled)
    os.replace(temporary, path)


def forget_state(config: Config) -> None:
    """Drop the stamp, so that no later build takes a half-written site for done. The
    files are renamed away at once and deleted beside the build: on a file system that
    discards freed blocks as it frees them (ext4 mounted with `discard`, as here),
    deleting a 6 MB state took 43 ms of an edit's build, and the stamp 22 ms more."""
    paths = state_paths(config)
    if paths is None:
        return
    wait_for_state_writer(paths[0].parent)
    doomed = [leftover for path in paths  # (of a build killed while deleting them)
              for leftover in path.parent.glob(f".{path.name}.gone-*")]
    doomed += left_written(paths[0].parent)
    for path in paths:
        aside = path.with_name(f".{path.name}.gone-{os.getpid()}-{os.urandom(4).hex()}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue
        except OSError:
            path.unlink(missing_ok=True)
            continue
        doomed.append(aside)
    if doomed:
        # (a process that exits before the thread is done leaves the rest renamed: the
        # next build deletes it, above)
        threading.Thread(target=_delete, args=(doomed,), daemon=True).start()


# A file being written into the state folder, before it is renamed into place: the
# state, stamp or journal (".name.pid"), a search database, a snapshot (".snapshot.token").
WRITING = re.compile(r"\.(?:state|stamp|records|search\.sqlite3|snapshot)\.[0-9a-f]+"
                     r"(?:-journal)?")


def left_written(folder: Path) -> list[Path]:
    """What a process killed while writing into `folder` left there (a detached writer
    ends with the machine, or with the CI job that ran the build): files being written
    are touched every second (or at least every STALLED seconds), these were not."""
    now = time.time()
    left = []
    with suppress(OSError):
        for entry in os.scandir(folder):
            with suppress(OSError):
                if WRITING.fullmatch(entry.name) and now - entry.stat().st_mtime > STALLED:
                    left.append(Path(entry.path))
    return left


def _delete(paths: list[Path]) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink()


def sorted_times(moments: Iterable[datetime]) -> list[float]:
    return sorted(moment.timestamp() for moment in moments)
