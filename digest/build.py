"""Orchestration: load → model → render → write. Nothing is written until everything
loaded and rendered cleanly, and the output folder is replaced in one swap, so a failed
or interrupted build leaves the previous site untouched."""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from digest.cache import BodyLost, MarkdownCache
from digest.collector import exits_after_build, no_gc_pauses, spare
from digest.config import Config, current_time, default_theme_path
from digest.content import (
    IGNORED,
    FileRecord,
    display_path,
    input_hashes,
    load_content,
    scanned_files,
    walk_files,
)
from digest.depends import fingerprint_bytes
from digest.errors import BuildError, Diagnostic, Diagnostics
from digest.express import Sides, express, page_row
from digest.feeds import fed_articles
from digest.model import (
    ArticlePage,
    RelatedMemo,
    Selection,
    Site,
    build_site,
)
from digest.output import (
    MARKER,
    Staging,
    TwinUpdate,
    check_output_folder,
    exclusive,
    make_twin,
    read_marker,
    regular_file,
    site_marker,
    twin_path,
)
from digest.plan import Output, OutputPlan
from digest.render import PARALLEL_THRESHOLD as RENDER_POOL_THRESHOLD
from digest.render import BodyResolver, Progress, RenderingBeside, render_outputs
from digest.resume import (
    changed_articles,
    kept_site,
    output_plan,
    restore,
    save_snapshot,
    saved_documents,
    snapshot_token,
    stale_outputs,
    start_snapshot,
    start_state_writer,
)
from digest.search.indexer import (
    Documents,
    FreshPostings,
    IndexLimitError,
    IndexState,
    index_documents,
    write_index,
)
from digest.search.store import SearchDataLost
from digest.state import (
    RACY_NS,
    VERSION,
    KeptState,
    PageRows,
    Scan,
    Stamp,
    State,
    StateProblem,
    code_fingerprint,
    folder_identity,
    forget_state,
    load_state,
    output_salt,
    save_state,
    scan_build,
    sorted_times,
    state_folder,
    up_to_date,
    usable_twin,
)
from digest.urls import FILES_PREFIX, Urls, output_file, static_path


@dataclass
class BuildResult:
    site: Site | None  # None when nothing changed and nothing was loaded
    pages: Counter[str]
    files: int
    seconds: float
    warnings: list[Diagnostic] = field(default_factory=list)
    output: Path | None = None
    paths: set[str] = field(default_factory=set)  # every file of the site, relative
    rendered: list[str] = field(default_factory=list)  # outputs rendered this time
    unchanged: bool = False  # nothing changed: the build stopped after checking
    held_back: tuple[int, int, tuple[datetime, str] | None] = (0, 0, None)
    notes: list[str] = field(default_factory=list)  # e.g. why the state was not used
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    express: bool = False  # an edit of bodies alone, built without the model (express.py)


class Laps:
    """Seconds spent in each step of a build, for `digest build --timings`."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.laps: dict[str, float] = {}

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = now - self.last
        self.last = now


def load(config: Config, diagnostics: Diagnostics, selection: Selection | None = None,
         store: MarkdownCache | None = None,
         previous: Mapping[str, FileRecord] | None = None, trusted_before_ns: int = 0,
         memo: RelatedMemo | None = None) -> tuple[Site, dict[str, FileRecord]]:
    """Read and validate everything; raise BuildError carrying every problem found."""
    content, records = load_content(config, diagnostics, store or MarkdownCache(None),
                                    previous, trusted_before_ns)
    site = build_site(content, config, diagnostics, selection or Selection(current_time()),
                      memo)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    return site, records


def static_files(config: Config, diagnostics: Diagnostics, scan: Scan | None = None
                 ) -> dict[str, Path]:
    """Files published as they are: the theme's static/ (overridden file by file by the
    site's templates/static/), content/static/ at the site root, and the images and other
    files kept beside articles, under files/. Content's files are taken from `scan`
    when it lists them all (state.Scan.lists_content), as load_content takes them: the
    walk of 10,000 articles' folder was a hundredth of an edit."""
    files: dict[str, Path] = {}
    theme = default_theme_path()
    folders = [(theme / "static", static_path(""), theme, (".",), None),
               (config.templates_path / "static", static_path(""), config.root, (".",), None),
               (config.content_path / "static", "", config.root, IGNORED, "static/"),
               (config.content_path / "articles", FILES_PREFIX, config.root, IGNORED,
                "articles/")]
    for folder, prefix, within, ignored, in_content in folders:
        refused: list[str] = []
        listed = scanned_files(scan.inputs, in_content, markdown=False) \
            if scan is not None and scan.lists_content and in_content is not None \
            else walk_files(folder, within, ignored, refused)
        for relative in listed:
            if not relative.endswith(".md"):
                files[prefix + relative] = folder / relative
        for link in (link for link in refused if not link.endswith(".md")):
            diagnostics.warning(display_path(folder / link, config.root), 0, 0,
                                "not published: a link to a file outside the project, or "
                                "not a regular file",
                                "copy the file into the project instead of linking to it")
    return files


