"""Taking up the last build's model and output plan instead of making them again
(issue 8): serve's, kept in memory (state.KeptState), or the one the last CLI build saved
(snapshot.py). When every changed file is an article that keeps its shape
(model.shape), or that only moves between topics (refile.py), the edited
articles are put into that model in place (model.patch_site) and only the output units
that show one of them (or the lists they moved between) are made again
(plan.OutputPlan); anything else makes a new model and plan, as a clean build does."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from digest.collector import fork_detached
from digest.config import Config
from digest.content import FileRecord
from digest.depends import HashMemo, fingerprint_bytes, iso, shown_bytes
from digest.entries import Article, EditionNote
from digest.errors import Diagnostic
from digest.model import ArticlePage, RelatedMemo, Selection, Site, patch_site, shape
from digest.plan import Output, OutputPlan
from digest.refile import Refiling, plan_moves, refile
from digest.search.indexer import Document, Documents, assign_ids
from digest.snapshot import freeze, pending_path, publish, thaw
from digest.snapshot import load as load_snapshot
from digest.snapshot import save as store_snapshot
from digest.snapshot import write as write_snapshot
from digest.state import PENDING_STATE, KeptState, State, state_folder
from digest.urls import Urls, output_file


@dataclass
class Resumed:
    """A model taken up from the last build, with the edited articles put in."""

    site: Site
    notes: list[Diagnostic]  # what making it reported
    edited: list[ArticlePage]
    retitled: bool  # a timeline was made again or articles were moved (refiling): the
    # saved snapshot is out of date
    plan: OutputPlan | None = None  # the output plan restored with it (snapshot)
    ids: list[int] = field(default_factory=list)  # search ids by page (snapshot)
    refiling: Refiling | None = None  # what moving re-tagged articles changed


def put_in(site: Site, changed: list[Article], memo: RelatedMemo | None
           ) -> tuple[bool, Refiling | None] | None:
    """Put `changed` into `site` in place: re-tagged articles moved between topics
    (refile.py), then every edited article patched in (model.patch_site). Whether a
    timeline was made again, and the refiling; None (the model untouched) when a
    new model is needed."""
    moves = plan_moves(site, changed)
    if moves is None:
        return None
    retitled = patch_site(site, changed, retagged=bool(moves))
    if retitled is None:
        return None
    return bool(retitled), refile(site, moves, memo) if moves else None


def changed_articles(state: State | None, records: Mapping[str, FileRecord], settings: str,
                     selection: Selection) -> list[Article] | None:
    """The articles that changed since `state`, when nothing else did (no other file,
    no setting, no article coming due): the edits a kept or saved model may take in.
    None otherwise."""
    if state is None or state.stamp.settings != settings \
            or not state.stamp.publishes_same(selection.now) \
            or records.keys() != state.files.keys():
        return None
    changed = []
    for path, record in records.items():
        before = state.files[path]
        if record.entry is before.entry:
            continue
        if not isinstance(record.entry, Article) or not isinstance(before.entry, Article):
            return None
        changed.append(record.entry)
    return changed


def kept_site(kept: KeptState, state: State | None, changed: list[Article] | None,
              config: Config, memo: RelatedMemo | None) -> Resumed | None:
    """The model serve kept from its last build, with `changed` put in (in place) when
    each keeps its shape (model.shape); with what making it reported, the edited pages
    and whether a timeline was made again. None: build the model afresh."""
    site = kept.site
    if site is None or changed is None or state is None or kept.state is not state:
        return None
    patched = put_in(site, changed, memo)
    if patched is None:
        return None
    retitled, refiling = patched
    site.config = config  # equal settings; a new object for each build
    return Resumed(site, kept.model_notes, edited_pages(site, changed),
                   retitled or refiling is not None, refiling=refiling)


def restore(state: State | None, changed: list[Article] | None, config: Config,
            settings: str, salt: bytes, urls: Urls, memo: RelatedMemo | None,
            selection: Selection) -> Resumed | None:
    """The model the last CLI build saved (snapshot.py), with `changed` put in: as
    `kept_site` does for serve."""
    folder = state_folder(config)
    if state is None or changed is None or not state.snapshot_at or folder is None:
        return None
    for article in changed:  # (before reading the snapshot: a new tag needs a new model)
        before = state.files[article.path].entry
        if not isinstance(before, Article) or \
                shape(before, with_tags=False) != shape(article, with_tags=False):
            return None
    saved = load_snapshot(folder, state.snapshot_at)
    if saved is None or saved.settings != settings or saved.salt != salt:
        return None
    try:
        entries = [record.entry for record in state.files.values()]
        site = thaw(saved, config, {e.path: e for e in entries if isinstance(e, Article)},
                    [e for e in entries if isinstance(e, EditionNote)], selection)
    except KeyError:
        return None
    patched = put_in(site, changed, memo)
    if patched is None:
        return None
    retitled, refiling = patched
    try:
        plan = OutputPlan(site, urls, None, saved.plan,
                          refiling is not None and refiling.relaid)
    except ValueError:
        return None
    if refiling is not None:  # the plan was carried over to the new units above
        refiling = replace(refiling, relaid=False, listed=True)
    plan.salt = salt  # (equal to the snapshot's)
    return Resumed(site, saved.notes, edited_pages(site, changed),
                   retitled or refiling is not None, plan, saved.ids, refiling)


def edited_pages(site: Site, changed: list[Article]) -> list[ArticlePage]:
    paths = {article.path for article in changed}
    return [page for page in site.articles if page.article.path in paths]


def output_plan(site: Site, urls: Urls, salt: bytes, kept: KeptState | None,
                resumed: Resumed | None, state: State | None
                ) -> tuple[OutputPlan, dict[str, bytes]]:
    """Every output's plan and fingerprint: a kept (serve) or restored (snapshot) plan
    with the units that show the edited articles made again, or a new plan."""
    restored = resumed.plan if resumed is not None else None
    edited = resumed.edited if resumed is not None else None
    plan = kept.plan if kept is not None else restored
    if plan is not None and edited is not None and plan.site is site and plan.salt == salt:
        if restored is not None:
            assert state is not None
            try:
                # (no unit is made yet: the saved files are every output's)
                assert plan.saved is not None
                plan.fingerprints = {relative: state.outputs[relative]
                                     for relative in plan.saved.files}
            except KeyError:  # an output the last build did not make: make them all
                plan = None
        if plan is not None:
            fingerprints = dict(plan.fingerprints)
            refiling = resumed.refiling if resumed else None
            for output in plan.refresh(edited, refiling):
                fingerprints[output_file(output.site_path)] = fingerprint(salt, output)
            if refiling is not None and refiling.relaid:  # the units a plan lost go
                fingerprints = {relative: fingerprints[relative]
                                for relative, _, _ in plan.files()}
            plan.salt, plan.fingerprints = salt, dict(fingerprints)
            return plan, fingerprints
    hashes = None
    if kept is not None:
        hashes = kept.hashes = kept.hashes or HashMemo()
        hashes.start()
    plan = OutputPlan(site, urls, hashes)
    fingerprints = {output_file(o.site_path): fingerprint(salt, o, hashes)
                    for o in plan.outputs}
    plan.salt, plan.fingerprints = salt, dict(fingerprints)
    return plan, fingerprints


def stale_outputs(plan: OutputPlan, listed: list[tuple[str, str, str]],
                  previous: Mapping[str, bytes], fingerprints: dict[str, bytes],
                  salt: bytes) -> list[Output]:
    """The outputs to render: those whose fingerprint is not the one of the file in
    the output folder (changed, new, or deleted by hand), made if the plan had not."""
    due = {relative for relative, _, _ in listed
           if previous.get(relative) != fingerprints[relative]}
    made = {output_file(o.site_path): o for o in plan.made()}
    if not due <= made.keys():
        for output in plan.make_files(due - made.keys()):
            made[output_file(output.site_path)] = output
            fingerprints[output_file(output.site_path)] = fingerprint(salt, output)
    return [made[relative] for relative, _, _ in listed if relative in due]


def saved_documents(site: Site, state: State | None, resumed: Resumed | None
                    ) -> Documents | None:
    """The search documents of a model restored from a snapshot: ids from it, sources
    and metadata from the last index (indexer.index_documents makes the edited ones)."""
    if resumed is None or state is None or state.search is None:
        return None
    ids = resumed.ids
    if not ids or len(ids) != len(site.articles):
        return None
    documents = sorted((Document(number, page) for number, page in zip(ids, site.articles,
                                                                        strict=True)),
                       key=lambda document: document.id)
    search = state.search
    if search.ids != array("i", (document.id for document in documents)) or search.shift < 0:
        return None  # (the index the state holds is of other documents)
    return Documents(site, documents, search.sources, ChunkMetadata(search.chunks, search.shift))


class ChunkMetadata(Mapping[int, list[Any]]):
    """The metadata of each document of the last index, read from the chunk holding it
    only when asked for (search/store.py reads a chunk's row then)."""

    def __init__(self, chunks: Mapping[int, tuple[dict[str, Any], str]], shift: int) -> None:
        self.chunks, self.shift = chunks, shift

    def __getitem__(self, identifier: int) -> list[Any]:
        found: list[Any] = self.chunks[identifier >> self.shift][0][str(identifier)]
        return found

    def __iter__(self) -> Iterator[int]:
        return (int(key) for members, _ in self.chunks.values() for key in members)

    def __len__(self) -> int:
        return sum(len(members) for members, _ in self.chunks.values())


def save_snapshot(folder: Path, site: Site, plan: OutputPlan, notes: list[Diagnostic],
                  indexed: Documents | None, settings: str, salt: bytes) -> str:
    ids = {id(document.page): document.id for document in indexed.documents} \
        if indexed is not None else {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return store_snapshot(folder, freeze(site, plan, notes, ids, settings, salt))
    except OSError:  # the next edit makes the model afresh
        return ""


class SnapshotWriter:
    """The snapshot of a model an edit changed in shape (re-tagged articles, a headline
    a timeline holds), written by a forked child as Redis's BGSAVE writes its: the
    child sees the model as it was at the fork. It is forked once the build is done and
    has saved its state (which names the snapshot's token), and is not waited for: it
    publishes the snapshot (renames it into place) when written, and the next build
    that wants it waits for that (snapshot.load). Saving it after rendering cost a tag
    edit at 10,000 articles 0.17 s; forked before rendering, the child made the build
    copy each page of the model the build touched afterwards."""

    def __init__(self, token: str, pid: int) -> None:
        self.token = token
        self.pid = pid

    def wait(self) -> None:
        """Wait until the child is done (tests)."""
        if self.pid:
            with suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0


def snapshot_token() -> str:
    """The name of a snapshot still to be written (the state names it first)."""
    return os.urandom(8).hex()


def start_snapshot(folder: Path, site: Site, plan: OutputPlan, notes: list[Diagnostic],
                   search: bool, settings: str, salt: bytes, token: str) -> None:
    """Save the snapshot `token` names: in a forked child (SnapshotWriter), or here
    where no child can be forked. The search ids are those `assign_ids` gives the
    model, as every index of it has (they follow from the articles' dates and URLs
    alone)."""
    if fork_snapshot(folder, site, plan, notes, search, settings, salt, token) is not None:
        return
    ids = {id(d.page): d.id for d in assign_ids(site.articles)} if search else {}
    with suppress(OSError):  # (none then: the next edit makes the model afresh)
        folder.mkdir(parents=True, exist_ok=True)
        store_snapshot(folder, freeze(site, plan, notes, ids, settings, salt), token)


def fork_snapshot(folder: Path, site: Site, plan: OutputPlan, notes: list[Diagnostic],
                  search: bool, settings: str, salt: bytes, token: str
                  ) -> SnapshotWriter | None:
    """Fork the child that writes the snapshot; None where it cannot be forked."""
    pending = pending_path(folder, token)  # (written, then published by renaming it)

    def write() -> None:
        ids = {id(d.page): d.id for d in assign_ids(site.articles)} if search else {}
        write_snapshot(pending, freeze(site, plan, notes, ids, settings, salt), token)
        publish(folder, pending)
    pid = fork_detached(pending, write)
    return SnapshotWriter(token, pid) if pid is not None else None


def start_state_writer(folder: Path, save: Callable[[], None]) -> bool:
    """`save` (what only the next build reads: the whole state and snapshot of a build
    made from nothing, the state file and stamp of others) in a forked child that
    outlives the build, as SnapshotWriter does: 1 s of a cold build at 10,000 articles
    (7% of it), and the site is complete and swapped in by then. The next build waits
    for it (state.py's PENDING_STATE). False where no child can be forked: the caller
    saves."""
    return fork_detached(folder / PENDING_STATE, save) is not None


def fingerprint(salt: bytes, output: Output, hashes: HashMemo | None = None) -> bytes:
    def compute() -> bytes:
        return fingerprint_bytes(salt, output.site_path, shown_bytes(
            (output.template, iso(output.lastmod), output.depends)))
    if hashes is None:
        return compute()
    return hashes.hash((salt, output.site_path, output.template, output.lastmod,
                        output.depends), compute)