def build(config: Config, *, write: bool = True, selection: Selection | None = None,
          progress: Progress | None = None, store: MarkdownCache | None = None,
          kept: KeptState | None = None, scan: Scan | None = None) -> BuildResult:
    """Build the site, doing only what changed since the last build (the state in the
    cache folder, or `kept` in this process), or nothing at all when no input changed.
    `scan`: the inputs as a caller already scanned them and found changed (the CLI)."""
    started = time.perf_counter()
    selection = selection or Selection(current_time())
    output = check_output_folder(config) if write else None
    theme = default_theme_path()
    checked = scan is not None
    scan = scan or scan_build(config, theme, selection.include_drafts,
                              selection.include_future)
    if output is not None and not checked:
        last = kept.state.stamp if kept is not None and kept.state is not None else None
        stamp = None if kept is not None and last is None else up_to_date(
            config, theme, scan, read_marker(output), selection.now, last)
        if stamp is not None:
            return BuildResult(None, Counter(stamp.pages), stamp.files,
                               time.perf_counter() - started, stamp.warnings, output,
                               unchanged=True, held_back=stamp.held_back)
    with exclusive(output) if output is not None else nullcontext():
        if output is not None and kept is None:
            expressed = express(config, scan, selection, output, store)
            if expressed is not None:
                return BuildResult(None, Counter(expressed.pages), expressed.files,
                                   time.perf_counter() - started, expressed.warnings, output,
                                   expressed.paths, expressed.rendered,
                                   held_back=expressed.held_back, timings=expressed.timings,
                                   express=True)
        try:
            return build_changed(config, write=write, selection=selection,
                                 progress=progress, store=store, kept=kept, scan=scan,
                                 started=started)
        except (BodyLost, SearchDataLost):
            # Another build sharing the cache folder (a `digest serve` beside a `digest
            # build`) dropped a body this state refers to, or the search data was
            # damaged: parse every file again.
            if kept is not None:
                kept.state, kept.seed, kept.site, kept.plan, kept.indexed = (None,) * 5
            elif output is not None:
                forget_state(config)
            return build_changed(config, write=write, selection=selection,
                                 progress=progress, store=store, kept=kept, scan=scan,
                                 started=started, use_state=False)


def build_changed(config: Config, *, write: bool, selection: Selection,
                  progress: Progress | None, store: MarkdownCache | None,
                  kept: KeptState | None, scan: Scan, started: float,
                  use_state: bool = True) -> BuildResult:
    """The build once it is known that something changed (and, when writing, with the
    output folder locked)."""
    # checked again now that the folder is locked: what it holds decides whether the
    # swap may replace it, and another process may have changed it meanwhile
    output = check_output_folder(config) if write else None
    theme = default_theme_path()
    settings, inputs, scanned_ns, racy = scan.settings, scan.inputs, scan.scanned_ns, scan.racy
    notes: list[str] = []
    lap = Laps(started)
    lap("check inputs")
    try:
        state = None if not use_state else kept.take() if kept is not None \
            else load_state(config)
    except StateProblem as problem:
        notes.append(f"ignored the build state in {config.cache_dir}/ ({problem}); "
                     "building everything")
        state = None
    if state is not None and state.stamp.settings != settings:
        state = replace(state, outputs={}, search=None)  # other settings: reuse only parsing
    lap("load state")
    diagnostics = Diagnostics()
    # A build makes hundreds of thousands of long-lived objects and little garbage,
    # which the cyclic collector would walk over and over (half of the time of an edit
    # at 10,000 articles, a second of a cold build): paused until the end.
    with no_gc_pauses(freeze=True), \
            nullcontext(store) if store else \
            MarkdownCache(config.cache_path, prune=kept is None) as store, \
            ExitStack() as underway:
        memo = state.related if state is not None and state.related else RelatedMemo()
        content, records = load_content(config, diagnostics, store,
                                        state.files if state else None,
                                        state.stamp.scanned_ns - RACY_NS if state else 0,
                                        inputs, scan.lists_content,
                                        state.stamp.inputs if state else None)
        if state is not None:
            store.forget_also(state.unused)
        salt = output_salt(config, settings, theme)
        urls = Urls(config.base_url)
        changed = changed_articles(state, records, settings, selection)
        resumed = (kept_site(kept, state, changed, config, memo) if kept is not None
                   else restore(state, changed, config, settings, salt, urls, memo, selection)
                   if output is not None else None)
        if resumed is None:
            found = Diagnostics()
            site = build_site(content, config, found, selection, memo)
            model_notes, edited, snapshot_outdated = found.items, None, True
        else:
            site, model_notes = resumed.site, resumed.notes
            edited, snapshot_outdated = resumed.edited, resumed.retitled
        diagnostics.extend(model_notes)
        if diagnostics.errors:
            raise BuildError(diagnostics)
        lap("read content, site model")
        early = start_search_index(site, store, underway) \
            if config.search and (state is None or state.search is None) else None
        plan, fingerprints = output_plan(site, urls, salt, kept, resumed, state)
        listed = plan.files()
        statics = static_files(config, diagnostics, scan)
        check_clashes(plan, listed, statics, config, diagnostics)
        if diagnostics.errors:
            raise BuildError(diagnostics)
        # the folder of the state a CLI build saves (a state kept in memory has none)
        folder = state_folder(config) if output is not None and kept is None else None
        # a state kept in memory keeps its twin beside the output (serve's scratch folder)
        twin = twin_path(output, folder) if output is not None else None
        previous = existing_outputs(state, output, twin)
        stale = stale_outputs(plan, listed, previous, fingerprints, salt)
        lap("list outputs")
        bodies = BodyResolver(site.by_source, store, urls, config.content_dir)
        with choose_writer(output, twin, state, previous) as staging:
            # An edit's few pages are rendered by a child beside the rest of the build
            # (render.RenderingBeside); many pages, by a pool of workers, meanwhile.
            beside = RenderingBeside.start(config, urls, bodies, stale, staging) \
                if previous and 0 < len(stale) < RENDER_POOL_THRESHOLD else None
            if beside is None:
                render_outputs(config, urls, bodies, stale, diagnostics, staging, progress)
                if diagnostics.errors:
                    raise BuildError(diagnostics)
            else:
                underway.callback(beside.cancel)
            lap("render")
            for relative in fingerprints.keys() - {output_file(o.site_path) for o in stale}:
                staging.keep(relative)
            write_static_files(config, statics, staging, salt, scanned_ns, previous,
                               fingerprints)
            lap("keep unchanged, static files")
            index_state = None
            if config.search:
                # The index is updated in place only over the site it was made for.
                index_state, indexed = write_search_index(
                    site, store, staging, state.search if state and previous else None,
                    previous, fingerprints, kept.indexed if kept else
                    saved_documents(site, state, resumed), edited, early)
                if kept is not None:
                    kept.indexed = indexed
            if beside is not None:
                beside.finish(diagnostics)
                if diagnostics.errors:
                    raise BuildError(diagnostics)
            lap("search index")
            marker = site_marker({relative: fingerprints[relative] for relative, _, _ in listed},
                                 staging.paths)
            staging.write(MARKER, marker.encode() + b"\n")
            if output is not None and kept is None:
                forget_state(config)
            twin_differs = staging.commit()
            lap("swap")
    warnings = sorted(diagnostics.warnings, key=Diagnostic.sort_key)
    pages = Counter(kind for _, kind, _ in listed)
    held = held_back_summary(site)
    if output is not None:
        all_articles = [p.article for p in site.articles] + [h.article for h in site.held_back]
        hashed = {**scan.hashes, **input_hashes(records, config)}
        stamp = Stamp(VERSION, code_fingerprint(), settings, inputs,
                      # (an edition's end, too: its period stops running then)
                      sorted_times([*(a.date for a in all_articles),
                                    *(e.ends_at for e in site.editions)]),
                      selection.now.timestamp(),
                      selection.include_future, marker, warnings,
                      scanned_ns, racy, dict(pages), staging.files, held,
                      # keyed by the very strings of `inputs`: pickled once, not twice
                      {key: hashed[key] for key in inputs if key in hashed})
        new = State(stamp, records, fingerprints, index_state, staging.paths, twin_differs,
                    folder_identity(twin or output), memo,
                    snapshot_at=state.snapshot_at if state and not snapshot_outdated else "",
                    fed=fed_articles(site, urls))
        if kept is not None:
            kept.state, kept.site, kept.model_notes, kept.plan = new, site, model_notes, plan
        else:
            # A model taken up and changed in shape is saved by a forked child (resume.
            # SnapshotWriter), forked when nothing is left to do but to exit: forked
            # before rendering, it made this process copy every page of the model it
            # touched afterwards (15,000 copy-on-write faults in a tag edit at 10k). A
            # model made afresh is saved with the state (`save`).
            forked = resumed is not None and snapshot_outdated and folder is not None
            rows = page_rows(site, stale, records, plan, fingerprints)

            # When this process ends with the build (the CLI's), a child writes what
            # only the next build reads once the site is swapped in: the whole state of
            # a build made from nothing (its snapshot too: the child's memory peak was
            # 5% above this process's at 100,000 articles), the state file and stamp of
            # any other.
            detach = partial(start_state_writer, folder) \
                if folder is not None and exits_after_build() else None

            def save() -> None:
                if snapshot_outdated and folder is not None and not forked:
                    new.snapshot_at = save_snapshot(folder, site, plan, model_notes, indexed
                                                    if config.search else None, settings,
                                                    salt)
                save_state(config, new, state, rows,
                           detach=detach if state is not None else None)

            if forked:
                new.snapshot_at = snapshot_token()
            if not (detach is not None and state is None and detach(save)):
                save()
            if forked:
                assert folder is not None
                start_snapshot(folder, site, plan, model_notes, config.search, settings,
                               salt, new.snapshot_at)
        lap("save state")
    if kept is None:  # (serve keeps what it needs and builds again: it must free the rest)
        spare(locals())  # (the state, model and plan: see collector.spare)
    return BuildResult(site, pages, staging.files, time.perf_counter() - started, warnings,
                       output, staging.paths, [output_file(o.site_path) for o in stale],
                       held_back=held, notes=notes, timings=lap.laps)


CHEAP_TWIN = 256  # files to bring up to date before a twin is worth making afresh


def prepare_twin(output: Path, kept: KeptState) -> bool:
    """Give a site kept in memory (serve) a twin equal to it ahead of the next edit, in
    idle time, when it has none or one that differs in many files (serve's first build,
    a change of template): that edit then rewrites a few files instead of linking the
    whole site (a second at 10,000 articles). True when a twin was made."""
    state = kept.state
    if state is None or not output.is_dir() or read_marker(output) != state.stamp.output \
            or (state.twin_differs is not None and len(state.twin_differs) <= CHEAP_TWIN):
        return False
    twin = twin_path(output, None)
    try:
        make_twin(output, twin)
    except OSError:  # a full disk: the first edit will stage the whole site instead
        return False
    kept.state = replace(state, twin_differs=set(), twin=folder_identity(twin))
    return True


def check_clashes(plan: OutputPlan, listed: list[tuple[str, str, str]],
                  statics: Mapping[str, Path], config: Config,
                  diagnostics: Diagnostics) -> None:
    """An alias or a static file must not take the place of a page digest makes (the
    home page, a feed, /topics/): that would silently replace it. (A plan restored
    from a snapshot has the files of the last build, which had no clash.)"""
    made: dict[str, Output] = {}
    for output in plan.made():
        relative = output_file(output.site_path)
        first = made.setdefault(relative, output)
        if first is output:
            continue
        alias = output if output.template == "redirect.html" else first
        other = first if alias is output else output
        if alias.template != "redirect.html":  # an article's own URL (permalink "/{slug}/")
            article, other = (first, output) if first.template == "article.html" \
                else (output, first)
            if article.template != "article.html":  # (two pages digest makes: never)
                raise AssertionError(f"two outputs at {relative}")
            page: ArticlePage = article.context["page"]
            diagnostics.error(page.article.path, *page.article.slug_position,
                              f"the article's URL '/{article.site_path}' would replace the "
                              f"page digest makes there ({other.template})",
                              "give the article another 'slug:' (or change `permalink`)")
            continue
        page = alias.context["target"]
        line, column = page.article.slug_position
        what = ("another alias" if other.template == "redirect.html"
                else f"the page digest makes there ({other.template})")
        diagnostics.error(page.article.path, line, column,
                          f"alias '/{alias.site_path}' would replace {what}",
                          "remove the alias or change it to an address of its own")
    templates = {relative: template for relative, _, template in listed}
    for relative, path in statics.items():
        if relative in templates:
            diagnostics.error(display_path(path, config.root), 0, 0,
                              f"'{relative}' would replace a page digest makes",
                              "rename the file; to change that page, override its template "
                              f"in templates/ ({templates[relative]})")


def write_static_files(config: Config, statics: Mapping[str, Path],
                       staging: Staging | TwinUpdate, salt: bytes, scanned_ns: int,
                       previous: Mapping[str, bytes], fingerprints: dict[str, bytes]
                       ) -> None:
    """Static files, unchanged ones kept: a file is known by its stat, or by its bytes
    while its stat is too recent to trust (state.RACY_NS)."""
    for relative, path in statics.items():
        stat = path.stat()
        shown = repr((str(path), stat.st_mtime_ns, stat.st_size)).encode() \
            if stat.st_mtime_ns < scanned_ns - RACY_NS else path.read_bytes()
        fingerprints[relative] = fingerprint_bytes(salt, relative, shown)
        if previous.get(relative) == fingerprints[relative]:
            staging.keep(relative)
        else:
            staging.write(relative, path.read_bytes())
    # GitHub Pages: serve files as they are (no Jekyll), on a custom domain if set.
    staging.write(".nojekyll", b"")
    if config.cname:
        staging.write("CNAME", config.cname.encode() + b"\n")


def write_search_index(site: Site, store: MarkdownCache, staging: Staging | TwinUpdate,
                       last: IndexState | None, previous: Mapping[str, bytes],
                       fingerprints: dict[str, bytes], kept: Documents | None,
                       edited: list[ArticlePage] | None,
                       early: tuple[Documents, FreshPostings] | None = None
                       ) -> tuple[IndexState, Documents]:
    """The search files, written as they are made: updated from `last` when there is
    one, unchanged ones kept. Also the documents, for serve to keep (`kept`, `edited`:
    see indexer.index_documents; `early`: the documents and their postings, started
    by start_search_index)."""
    def emit(relative: str, data: bytes | None) -> None:
        if data is None:
            staging.keep(relative)
            fingerprints[relative] = previous[relative]
        else:
            staging.write(relative, data)
            fingerprints[relative] = hashlib.blake2b(data, digest_size=16).digest()
    try:
        indexed = early[0] if early else index_documents(site, kept, edited)
        return write_index(site, store, emit, last, lambda relative: relative in previous,
                           indexed, early[1] if early else None), indexed
    except IndexLimitError as error:
        raise BuildError([Diagnostic(site.config.content_dir, 0, 0, str(error),
                                     hint="spread the articles over more days")]) from None


def start_search_index(site: Site, store: MarkdownCache, underway: ExitStack
                       ) -> tuple[Documents, FreshPostings] | None:
    """A search index made afresh needs nothing but the model: its workers start now
    and run beside the output plan and the rendering, which leave a core idle in their
    serial steps (a cold 10k build: 1.3 s sooner). Stopped when `underway` closes."""
    try:
        documents = index_documents(site)
    except IndexLimitError:
        return None  # reported where the index is written (write_search_index)
    return documents, underway.enter_context(FreshPostings(documents.sources, store))


def existing_outputs(state: State | None, output: Path | None, twin: Path | None
                     ) -> dict[str, bytes]:
    """The previous build's fingerprints of the files still in the output folder (a
    file deleted by hand, or a folder replaced since, is simply made again). With a
    twin to update, only the files it differs in are looked for: the others are in the
    twin as they were in the site, and come back with it."""
    if state is None or output is None or state.stamp.output != read_marker(output):
        return {}
    if usable_twin(twin, state):
        assert state.twin_differs is not None
        missing = [relative for relative in state.twin_differs
                   if relative in state.outputs and not regular_file(output / relative)]
        return {relative: value for relative, value in state.outputs.items()
                if relative not in missing} if missing else state.outputs
    # One look per known file, relative to the folder: a tenth of the time of walking
    # its 16,000 folders at 10,000 articles. (Without a twin only a staged site is
    # written, which links the files it keeps from this one: a link left in a page's
    # place is not one.)
    if os.stat not in os.supports_dir_fd:
        return {relative: value for relative, value in state.outputs.items()
                if regular_file(output / relative)}
    folder = os.open(output, os.O_RDONLY | os.O_DIRECTORY)
    try:
        there = partial(regular_file, folder=folder)
        names = list(state.outputs)
        return {relative: state.outputs[relative]
                for relative, found in zip(names, map(there, names), strict=True) if found}
    finally:
        os.close(folder)


def choose_writer(output: Path | None, twin: Path | None, state: State | None,
                  previous: dict[str, bytes]) -> Staging | TwinUpdate:
    """Update the twin when the last build left one that is known file by file, else
    stage a complete new site."""
    if output is not None and twin is not None and state is not None and previous \
            and usable_twin(twin, state):
        assert state.twin_differs is not None
        return TwinUpdate(output, twin, state.twin_differs, state.site_files)
    return Staging(output, twin)


def page_rows(site: Site, stale: list[Output], records: Mapping[str, FileRecord],
              plan: OutputPlan, fingerprints: Mapping[str, bytes]) -> PageRows:
    """The rows of the article pages rendered now (express.py), or of every page when
    the database is written afresh."""
    sides = Sides(plan.shows.cards)

    def row(page: ArticlePage, edition: Any) -> bytes:
        return page_row(page, edition, fingerprints[output_file(page.url)],
                        not records[page.article.path].diagnostics, sides, site.by_source)
    return PageRows(lambda: {output.context["page"].article.path:
                             row(output.context["page"], output.context["edition"])
                             for output in stale if output.template == "article.html"},
                    lambda: ((page.article.path, row(page, site.edition_of(page)))
                             for page in site.articles))


def held_back_summary(site: Site) -> tuple[int, int, tuple[datetime, str] | None]:
    reasons = Counter(h.reason for h in site.held_back)
    due = site.next_due
    return (reasons["draft"], reasons["scheduled"],
            (due.date.astimezone(site.config.tz), due.path) if due else None)
